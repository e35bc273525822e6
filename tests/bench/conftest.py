"""The checkout the bench scripts' quick modes run against: the run's reproduced clone (`reproduced`).

The scripts clone it again or only read it; none changes its tracked files.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.shared import Reproduced


@pytest.fixture(scope="session")
def reproduced_clone(reproduced: Reproduced) -> Path:
    """The clone whose HEAD is the current working tree, after `dvc repro` with this environment's tools."""
    return reproduced.path
