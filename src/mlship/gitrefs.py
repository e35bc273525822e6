"""Reading a repository through git: the merge base with ``main`` and files as committed there.

Shared by the gates (the baseline metrics) and the PR report (everything at the base). In a CI checkout the
branch ``main`` usually exists only as ``origin/main``, so a ref is tried as given and then under ``origin/``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


class ShallowCloneError(RuntimeError):
    """The clone lacks the history needed to find the merge base."""


def git(args: list[str], repo: Path) -> str | None:
    """``git <args>`` in ``repo``: its stdout, or ``None`` when git fails or is not installed."""
    try:
        result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def show(commit: str, path: Path | str, repo: Path) -> str | None:
    """The text of ``path`` as committed at ``commit`` (``None`` when it is not there)."""
    posix = path.as_posix() if isinstance(path, Path) else path
    try:
        result = subprocess.run(
            ["git", "show", f"{commit}:{posix}"], cwd=repo, capture_output=True, check=False
        )
    except FileNotFoundError:
        return None
    return result.stdout.decode("utf-8") if result.returncode == 0 else None


def is_shallow(repo: Path) -> bool:
    return git(["rev-parse", "--is-shallow-repository"], repo) == "true"


def resolve(ref: str, repo: Path) -> str | None:
    """The commit ``ref`` names, trying ``origin/<ref>`` when the local branch does not exist."""
    for candidate in (ref, f"origin/{ref}"):
        commit = git(["rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}"], repo)
        if commit:
            return commit
    return None


def merge_base(ref: str, repo: Path) -> str | None:
    """``git merge-base HEAD <ref>`` (or ``origin/<ref>``); ``None`` when there is none."""
    commit = resolve(ref, repo)
    if commit is None:
        return None
    return git(["merge-base", "HEAD", commit], repo)


def head(repo: Path) -> str | None:
    return git(["rev-parse", "HEAD"], repo)
