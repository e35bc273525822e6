"""``mlship refresh-data``: bring the configured data source up to date before a retraining run.

* a ``file`` source that is a DVC import (``dvc import-url`` / ``dvc import``: its ``.dvc`` file has
  ``deps``) is updated with ``dvc update``; when its content changed, ``data.source.sha256`` in
  ``params.yaml`` is set to the new hash (only that string is replaced: comments and layout stay), so
  ``ingest`` accepts the new data and the pull request shows the change;
* a ``package`` source is a file inside a pinned wheel, and a ``file`` source that is not an import is
  committed by whoever changes it: there is nothing to fetch; ``make run`` re-ingests them as they are.

Re-running changes nothing once the source is current.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from mlship.config import DataConfig, FileSource
from mlship.data.ingest import SourceError, sha256_of


@dataclass(frozen=True)
class Refresh:
    action: Literal["updated", "unchanged", "as-is"]
    message: str


def dvc_file(path: Path) -> Path:
    return path.with_name(path.name + ".dvc")


def is_import(dvcfile: Path) -> bool:
    """A ``.dvc`` file written by ``dvc import-url``/``dvc import`` (it records where the data came from)."""
    if not dvcfile.is_file():
        return False
    document = yaml.safe_load(dvcfile.read_text(encoding="utf-8"))
    return isinstance(document, dict) and bool(document.get("deps"))


def _dvc() -> str:
    return shutil.which("dvc") or str(Path(sys.executable).with_name("dvc"))


def set_sha256(params_path: Path, old: str, new: str) -> None:
    """Replace the one occurrence of the old hash in ``params.yaml`` (atomic write)."""
    text = params_path.read_text(encoding="utf-8")
    if text.count(old) != 1:
        raise SourceError(
            f"{params_path}: expected data.source.sha256 {old} exactly once; set it to {new} by hand"
        )
    partial = params_path.with_name(params_path.name + ".partial")
    partial.write_text(text.replace(old, new), encoding="utf-8")
    partial.replace(params_path)


def refresh(config: DataConfig, params_path: Path) -> Refresh:
    source = config.source
    if not isinstance(source, FileSource):
        return Refresh(
            "as-is",
            f"package source {source.package}:{source.path} is pinned by the lock file (updates arrive as "
            "dependency pull requests); `make run` re-ingests it",
        )
    dvcfile = dvc_file(source.path)
    if not is_import(dvcfile):
        return Refresh(
            "as-is",
            f"file source {source.path} is not a DVC import ({dvcfile} has no deps): nothing to update; "
            "`make run` re-ingests it",
        )
    result = subprocess.run(
        [_dvc(), "update", "--quiet", str(dvcfile)], capture_output=True, text=True, check=False
    )
    if result.returncode:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise SourceError(f"dvc update {dvcfile} failed: {detail[-1] if detail else result.returncode}")
    new = sha256_of(source.path)
    if new == source.sha256:
        return Refresh("unchanged", f"{source.path} is current (sha256 {new})")
    set_sha256(params_path, source.sha256, new)
    where = f"data.source.sha256 in {params_path}"
    return Refresh("updated", f"{source.path} updated: sha256 {source.sha256} -> {new} ({where})")
