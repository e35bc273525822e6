"""The summary printed by `make run`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlship.summary import render, render_metrics


def test_the_summary_shows_headline_metrics_and_slice_gaps() -> None:
    metrics = {
        "overall": {"roc_auc": 0.93, "f1": 0.7, "n": 100, "positive_rate": 0.25},
        "slices": {"gender": {"A": {"roc_auc": 0.91}, "B": {"roc_auc": 0.95}}},
    }
    text = render_metrics(metrics)
    assert "roc_auc         0.9300" in text
    assert "roc_auc gap across gender: 0.0400 (lowest: A 0.9100)" in text
    assert "test rows: 100" in text


def test_a_missing_metrics_file_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make repro"):
        render(tmp_path / "metrics.json")


def test_render_reads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"overall": {"roc_auc": 0.5, "n": 3, "positive_rate": 0.3}, "slices": {}}))
    assert "0.5000" in render(path)
