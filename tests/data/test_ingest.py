"""ingest copies a verified source byte for byte, and refuses anything else without touching the output."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mlship.config import FileSource, PackageSource, Params
from mlship.data.ingest import SourceError, ingest, sha256_of


def _source(tmp_path: Path, content: bytes) -> tuple[Path, str]:
    path = tmp_path / "source.csv"
    path.write_bytes(content)
    return path, hashlib.sha256(content).hexdigest()


def test_the_default_source_ships_in_the_wheel_and_matches_its_hash(params: Params, tmp_path: Path) -> None:
    # given the default package source / when ingested
    destination = tmp_path / "raw" / "census.csv"
    digest = ingest(params.data.source, destination)
    # then the copy is the verified file
    assert digest == params.data.source.sha256
    assert sha256_of(destination) == digest
    assert destination.stat().st_size == 3_308_204


def test_a_file_source_is_copied_exactly(tmp_path: Path) -> None:
    path, digest = _source(tmp_path, b"a,b\n1,2\n")
    destination = tmp_path / "out.csv"
    ingest(FileSource(kind="file", path=path, sha256=digest), destination)
    assert destination.read_bytes() == b"a,b\n1,2\n"


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


def test_a_missing_package_is_refused_naming_it(tmp_path: Path) -> None:
    source = PackageSource(kind="package", package="no-such-dist-xyz", path="d.csv", sha256="0" * 64)
    with pytest.raises(SourceError, match="'no-such-dist-xyz' is not installed"):
        ingest(source, tmp_path / "out.csv")


def test_a_missing_file_inside_the_package_is_refused(tmp_path: Path) -> None:
    source = PackageSource(kind="package", package="xai", path="xai/data/absent.csv", sha256="0" * 64)
    with pytest.raises(SourceError, match=r"absent\.csv does not exist"):
        ingest(source, tmp_path / "out.csv")
