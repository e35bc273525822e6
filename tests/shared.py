"""Build an expensive test artifact once per test run, whichever pytest-xdist worker asks first.

Workers are separate processes: a session fixture runs once *per worker*. An artifact that is slow to make
and the same for every worker (a reproduced pipeline, a container image) is made by the first worker that
needs it, behind a file lock in the run's shared temporary directory; the others wait and reuse it.

Some artifacts are also *published* for the runs that follow on the same working tree (``once(...,
publish=True)``): `make test` builds the reproduced pipeline and the shipped image, `make test-template` the
fork setups, and `make bench-smoke` (``MLSHIP_TEST_REUSE=1``) takes them instead of building its own. A
published artifact is keyed by a fingerprint of the working tree (every file git would see, committed or
not) and of the interpreter, in ``$MLSHIP_TEST_STORE`` (default: ``mlship-tests-<uid>`` in the temporary
directory). `make test` and `make test-template` never reuse one: every run of them proves its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
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


#: Set by `make bench-smoke`: take a published artifact of the same working tree instead of building one.
REUSE_ENV = "MLSHIP_TEST_REUSE"
#: A published artifact older than this is deleted when a newer one of the same name is published (a run
#: that may still use it, on the same tree, started less than this long ago).
KEEP_PUBLISHED_S = 3 * 3600.0
#: Fingerprints not used for this long are deleted with everything published under them.
KEEP_FINGERPRINT_S = 2 * 86400.0
#: The run's services (registries) that outlive the worker which started them: the controller stops them.
SERVICES = "services.json"


def once(
    factory: pytest.TempPathFactory,
    name: str,
    build: Callable[[Path], Any],
    *,
    publish: bool = False,
) -> tuple[Path, Any]:
    """``build(directory)`` the first time any worker asks for ``name``; later calls get its directory and
    the JSON-able value it returned. A build that raised is retried by the next caller (nothing half-made
    is reused: the directory is emptied first).

    ``publish``: the directory lives in the store under the working tree's fingerprint and, once built, is
    published for later runs; with ``$MLSHIP_TEST_REUSE`` set, a published one is taken instead of building.
    The value may name podman images (``{"images": [...]}``): they are removed with the directory."""
    root = run_root(factory)
    done = root / f"shared-{name}.json"
    if publish:
        shelf = store() / fingerprint()
        shelf.mkdir(parents=True, exist_ok=True)
        directory = shelf / f"{name}-{run_id(root)}"
        lock = shelf / f"{name}.lock"
    else:
        shelf = None
        directory = root / f"shared-{name}"
        lock = root / f"shared-{name}.lock"
    with FileLock(str(lock)):
        if done.exists():
            record = json.loads(done.read_text(encoding="utf-8"))
            return Path(record["directory"]), record["value"]
        if shelf is not None and os.environ.get(REUSE_ENV):
            published = _published(shelf, name)
            if published is not None:
                done.write_text(json.dumps(published), encoding="utf-8")
                return Path(published["directory"]), published["value"]
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        value = build(directory)
        record = {"directory": str(directory), "value": value}
        done.write_text(json.dumps(record), encoding="utf-8")
        if shelf is not None:
            _publish(shelf, name, record)
        return directory, value


def store() -> Path:
    """Where published artifacts live: ``$MLSHIP_TEST_STORE``, else ``mlship-tests-<uid>`` in the temporary
    directory (not under a hidden directory such as ``~/.cache``: `bentoml build` refuses to read there)."""
    explicit = os.environ.get("MLSHIP_TEST_STORE")
    if explicit:
        return Path(explicit)
    return Path(tempfile.gettempdir()) / f"mlship-tests-{os.getuid()}"


def fingerprint(root: Path = ROOT) -> str:
    """The working tree as git sees it (tracked, modified and new files not ignored, by content) and this
    interpreter: two checkouts with the same fingerprint build the same artifacts."""
    names = sorted(
        name
        for name in git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
        if name and (root / name).is_file()
    )
    hashed = subprocess.run(
        ["git", "hash-object", "--stdin-paths"],
        cwd=root,
        input="\n".join(names),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    digest = hashlib.sha256(sys.executable.encode())
    for name, blob in zip(names, hashed, strict=True):
        digest.update(f"{name}\0{blob}\n".encode())
    return digest.hexdigest()[:16]


def run_id(root: Path) -> str:
    """One name per test run, the same in every worker of it."""
    stamp = f"{root.resolve()}:{root.stat().st_ino}".encode()  # (not its times: they change as it fills)
    return "run-" + hashlib.sha256(stamp).hexdigest()[:12]


def _published(shelf: Path, name: str) -> dict[str, Any] | None:
    pointer = shelf / f"{name}.json"
    if not pointer.exists():
        return None
    record: dict[str, Any] = json.loads(pointer.read_text(encoding="utf-8"))
    return record if Path(record["directory"]).is_dir() else None


def _publish(shelf: Path, name: str, record: dict[str, Any]) -> None:
    """Point ``name`` at the new directory (atomically), then delete what older runs published."""
    pointer = shelf / f"{name}.json"
    partial = pointer.with_suffix(".partial")
    partial.write_text(json.dumps(record), encoding="utf-8")
    partial.replace(pointer)
    now = time.time()
    for old in shelf.glob(f"{name}-run-*"):
        if old.is_dir() and str(old) != record["directory"] and now - old.stat().st_mtime > KEEP_PUBLISHED_S:
            _discard(old)
    for other in store().iterdir():
        if other != shelf and other.is_dir() and now - other.stat().st_mtime > KEEP_FINGERPRINT_S:
            for old in other.glob("*-run-*"):
                _discard(old)
            shutil.rmtree(other, ignore_errors=True)
    os.utime(shelf)


def _discard(directory: Path) -> None:
    """Delete a published directory and the podman images its record names."""
    images: Iterable[str] = []
    record = directory.parent / f"{directory.name}.images"
    if record.exists():
        images = record.read_text(encoding="utf-8").split()
    remove_images(images)
    record.unlink(missing_ok=True)
    shutil.rmtree(directory, ignore_errors=True)


def remember_images(directory: Path, images: Iterable[str]) -> None:
    """Record the podman images built for ``directory``: they are removed when it is discarded."""
    record = directory.parent / f"{directory.name}.images"
    known = set(record.read_text(encoding="utf-8").split()) if record.exists() else set()
    record.write_text("\n".join(sorted(known | set(images))) + "\n", encoding="utf-8")


def remove_images(images: Iterable[str]) -> None:
    names = list(images)
    if names:
        subprocess.run(["podman", "rmi", "--force", *names], check=False, capture_output=True)


def register_service(factory: pytest.TempPathFactory, kind: str, runtime: Path) -> None:
    """A service this run started for every worker (a registry): the controller stops it at the end."""
    root = run_root(factory)
    with FileLock(str(root / f"{SERVICES}.lock")):
        path = root / SERVICES
        services = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
        services.append({"kind": kind, "runtime": str(runtime)})
        path.write_text(json.dumps(services), encoding="utf-8")


def registered_services(root: Path) -> list[dict[str, str]]:
    path = root / SERVICES
    return list(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else []


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
    listed = git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    # (a file deleted in the working tree but not yet in git is still listed: it is not there)
    present = {name for name in listed if name and (root / name).is_file()}
    tracked = set(git(target, "ls-files", "-z").split("\0"))
    for name in present:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target / name)
    for name in filter(None, tracked - present):
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
