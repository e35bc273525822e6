"""Metrics overall and per slice, and plot data DVC can draw."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from mlship.config import EvaluateConfig
from mlship.data.schema import CENSUS
from mlship.evaluate import binary_metrics, evaluate, plot_data, write_outputs

CONFIG = EvaluateConfig(threshold=0.5, calibration_bins=10)
HEADLINE = {"roc_auc", "pr_auc", "f1", "accuracy", "log_loss", "brier", "n", "positive_rate"}


@st.composite
def scored_labels(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(min_value=2, max_value=200))
    target = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), dtype=np.int64)
    probability = np.array(
        draw(st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=n, max_size=n)), dtype=np.float64
    )
    return target, probability


@given(scored_labels())
def test_metrics_are_within_their_ranges(scored: tuple[np.ndarray, np.ndarray]) -> None:
    target, probability = scored
    metrics = binary_metrics(target, probability, 0.5)
    assert metrics["n"] == target.size
    for name in ("accuracy", "f1", "brier"):
        assert 0.0 <= metrics[name] <= 1.0
    assert metrics["log_loss"] >= 0.0
    # AUCs exist exactly when both classes are present
    assert ("roc_auc" in metrics) == (np.unique(target).size == 2)


def test_a_perfect_ranking_scores_one() -> None:
    target = np.array([0, 0, 1, 1])
    metrics = binary_metrics(target, np.array([0.1, 0.2, 0.8, 0.9]), 0.5)
    assert metrics["roc_auc"] == 1.0
    assert metrics["accuracy"] == 1.0
    assert metrics["pr_auc"] == 1.0


@pytest.fixture(scope="module")
def holdout(census: pd.DataFrame) -> pd.DataFrame:
    return census.sample(n=3000, random_state=1).reset_index(drop=True)


def test_evaluation_reports_overall_and_every_sensitive_slice(
    hgb_model: Pipeline, holdout: pd.DataFrame
) -> None:
    # given a fitted model and held-out data / when evaluated
    evaluation = evaluate(hgb_model, holdout, CONFIG)
    overall = evaluation.metrics["overall"]
    # then the overall metrics match scikit-learn's and the slices cover every row of each attribute
    assert set(overall) == HEADLINE
    expected_auc = roc_auc_score(
        holdout["loan"], hgb_model.predict_proba(holdout[CENSUS.feature_names])[:, 1]
    )
    assert overall["roc_auc"] == pytest.approx(expected_auc, abs=1e-6)
    for attribute in CENSUS.sensitive:
        groups = evaluation.metrics["slices"][attribute]
        assert set(groups) == set(holdout[attribute].unique())
        assert sum(group["n"] for group in groups.values()) == len(holdout)


def test_outputs_are_written_for_dvc(hgb_model: Pipeline, holdout: pd.DataFrame, tmp_path: Path) -> None:
    evaluation = evaluate(hgb_model, holdout, CONFIG)
    write_outputs(evaluation, 10, tmp_path / "metrics.json", tmp_path / "plots")
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["overall"]["n"] == len(holdout)
    roc = json.loads((tmp_path / "plots" / "roc.json").read_text())
    assert (roc[0]["fpr"], roc[0]["tpr"]) == (0.0, 0.0)
    assert (roc[-1]["fpr"], roc[-1]["tpr"]) == (1.0, 1.0)
    confusion = pd.read_csv(tmp_path / "plots" / "confusion.csv")
    assert len(confusion) == len(holdout)
    assert set(confusion.columns) == {"actual", "predicted"}
    assert (tmp_path / "plots" / "precision_recall.json").exists()
    assert (tmp_path / "plots" / "calibration.json").exists()


def test_plot_data_is_thinned_but_keeps_the_curve_ends(hgb_model: Pipeline, holdout: pd.DataFrame) -> None:
    data = plot_data(evaluate(hgb_model, holdout, CONFIG), bins=10)
    assert len(data["roc"]) <= 400
    assert len(data["precision_recall"]) <= 400
    assert 1 <= len(data["calibration"]) <= 10
    fractions = [row["fraction_positive"] for row in data["calibration"]]
    assert all(0.0 <= value <= 1.0 for value in fractions)
