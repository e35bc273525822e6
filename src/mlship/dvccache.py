"""Find a DVC output as committed elsewhere: its md5 in that commit's ``dvc.lock``, its bytes in the cache.

DVC 3 keeps a file output under ``<cache dir>/files/md5/<first 2 hex>/<other 30 hex>``; the cache directory
is ``.dvc/cache`` unless ``cache.dir`` is set in ``.dvc/config`` or ``.dvc/config.local`` (relative to
``.dvc/``). The workflows restore that directory, so the outputs of the merge base's pipeline run are there
when it ran in CI (or on this machine). Nothing is fetched or guessed: a missing entry is reported as such.
"""

from __future__ import annotations

import configparser
import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from mlship import gitrefs


@dataclass(frozen=True)
class Lookup:
    """The file's text (``None`` when not found) and where it came from, or why it was not found."""

    text: str | None
    note: str


def output_md5(lock_text: str | None, path: Path) -> str | None:
    """The md5 ``dvc.lock`` records for the output at ``path`` (any stage)."""
    if lock_text is None:
        return None
    try:
        lock = yaml.safe_load(lock_text) or {}
    except yaml.YAMLError:
        return None
    stages = lock.get("stages") if isinstance(lock, dict) else None
    for stage in (stages or {}).values():
        for out in (stage or {}).get("outs") or []:
            if isinstance(out, dict) and out.get("path") == path.as_posix():
                digest = out.get("md5")
                return str(digest) if digest else None
    return None


def cache_dir(repo: Path) -> Path:
    """The local cache directory DVC uses in ``repo`` (``cache.dir`` honoured, local config first)."""
    directory = repo / ".dvc" / "cache"
    for name in ("config", "config.local"):
        parser = configparser.ConfigParser()
        try:
            parser.read(repo / ".dvc" / name, encoding="utf-8")
        except configparser.Error:
            continue
        if parser.has_option("cache", "dir"):
            directory = (repo / ".dvc" / parser.get("cache", "dir")).resolve()
    return directory


def cache_path(cache: Path, md5: str) -> Path:
    return cache / "files" / "md5" / md5[:2] / md5[2:]


def at_commit(commit: str, path: Path, repo: Path) -> Lookup:
    """The DVC output ``path`` as recorded in ``dvc.lock`` at ``commit``, read from the local cache."""
    found, _, note = file_at_commit(commit, path, repo)
    if found is None:
        return Lookup(None, note)
    return Lookup(found.read_text(encoding="utf-8"), note)


def file_at_commit(commit: str, path: Path, repo: Path) -> tuple[Path | None, str | None, str]:
    """The DVC cache's file of output ``path`` as ``dvc.lock`` at ``commit`` records it (md5-verified), its
    md5, and where it came from or why it was not found. For binary outputs (a model) read in place."""
    lock = gitrefs.show(commit, "dvc.lock", repo)
    if lock is None:
        return None, None, f"no dvc.lock at {commit[:8]}"
    md5 = output_md5(lock, path)
    if md5 is None:
        return None, None, f"dvc.lock at {commit[:8]} records no `{path.as_posix()}`"
    found = cache_path(cache_dir(repo), md5)
    try:
        data = found.read_bytes()
    except OSError:
        return None, md5, f"`{path.as_posix()}` (md5 {md5[:12]}) is not in the DVC cache"
    if hashlib.md5(data, usedforsecurity=False).hexdigest() != md5:
        return None, md5, f"the DVC cache's copy of `{path.as_posix()}` (md5 {md5[:12]}) is corrupt"
    return found, md5, f"`{path.as_posix()}` md5 {md5[:12]} from the DVC cache"
