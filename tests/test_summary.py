"""The summary printed by `make run`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlship.summary import render, render_metrics


def test_the_summary_shows_headline_metrics_and_slice_gaps() -> None:
    metrics = {
        "overall": {"roc_auc": 0.93, "f1": 0.7, "n": 100, "positive_rate": 0.25},
        "slices": {"group": {"A": {"roc_auc": 0.91}, "B": {"roc_auc": 0.95}}},
    }
    text = render_metrics(metrics, "binary")
    assert "roc_auc               0.9300" in text
    assert "roc_auc gap across group: 0.0400 (worst: A 0.9100)" in text
    assert "test rows: 100" in text


def test_for_a_loss_the_worst_slice_is_the_highest() -> None:
    # given a regression task, whose headline metric (r2) is higher-is-better, and an error metric
    metrics = {
        "overall": {"r2": 0.8, "mae": 1.5, "n": 10},
        "slices": {"group": {"A": {"r2": 0.7}, "B": {"r2": 0.9}}},
    }
    text = render_metrics(metrics, "regression")
    assert "mae                   1.5000" in text
    assert "r2 gap across group: 0.2000 (worst: A 0.7000)" in text


def test_a_missing_metrics_file_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make repro"):
        render(tmp_path / "metrics.json", "binary")


def test_render_reads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"overall": {"roc_auc": 0.5, "n": 3, "positive_rate": 0.3}, "slices": {}}))
    assert "0.5000" in render(path, "binary")
