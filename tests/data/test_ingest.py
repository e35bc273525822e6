"""ingest copies a verified source byte for byte, and refuses anything else without touching the output."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlship.config import FileSource, PackageSource, Params
from mlship.data.ingest import SourceError, ingest, sha256_of

#: An installed distribution that surely holds no data file (the test runner itself).
_SOME_PACKAGE = "pytest"


def _source(tmp_path: Path, content: bytes) -> tuple[Path, str]:
    path = tmp_path / "source.csv"
    path.write_bytes(content)
    return path, hashlib.sha256(content).hexdigest()


def _project_source(params: Params, repo_root: Path) -> PackageSource | FileSource:
    """The configured source, a repository-relative file path resolved against the repository."""
    source = params.data.source
    if isinstance(source, FileSource) and not source.path.is_absolute():
        return source.model_copy(update={"path": repo_root / source.path})
    return source


def test_the_configured_source_is_found_and_matches_its_hash(
    params: Params, repo_root: Path, raw_path: Path, tmp_path: Path
) -> None:
    # given the project's data source / when ingested
    destination = tmp_path / "raw" / params.paths.raw.name
    digest = ingest(_project_source(params, repo_root), destination)
    # then the copy is the verified file, byte for byte
    assert digest == params.data.source.sha256
    assert sha256_of(destination) == digest
    assert destination.read_bytes() == raw_path.read_bytes()


def test_ingesting_twice_changes_nothing(params: Params, repo_root: Path, tmp_path: Path) -> None:
    destination = tmp_path / "raw.csv"
    source = _project_source(params, repo_root)
    first = ingest(source, destination)
    content = destination.read_bytes()
    assert ingest(source, destination) == first
    assert destination.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw.csv"]


@given(content=st.binary(max_size=4096))
def test_any_file_source_is_copied_exactly(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        # given any content, pinned by its hash
        path, digest = _source(Path(directory), content)
        destination = Path(directory) / "nested" / "out.csv"
        # when ingested / then the copy is identical and the hash returned
        assert ingest(FileSource(kind="file", path=path, sha256=digest), destination) == digest
        assert destination.read_bytes() == content


@given(original=st.binary(max_size=256), tampered=st.binary(max_size=256))
def test_any_change_to_the_source_is_refused(original: bytes, tampered: bytes) -> None:
    if original == tampered:
        tampered += b"\n"
    with tempfile.TemporaryDirectory() as directory:
        # given a source whose content no longer matches its pinned hash
        path, digest = _source(Path(directory), original)
        path.write_bytes(tampered)
        destination = Path(directory) / "out.csv"
        # when ingested / then it is refused and nothing is written
        with pytest.raises(SourceError, match="expected"):
            ingest(FileSource(kind="file", path=path, sha256=digest), destination)
        assert not destination.exists()


def test_an_altered_source_is_refused_naming_file_and_expected_hash(tmp_path: Path) -> None:
    # given a source whose content no longer matches the pinned hash, and good existing raw data
    path, digest = _source(tmp_path, b"original\n")
    path.write_bytes(b"tampered\n")
    destination = tmp_path / "out.csv"
    destination.write_bytes(b"previous good copy\n")
    # when ingesting / then it stops, naming the file and the expected hash
    with pytest.raises(SourceError) as caught:
        ingest(FileSource(kind="file", path=path, sha256=digest), destination)
    assert str(path) in str(caught.value)
    assert digest in str(caught.value)
    # and nothing is lost
    assert destination.read_bytes() == b"previous good copy\n"


def test_a_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.csv"
    with pytest.raises(SourceError, match=r"nowhere\.csv does not exist"):
        ingest(FileSource(kind="file", path=missing, sha256="0" * 64), tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_a_missing_package_is_refused_naming_it(tmp_path: Path) -> None:
    source = PackageSource(kind="package", package="no-such-dist-xyz", path="d.csv", sha256="0" * 64)
    with pytest.raises(SourceError, match="'no-such-dist-xyz' is not installed"):
        ingest(source, tmp_path / "out.csv")


def test_a_missing_file_inside_an_installed_package_is_refused(tmp_path: Path) -> None:
    source = PackageSource(kind="package", package=_SOME_PACKAGE, path="absent/data.csv", sha256="0" * 64)
    with pytest.raises(SourceError, match=r"data\.csv does not exist"):
        ingest(source, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()
