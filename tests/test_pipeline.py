"""The real `dvc repro` in a temporary git repository: quality, reproducibility, minimal reruns.

Integration: runs DVC and the `mlship` stages as subprocesses, exactly as `make repro` and CI do.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

pytestmark = pytest.mark.integration

TRACKED = ("dvc.yaml", "dvc.lock", "params.yaml", "metrics.json", ".dvcignore", ".gitignore")
STAGES = ("ingest", "validate", "split", "train", "evaluate", "checks")


def _run(cwd: Path, *args: str) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False, env=os.environ.copy())
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _ran(output: str) -> list[str]:
    return re.findall(r"Running stage '([^']+)'", output)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def project(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh git clone-alike of the repository's pipeline, with the committed lock and metrics."""
    root = tmp_path_factory.mktemp("project")
    for name in TRACKED:
        shutil.copy2(repo_root / name, root / name)
    for directory in ("src", "plots", ".dvc"):
        shutil.copytree(
            repo_root / directory,
            root / directory,
            ignore=shutil.ignore_patterns("__pycache__", "cache", "tmp", "config.local"),
        )
    _run(root, "git", "init", "-q", "-b", "main")
    _run(root, "git", "add", "-A")
    _run(root, "git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "snapshot")
    return root


@pytest.fixture(scope="module")
def first_run(project: Path) -> str:
    return _run(project, "dvc", "repro")


def test_repro_runs_every_stage_and_meets_the_quality_floor(project: Path, first_run: str) -> None:
    # given a fresh checkout (data, model and reports are not in git) / when `dvc repro` runs
    # then every stage whose outputs were missing ran; evaluate's outputs are committed, so it runs only if
    # the model or test data it depends on came out different from what dvc.lock records
    assert set(_ran(first_run)) == set(STAGES) - {"evaluate"}
    metrics = json.loads((project / "metrics.json").read_text())
    assert metrics["overall"]["roc_auc"] >= 0.90
    assert set(metrics["slices"]) == {"gender", "ethnicity"}


@pytest.mark.usefixtures("first_run")
def test_the_committed_lock_and_metrics_are_what_the_code_produces(project: Path) -> None:
    # then re-running from scratch reproduced dvc.lock, metrics.json and the plots bit for bit
    assert _run(project, "git", "status", "--porcelain") == ""


@pytest.mark.usefixtures("first_run")
def test_status_is_clean_and_a_second_repro_is_a_no_op(project: Path) -> None:
    assert "up to date" in _run(project, "dvc", "status")
    assert _ran(_run(project, "dvc", "repro")) == []


@pytest.mark.usefixtures("first_run")
def test_a_forced_repro_gives_a_byte_identical_model_and_identical_metrics(project: Path) -> None:
    model, metrics = project / "models" / "model.joblib", project / "metrics.json"
    before = (_sha256(model), metrics.read_text())
    # (the model's lineage only: the check reports' determinism is covered by the committed-lock test)
    assert _ran(_run(project, "dvc", "repro", "--force", "evaluate")) == [s for s in STAGES if s != "checks"]
    assert (_sha256(model), metrics.read_text()) == before


@pytest.mark.usefixtures("first_run")
def test_the_model_bytes_do_not_depend_on_the_callers_blas_settings(project: Path) -> None:
    # given the models `dvc repro` trained, as recorded in dvc.lock
    models = [project / "models" / "model.joblib", project / "models" / "simple_model.joblib"]
    before = [_sha256(path) for path in models]
    # when `mlship train` runs again in a shell that asks for other BLAS threads, kernels and SIMD loops
    # (each of these alone changes the logistic regression's last bits when nothing pins them)
    hostile = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "2",
        "OPENBLAS_CORETYPE": "Sandybridge",
        "NPY_DISABLE_CPU_FEATURES": "AVX2 FMA3",
    }
    result = subprocess.run(
        ["mlship", "train"], cwd=project, capture_output=True, text=True, env=hostile, check=False
    )
    assert result.returncode == 0, result.stderr
    # then both models are byte-identical to the recorded ones
    assert [_sha256(path) for path in models] == before


def _edit_params(project: Path, section: str, key: str, value: object) -> None:
    path = project / "params.yaml"
    raw = yaml.safe_load(path.read_text())
    raw[section][key] = value
    path.write_text(yaml.safe_dump(raw, sort_keys=False))


@pytest.mark.usefixtures("first_run")
def test_the_gates_pass_on_the_default_data(project: Path) -> None:
    result = subprocess.run(["mlship", "gates"], cwd=project, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all gates and checks passed" in result.stdout
    assert "baseline: metrics.json at main@" in result.stdout


@pytest.mark.usefixtures("first_run")
def test_the_gates_fail_on_drifted_test_data_naming_the_check(project: Path) -> None:
    # given a test split whose label distribution drifted (an upstream sampling bug)
    test_csv = project / "data" / "processed" / "test.csv"
    original = test_csv.read_bytes()
    frame = pd.read_csv(test_csv)
    positives = frame[frame["loan"] == 1]
    drifted = pd.concat([positives, frame[frame["loan"] == 0].head(len(positives) // 2)])
    drifted.to_csv(test_csv, index=False)
    reports = project / "reports" / "checks"
    saved = {path: path.read_bytes() for path in reports.glob("train_test.*")}
    try:
        # when the checks and the gates run through the CLI
        _run(project, "mlship", "checks", "train_test")
        result = subprocess.run(["mlship", "gates"], cwd=project, capture_output=True, text=True, check=False)
    finally:
        test_csv.write_bytes(original)
        for path, content in saved.items():
            path.write_bytes(content)
    # then the gates fail with one line naming the suite and the check
    assert result.returncode == 1
    assert "FAIL check:train_test [Label Drift]" in result.stdout


@pytest.mark.usefixtures("first_run")
def test_a_model_param_change_reruns_only_the_stages_that_read_it(project: Path) -> None:
    _edit_params(project, "model", "seed", 7)
    assert set(_ran(_run(project, "dvc", "repro"))) == {"train", "evaluate", "checks"}


@pytest.mark.usefixtures("first_run")
def test_an_evaluate_param_change_reruns_only_evaluate(project: Path) -> None:
    _edit_params(project, "evaluate", "threshold", 0.4)
    assert _ran(_run(project, "dvc", "repro")) == ["evaluate"]
