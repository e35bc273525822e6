"""What the bench scripts' quick modes run on: what the run's `make test` (and `make test-template`) built for
this working tree, published for `make bench-smoke` (tests/shared.py): the reproduced pipeline, the shipped
source and its image, and the fork proof's binary fork. Built here only when `make bench-smoke` runs without
them (another working tree, or the first run).

The scripts clone these again or only read them; none changes their tracked files.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.deploy.conftest import base_image, shipped
from tests.shared import Reproduced, once

__all__ = ["adopted_fork", "base_image", "reproduced_clone", "shipped"]


@pytest.fixture(scope="session")
def reproduced_clone(reproduced: Reproduced) -> Path:
    """The clone whose HEAD is the current working tree, after `dvc repro` with this environment's tools."""
    return reproduced.path


@pytest.fixture(scope="session")
def adopted_fork(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fork proof's binary fork: the template that adopted tests/test_fork.py's binary dataset with
    `mlship init` and ran `make run` (published by `make test-template`)."""
    from tests.test_fork import DATASETS, adopt, copy_template  # noqa: PLC0415 -- the fork proof's own code

    def build(directory: Path) -> dict[str, object]:
        return adopt(DATASETS["binary"], copy_template(repo_root, directory / "template"), directory)

    directory, _ = once(tmp_path_factory, "fork-binary", build, publish=True)
    return directory / "repo"
