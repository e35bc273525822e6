"""Build an expensive test artifact once per test run, whichever pytest-xdist worker asks first.

Workers are separate processes: a session fixture runs once *per worker*. An artifact that is slow to make
and the same for every worker (a reproduced pipeline, a container image) is made by the first worker that
needs it, behind a file lock in the run's shared temporary directory; the others wait and reuse it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from filelock import FileLock

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def run_root(factory: pytest.TempPathFactory) -> Path:
    """The directory every worker of this run shares (the base temp dir without xdist)."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def once(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], Any]) -> tuple[Path, Any]:
    """``build(directory)`` the first time any worker asks for ``name``; later calls get its directory and
    the JSON-able value it returned. A build that raised is retried by the next caller (nothing half-made
    is reused: the directory is emptied first)."""
    root = run_root(factory)
    directory = root / f"shared-{name}"
    done = root / f"shared-{name}.json"
    with FileLock(str(root / f"shared-{name}.lock")):
        if done.exists():
            return directory, json.loads(done.read_text(encoding="utf-8"))
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        value = build(directory)
        done.write_text(json.dumps(value), encoding="utf-8")
        return directory, value


def tools_env(**extra: str) -> dict[str, str]:
    """A subprocess environment with this run's tools (dvc, mlship, bentoml) first on PATH."""
    env = {**os.environ, **extra}
    env["PATH"] = os.pathsep.join([str(VENV_BIN), env.get("PATH", "")])
    return env


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout


def clone_working_tree(target: Path, root: Path = ROOT, branch: str = "pr") -> Path:
    """A clone of ``root`` whose HEAD is a commit of its current working tree (tracked, modified and new
    files that are not ignored), on ``branch``; ``main`` exists only as ``origin/main``, as in a GitHub
    Actions checkout of a pull request."""
    git(target.parent, "clone", "-q", "--no-local", str(root), str(target))
    git(target, "checkout", "-q", "-B", branch)
    files = git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    tracked = set(git(target, "ls-files", "-z").split("\0"))
    for name in filter(None, files):
        source = root / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    for name in filter(None, tracked - set(files)):
        (target / name).unlink(missing_ok=True)
    git(target, "add", "-A")
    git(
        target,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "working tree",
    )
    return target


def use_cache(clone: Path, cache: Path) -> None:
    """Point a clone's DVC cache at ``cache`` (``.dvc/config.local``, git-ignored): what one run computed,
    another restores; files are copied out of it, so a clone's edits never reach the cache."""
    result = subprocess.run(
        ["dvc", "cache", "dir", "--local", str(cache)],
        cwd=clone,
        env=tools_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@dataclass(frozen=True)
class Reproduced:
    """A clone of the working tree where `dvc repro` ran from scratch, once per test run.

    ``path`` is shared by every test of the run: read it, never change it (``copy_to`` gives a private
    copy). ``cache`` is its DVC cache, run-cache included: a clone pointed at it (``tests.shared.use_cache``)
    restores unchanged stages instead of running them, as CI's restored ``.dvc/cache`` does.
    """

    path: Path
    cache: Path
    #: What `dvc repro` printed, and `git status --porcelain` right after it.
    output: str
    status: str

    def copy_to(self, target: Path) -> Path:
        """A private copy of the reproduced clone (work tree, outputs and git), sharing the DVC cache."""
        shutil.copytree(self.path, target, symlinks=True)
        return target
