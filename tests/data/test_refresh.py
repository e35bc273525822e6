"""``mlship refresh-data`` on real git + DVC repositories in temp dirs: a ``dvc import-url`` source is
brought up to date with ``dvc update`` (and ``params.yaml`` learns its new hash), other sources are left as
they are; every run after the first changes nothing."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlship.cli import main
from mlship.data.refresh import set_sha256

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DVC = str(Path(sys.executable).with_name("dvc"))
CENSUS_SHA256 = "9791f289391d1c169c52b0c325601d9e82f97eac620b7ac9fba381cb063da1af"  # the default data's hash
SOURCE_BLOCK = re.compile(r"^  source:\n(?:    .*\n)+", re.MULTILINE)


def _run(cwd: Path, *args: str) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _params_with_source(repo: Path, block: str) -> Path:
    """The project's params.yaml with its data source block replaced (a fork's own source is either)."""
    text = (ROOT / "params.yaml").read_text(encoding="utf-8")
    edited, count = SOURCE_BLOCK.subn(block, text, count=1)
    assert count == 1, "params.yaml has no data.source block"
    (repo / "params.yaml").write_text(edited, encoding="utf-8")
    return repo / "params.yaml"


def _params_with_file_source(repo: Path, path: str, sha256: str) -> Path:
    """The data source switched to a file (what an adopted dataset's params look like)."""
    block = (
        f"  source:\n    kind: file\n    path: {path}\n    sha256: {sha256}   # the imported file's hash\n"
    )
    return _params_with_source(repo, block)


def _params_with_package_source(repo: Path) -> Path:
    """The data source switched to the template's default: the census file inside an installed package."""
    block = (
        "  source:\n    kind: package\n    package: xai\n    path: xai/data/census.csv\n"
        f"    sha256: {CENSUS_SHA256}\n"
    )
    return _params_with_source(repo, block)


@pytest.fixture(scope="module")
def dvc_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh git + DVC repository, initialised once and copied per test (DVC starts slowly)."""
    repo = tmp_path_factory.mktemp("template") / "repo"
    (repo / "data").mkdir(parents=True)
    _run(repo, "git", "init", "-q")
    _run(repo, DVC, "init", "-q")
    return repo


@pytest.fixture
def repo(dvc_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the fresh repository; the command runs from its root, as `make` does."""
    repo = shutil.copytree(dvc_repo, tmp_path / "repo", symlinks=True)
    monkeypatch.chdir(repo)
    return repo


def test_an_imported_source_is_updated_its_hash_recorded_once_and_a_lost_upstream_loses_nothing(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a source imported with `dvc import-url` and params.yaml pinning its hash
    upstream = tmp_path / "upstream" / "rows.csv"
    upstream.parent.mkdir()
    upstream.write_bytes(b"a,b\n1,2\n")
    _run(repo, DVC, "import-url", "-q", str(upstream), "data/rows.csv")
    params = _params_with_file_source(repo, "data/rows.csv", _sha(b"a,b\n1,2\n"))
    before = params.read_text(encoding="utf-8")
    # when nothing changed upstream / then nothing changes here
    assert main(["refresh-data"]) == 0
    assert "is current" in capsys.readouterr().out
    assert params.read_text(encoding="utf-8") == before
    # when the upstream data changed
    upstream.write_bytes(b"a,b\n1,2\n3,4\n")
    assert main(["refresh-data"]) == 0
    # then the workspace has the new data, the .dvc file records it, params.yaml carries the new hash and
    # nothing else in it changed (comments kept)
    new = _sha(b"a,b\n1,2\n3,4\n")
    assert (repo / "data" / "rows.csv").read_bytes() == b"a,b\n1,2\n3,4\n"
    assert params.read_text(encoding="utf-8") == before.replace(_sha(b"a,b\n1,2\n"), new)
    assert "updated: sha256" in capsys.readouterr().out
    # and a second run changes nothing (idempotent)
    snapshot = [p.read_bytes() for p in (params, repo / "data" / "rows.csv.dvc", repo / "data" / "rows.csv")]
    assert main(["refresh-data"]) == 0
    assert [
        p.read_bytes() for p in (params, repo / "data" / "rows.csv.dvc", repo / "data" / "rows.csv")
    ] == snapshot


def test_a_package_or_plain_file_source_is_left_as_it_is(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given the template's default package source (on a fork too) / when refreshed / then unchanged
    params = _params_with_package_source(repo)
    before = params.read_text(encoding="utf-8")
    assert main(["refresh-data"]) == 0
    assert "pinned by the lock file" in capsys.readouterr().out
    assert params.read_text(encoding="utf-8") == before
    # given a file tracked with `dvc add` (no upstream to fetch from) / then it is re-ingested as is
    (repo / "rows.csv").write_bytes(b"x\n1\n")
    _run(repo, DVC, "add", "-q", "rows.csv")
    params = _params_with_file_source(repo, "rows.csv", _sha(b"x\n1\n"))
    before = params.read_text(encoding="utf-8")
    assert main(["refresh-data"]) == 0
    assert "is not a DVC import" in capsys.readouterr().out
    assert params.read_text(encoding="utf-8") == before


@given(st.binary(min_size=1, max_size=64), st.binary(min_size=1, max_size=64))
def test_set_sha256_replaces_exactly_the_old_hash(
    tmp_path_factory: pytest.TempPathFactory, a: bytes, b: bytes
) -> None:
    # given any two contents' hashes and a params text holding the first once
    old, new = _sha(a), _sha(b)
    path = tmp_path_factory.mktemp("p") / "params.yaml"
    text = f"data:\n  source:\n    sha256: {old}  # keep me\nother: {old[:10]}\n"
    path.write_text(text, encoding="utf-8")
    # when / then
    set_sha256(path, old, new)
    assert path.read_text(encoding="utf-8") == text.replace(f"sha256: {old}", f"sha256: {new}")
