"""Stage ``ingest``: materialize the raw data from the configured source and verify its sha256.

A ``package`` source is a file shipped inside an installed wheel (the default data); a ``file`` source is a
file in the repository. Either way nothing is downloaded at run time.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import shutil
from pathlib import Path

from mlship.config import DataConfig, FileSource, PackageSource

_CHUNK = 1 << 20


class SourceError(RuntimeError):
    """The configured source is missing or its content is not the expected one."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def locate_source(source: PackageSource | FileSource) -> Path:
    """Resolve the configured source to a local file, or explain why it cannot be found."""
    if isinstance(source, FileSource):
        path = source.path
        hint = "check data.source.path in params.yaml (or `dvc pull` it)"
    else:
        try:
            distribution = importlib.metadata.distribution(source.package)
        except importlib.metadata.PackageNotFoundError:
            raise SourceError(
                f"data source package {source.package!r} is not installed; run `make setup` "
                f"(expected file {source.path}, sha256 {source.sha256})"
            ) from None
        path = Path(str(distribution.locate_file(source.path)))
        hint = (
            f"the file should ship inside the {source.package!r} distribution; reinstall it with `make setup`"
        )
    if not path.is_file():
        raise SourceError(f"data source {path} does not exist: {hint} (expected sha256 {source.sha256})")
    return path


def ingest(source: PackageSource | FileSource, destination: Path) -> str:
    """Copy the verified source to ``destination`` byte for byte; return its sha256.

    The hash is checked before anything is written, so a bad source never replaces good raw data.
    """
    path = locate_source(source)
    actual = sha256_of(path)
    if actual != source.sha256:
        raise SourceError(
            f"data source {path} has sha256 {actual}, expected {source.sha256}: the file was altered or "
            "replaced; if the change is intended, update data.source.sha256 in params.yaml"
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    shutil.copyfile(path, partial)
    partial.replace(destination)
    return actual


def run(config: DataConfig, destination: Path) -> str:
    """CLI entry: ingest the configured source."""
    return ingest(config.source, destination)
