"""Model gates: floors and ceilings, regression against main (read through git), slice gaps, simple model."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mlship.checks.gates import (
    Baseline,
    floor_verdicts,
    load_baseline,
    metric_verdicts,
    regression_verdicts,
    simple_model_verdict,
    slice_gap_verdicts,
)
from mlship.config import ConfigError, GatesConfig, Params, parse_params


@pytest.fixture
def gates(params: Params) -> GatesConfig:
    return params.gates


def _metrics(**overall: float) -> dict[str, Any]:
    base = {"roc_auc": 0.93, "pr_auc": 0.83, "f1": 0.72, "accuracy": 0.87, "log_loss": 0.27, "brier": 0.09}
    base.update(overall)
    return {
        "overall": base,
        "slices": {
            "gender": {"Female": {"n": 2000, "roc_auc": 0.95}, "Male": {"n": 4000, "roc_auc": 0.92}},
            "ethnicity": {"White": {"n": 5000, "roc_auc": 0.93}, "Black": {"n": 600, "roc_auc": 0.95}},
        },
        "simple_model": {"overall": {"roc_auc": 0.90}},
    }


def _failed(verdicts: list[Any]) -> list[tuple[str, str]]:
    return [(v.gate, v.target) for v in verdicts if not v.passed]


def test_a_good_model_passes_every_metric_gate(gates: GatesConfig) -> None:
    baseline = Baseline("main", "abc", _metrics(), "baseline")
    assert _failed(metric_verdicts(_metrics(), baseline, gates)) == []


def test_a_metric_under_its_floor_fails_naming_metric_value_and_floor(gates: GatesConfig) -> None:
    verdicts = floor_verdicts(_metrics(roc_auc=0.85)["overall"], gates)
    failed = [v for v in verdicts if not v.passed]
    assert [(v.gate, v.target) for v in failed] == [("floor", "roc_auc")]
    assert failed[0].line() == "FAIL floor [roc_auc]: roc_auc = 0.8500 < floor 0.9000"


def test_a_loss_over_its_ceiling_fails(gates: GatesConfig) -> None:
    assert _failed(floor_verdicts(_metrics(log_loss=0.5)["overall"], gates)) == [("ceiling", "log_loss")]


def test_a_regression_beyond_the_allowance_fails_and_a_small_one_passes(gates: GatesConfig) -> None:
    baseline = Baseline("main", "abcdef12", _metrics(), "baseline")
    allowed = gates.max_regression["roc_auc"]
    small = regression_verdicts(_metrics(roc_auc=0.93 - allowed / 2)["overall"], baseline, gates)
    large = regression_verdicts(_metrics(roc_auc=0.93 - allowed * 2)["overall"], baseline, gates)
    assert _failed(small) == []
    assert _failed(large) == [("regression", "roc_auc")]


def test_a_loss_going_up_counts_as_a_regression(gates: GatesConfig) -> None:
    baseline = Baseline("main", "abcdef12", _metrics(), "baseline")
    worse = regression_verdicts(_metrics(log_loss=0.27 + 0.05)["overall"], baseline, gates)
    assert _failed(worse) == [("regression", "log_loss")]


def test_without_a_baseline_only_the_absolute_limits_apply_and_the_report_says_so(gates: GatesConfig) -> None:
    none = Baseline(
        "main", None, None, "no merge base with 'main': no baseline, the absolute limits alone apply"
    )
    verdicts = regression_verdicts(_metrics(roc_auc=0.5)["overall"], none, gates)
    assert len(verdicts) == 1
    assert verdicts[0].passed
    assert "absolute limits alone apply" in verdicts[0].detail


def test_a_slice_gap_beyond_the_limit_fails_naming_the_slices(gates: GatesConfig) -> None:
    metrics = _metrics()
    metrics["slices"]["gender"]["Male"]["roc_auc"] = 0.80
    failed = [v for v in slice_gap_verdicts(metrics["slices"], gates) if not v.passed]
    assert [(v.gate, v.target) for v in failed] == [("slice_gap", "gender")]
    assert "Male 0.8000 vs Female 0.9500" in failed[0].detail


def test_slices_too_small_to_judge_are_listed_not_judged(gates: GatesConfig) -> None:
    metrics = _metrics()
    metrics["slices"]["ethnicity"]["Other"] = {"n": 10, "roc_auc": 0.2}
    verdict = next(v for v in slice_gap_verdicts(metrics["slices"], gates) if v.target == "ethnicity")
    assert verdict.passed
    assert "too small to judge" in verdict.detail
    assert "Other" in verdict.detail


def test_the_candidate_must_beat_the_simple_model(gates: GatesConfig) -> None:
    metrics = _metrics(roc_auc=0.905)
    verdict = simple_model_verdict(metrics, gates)
    assert not verdict.passed
    assert "vs simple model 0.9000" in verdict.detail
    assert simple_model_verdict(_metrics(), gates).passed


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def test_the_baseline_is_read_from_the_merge_base_on_main(tmp_path: Path) -> None:
    # given a repository whose main has metrics, and a branch that changed them (and main moved on)
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "config", "user.email", "t@t")
    _git(tmp_path, "config", "user.name", "t")
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps(_metrics(roc_auc=0.91)))
    _git(tmp_path, "add", "metrics.json")
    _git(tmp_path, "commit", "-q", "-m", "main metrics")
    base = _git(tmp_path, "rev-parse", "HEAD")
    _git(tmp_path, "checkout", "-q", "-b", "feature")
    metrics.write_text(json.dumps(_metrics(roc_auc=0.95)))
    _git(tmp_path, "commit", "-qam", "better model")
    _git(tmp_path, "checkout", "-q", "main")
    metrics.write_text(json.dumps(_metrics(roc_auc=0.99)))
    _git(tmp_path, "commit", "-qam", "main moves on")
    _git(tmp_path, "checkout", "-q", "feature")
    # when the baseline is loaded / then it is main's metrics at the merge base, not main's tip
    baseline = load_baseline(Path("metrics.json"), "main", tmp_path)
    assert baseline.commit == base
    assert baseline.metrics is not None
    assert baseline.metrics["overall"]["roc_auc"] == 0.91


def test_no_such_branch_means_no_baseline(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q", "-b", "trunk")
    baseline = load_baseline(Path("metrics.json"), "main", tmp_path)
    assert baseline.metrics is None
    assert "absolute limits alone apply" in baseline.note


def test_floors_and_ceilings_must_match_the_metric_direction(params: Params) -> None:
    raw = params.model_dump(mode="json")
    raw["gates"]["floors"]["log_loss"] = 0.3
    with pytest.raises(ConfigError, match=r"log_loss belong\(s\) under gates\.ceilings"):
        parse_params(raw)
