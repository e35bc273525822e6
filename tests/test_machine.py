"""A newcomer's machine: `tools/machine.sh` and the make targets that call it before any work.

The unprivileged cases run as the `nobody` user (setpriv) with a PATH that holds only the shell tools the
script and make themselves use, so every tool a test needs is missing there, as on a fresh machine.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The programs the script and make need to start (a fresh Debian has them: coreutils, bash, make).
BASICS = ("bash", "env", "id", "grep", "dirname", "cat", "make", "sh", "mkdir", "rm")
NOBODY = 65534
CONTAINER_TOOLS = (
    "podman",
    "buildah",
    "skopeo",
    "docker-registry",
    "runc",
    "debootstrap",
    "newuidmap",
    "gpg",
)


@pytest.fixture
def bare_machine() -> Iterator[Path]:
    """A world-readable copy of the Makefile and the machine scripts, and a bin/ with only the basics."""
    root = Path(tempfile.mkdtemp(prefix="mlship-bare-", dir="/tmp"))
    try:
        for name in ("Makefile", "tools/machine.sh", "deploy/local/install.sh", "pyproject.toml", "uv.lock"):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, root / name)
        bin_dir = root / "bin"
        bin_dir.mkdir()
        for program in BASICS:
            found = shutil.which(program)
            assert found, f"{program} is not on this machine"
            (bin_dir / program).symlink_to(found)
        for path in [root, *root.rglob("*")]:
            mode = path.lstat().st_mode
            if not stat.S_ISLNK(mode):
                path.chmod(mode | stat.S_IROTH | stat.S_IXOTH)
        yield root
    finally:
        shutil.rmtree(root)


def _as_nobody(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(root / "bin"), "HOME": str(root), "LANG": "C.UTF-8"}
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is needed to run as an unprivileged user"
    command = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *args]
    return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=False, timeout=60)


def test_without_root_the_check_names_the_missing_tools_and_the_one_command(bare_machine: Path) -> None:
    # given a machine without the container tools and a user who may not install anything
    # when the container tools are required
    result = _as_nobody(bare_machine, "bash", "tools/machine.sh", "containers")
    # then it stops with one line naming each missing tool and the single command that installs them
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert all(tool in lines[0] for tool in CONTAINER_TOOLS)
    assert lines[0].endswith("install them once with: sudo deploy/local/install.sh")
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("target", "named"),
    [
        pytest.param("test", ("node", "curl", "podman"), id="make test"),
        pytest.param("image", ("podman", "debootstrap"), id="make image"),
        pytest.param("rollback", ("podman", "skopeo"), id="make rollback"),
    ],
)
def test_make_stops_before_any_work_when_it_cannot_install(
    bare_machine: Path, target: str, named: tuple[str, ...]
) -> None:
    # given the same machine / when a target that needs the system tools runs
    result = _as_nobody(bare_machine, "make", target, "ENV=production")
    # then make stops at the check: the message, and nothing else ran (no environment set up, no uv)
    assert result.returncode != 0
    assert "install them once with: sudo deploy/local/install.sh" in result.stderr
    assert all(tool in result.stderr for tool in named)
    assert "uv" not in result.stdout
    assert not (bare_machine / ".venv").exists()
    assert "command not found" not in result.stderr
    assert "Traceback" not in result.stderr


def test_make_test_unit_needs_no_container_tool(bare_machine: Path) -> None:
    # given node is the only group `make test-unit` asks for
    # when it runs on the bare machine as nobody
    result = _as_nobody(bare_machine, "make", "test-unit")
    # then the message names node and npm only: no container tool is required
    assert result.returncode != 0
    assert "node npm;" in result.stderr
    assert not any(tool in result.stderr for tool in CONTAINER_TOOLS)


def test_on_a_ready_machine_the_check_is_silent(repo_root: Path) -> None:
    # given this machine, which `make test` has set up / when every group is checked
    result = subprocess.run(
        ["bash", "tools/machine.sh", "node", "tests", "containers"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ},
    )
    # then nothing is printed and nothing is installed
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_an_unknown_group_is_a_usage_error(repo_root: Path) -> None:
    result = subprocess.run(
        ["bash", "tools/machine.sh", "gpu"], cwd=repo_root, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "unknown group 'gpu'" in result.stderr
