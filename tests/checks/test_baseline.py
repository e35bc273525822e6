"""The baseline the regression gate compares with: metrics.json at the merge base with main, read from a real
git repository, and no baseline at all when main's schema predicts another target."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from mlship.checks.gates import load_baseline

METRICS = Path("metrics.json")
SCHEMA = Path("schema.yaml")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _commit(repo: Path, files: dict[Path, object], message: str) -> None:
    for path, content in files.items():
        text = json.dumps(content) if path.suffix == ".json" else yaml.safe_dump(content)
        (repo / path).write_text(text)
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", message)


def _schema(target: str, task: str) -> dict[str, object]:
    return {"target": {"name": target, "task": task}, "features": []}


def _repo(tmp_path: Path, main_files: dict[Path, object]) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _commit(repo, main_files, "main")
    _git(repo, "checkout", "-q", "-b", "change")
    return repo


def test_the_merge_base_metrics_are_the_baseline(tmp_path: Path) -> None:
    # given main with metrics for the same target, and a branch that changed the metrics
    repo = _repo(tmp_path, {METRICS: {"overall": {"r2": 0.8}}, SCHEMA: _schema("price", "regression")})
    _commit(repo, {METRICS: {"overall": {"r2": 0.7}}}, "worse")
    # when the baseline is loaded / then it is main's file, named with its commit
    baseline = load_baseline(METRICS, "main", repo, SCHEMA, ("price", "regression"))
    assert baseline.metrics == {"overall": {"r2": 0.8}}
    assert baseline.note.startswith("baseline: metrics.json at main@")


def test_main_predicting_another_target_gives_no_baseline_and_says_why(tmp_path: Path) -> None:
    # given main set up for another dataset (a fork's first adoption of its own data)
    repo = _repo(tmp_path, {METRICS: {"overall": {"roc_auc": 0.9}}, SCHEMA: _schema("loan", "binary")})
    _commit(repo, {METRICS: {"overall": {"roc_auc": 0.7}}, SCHEMA: _schema("churned", "binary")}, "adopt")
    # when the baseline is loaded for the new target
    baseline = load_baseline(METRICS, "main", repo, SCHEMA, ("churned", "binary"))
    # then nothing is compared, and the note names both targets
    assert baseline.metrics is None
    assert "predicts loan (binary), this tree churned (binary)" in baseline.note


def test_a_base_without_a_schema_file_is_still_compared(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {METRICS: {"overall": {"roc_auc": 0.9}}})
    baseline = load_baseline(METRICS, "main", repo, SCHEMA, ("loan", "binary"))
    assert baseline.metrics == {"overall": {"roc_auc": 0.9}}


def test_no_merge_base_means_no_baseline(tmp_path: Path) -> None:
    repo = tmp_path / "lonely"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "work")
    _commit(repo, {METRICS: {"overall": {}}}, "only")
    baseline = load_baseline(METRICS, "main", repo)
    assert baseline.metrics is None
    assert "no merge base with 'main'" in baseline.note
