"""The suite's own machinery: a copy of the repository is the working tree as the developer has it, and an
artifact published for later runs is found only by a run on the same working tree.

Real git repositories in temporary directories; no model, no container."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from tests.shared import clone_working_tree, fingerprint, git, once

IDENTITY = ("-c", "user.name=t", "-c", "user.email=t@t")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A repository with a commit on main, then changes a developer has not committed: a modified file, a
    deleted one, a new one and an ignored one."""
    root = tmp_path / "checkout"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / ".gitignore").write_text("ignored/\n", encoding="utf-8")
    (root / "params.yaml").write_text("service:\n  name: committed\n", encoding="utf-8")
    (root / "gone.txt").write_text("deleted in the working tree\n", encoding="utf-8")
    git(root, "add", "-A")
    git(root, *IDENTITY, "commit", "-q", "-m", "committed")
    (root / "params.yaml").write_text("service:\n  name: working-tree\n", encoding="utf-8")
    (root / "gone.txt").unlink()
    (root / "schema.yaml").write_text("target: new\n", encoding="utf-8")
    (root / "ignored").mkdir()
    (root / "ignored" / "big.bin").write_text("not the project's\n", encoding="utf-8")
    return root


def test_a_copy_of_the_repository_is_its_working_tree_committed_or_not(
    checkout: Path, tmp_path: Path
) -> None:
    # given a checkout with uncommitted changes / when a test copies the repository
    clone = clone_working_tree(tmp_path / "clone", root=checkout, branch="pr")
    # then the copy's HEAD holds the working tree: modified, new and deleted files as the developer has them,
    # nothing ignored, nothing left uncommitted in the copy
    files = set(git(clone, "ls-tree", "-r", "--name-only", "HEAD").split())
    assert files == {".gitignore", "params.yaml", "schema.yaml"}
    assert git(clone, "show", "HEAD:params.yaml") == "service:\n  name: working-tree\n"
    assert git(clone, "status", "--porcelain") == ""
    # and main is only the remote's, as in a pull request's checkout: what main holds is never assumed
    assert git(clone, "branch", "--show-current").strip() == "pr"
    assert git(clone, "rev-parse", "origin/main").strip() == git(checkout, "rev-parse", "main").strip()


def test_the_fingerprint_follows_the_working_tree_not_the_commit(checkout: Path, tmp_path: Path) -> None:
    # given the checkout's fingerprint
    before = fingerprint(checkout)
    # when an ignored file changes / then it is the same
    (checkout / "ignored" / "big.bin").write_text("changed\n", encoding="utf-8")
    assert fingerprint(checkout) == before
    # when the uncommitted changes are committed / then it is the same (the files are)
    git(checkout, "add", "-A")
    git(checkout, *IDENTITY, "commit", "-q", "-m", "commit the working tree")
    assert fingerprint(checkout) == before
    # when a file changes, committed or not / then it differs
    (checkout / "schema.yaml").write_text("target: other\n", encoding="utf-8")
    assert fingerprint(checkout) != before


def test_a_published_artifact_is_reused_only_when_asked(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a private store, and an artifact a run published
    monkeypatch.setenv("MLSHIP_TEST_STORE", str(tmp_path / "store"))
    monkeypatch.delenv("MLSHIP_TEST_REUSE", raising=False)
    builds: list[Path] = []

    def build(directory: Path) -> dict[str, int]:
        builds.append(directory)
        (directory / "artifact").write_text("built\n", encoding="utf-8")
        return {"number": len(builds)}

    name = f"artifact-{os.getpid()}-{tmp_path.name}"
    first, value = once(tmp_path_factory, name, build, publish=True)
    # when this run asks again / then it gets the same one, not a second build
    assert once(tmp_path_factory, name, build, publish=True) == (first, value)
    assert len(builds) == 1
    # and the store names it for later runs of the same working tree
    pointer = json.loads(next((tmp_path / "store").glob(f"*/{name}.json")).read_text(encoding="utf-8"))
    assert (Path(pointer["directory"]), pointer["value"]) == (first, value)
    # when a later run (another run directory) asks without MLSHIP_TEST_REUSE / then it builds its own
    later = _another_run(tmp_path_factory, tmp_path / "later")
    second, _ = once(later, name, build, publish=True)
    assert second != first
    assert len(builds) == 2
    # when a run after it asks with MLSHIP_TEST_REUSE (`make bench-smoke`) / then it takes the latest one
    monkeypatch.setenv("MLSHIP_TEST_REUSE", "1")
    reusing = _another_run(tmp_path_factory, tmp_path / "reusing")
    assert once(reusing, name, build, publish=True)[0] == second
    assert len(builds) == 2


def _another_run(factory: pytest.TempPathFactory, base: Path) -> pytest.TempPathFactory:
    """A temp-path factory of another run whose run directory is ``base`` (a worker's base directory
    inside it under pytest-xdist, as tests.shared.run_root expects)."""
    basetemp = base / "popen-gw0" if os.environ.get("PYTEST_XDIST_WORKER") else base
    basetemp.mkdir(parents=True)
    return pytest.TempPathFactory(basetemp, 3, "all", trace=factory._trace, basetemp=basetemp, _ispytest=True)
