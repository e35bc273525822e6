"""A checkout for the bench scripts' quick modes: a clone of the working tree with the pipeline reproduced.

Module-scoped: every smoke run of tests/bench/test_bench_smoke.py measures the same clone (the scripts
clone it again or only read it; none changes its tracked files).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.workflows.steps import clone_with_working_tree


@pytest.fixture(scope="module")
def reproduced_clone(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone whose HEAD is the current working tree, after `dvc repro` with this environment's tools."""
    clone = clone_with_working_tree(tmp_path_factory.mktemp("bench") / "repo", repo_root)
    env = {k: v for k, v in os.environ.items() if k != "MLSHIP_PARAMS"}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    result = subprocess.run(["dvc", "repro"], cwd=clone, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, (
        f"dvc repro failed in {clone}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    )
    return clone
