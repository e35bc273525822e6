"""Metrics overall and per slice, and plot data DVC can draw."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, balanced_accuracy_score, mean_absolute_error, roc_auc_score
from sklearn.pipeline import Pipeline

from mlship.config import EvaluateConfig
from mlship.data.schema import Schema, split_xy
from mlship.evaluate import (
    binary_metrics,
    evaluate,
    multiclass_metrics,
    plot_data,
    regression_metrics,
    write_outputs,
)
from mlship.tasks import metric_names

CONFIG = EvaluateConfig(threshold=0.5, calibration_bins=10)


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


@st.composite
def class_probabilities(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    classes = draw(st.integers(min_value=3, max_value=5))
    n = draw(st.integers(min_value=2, max_value=100))
    target = np.array(draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n)), dtype=np.int64)
    weights = np.array(
        draw(st.lists(st.floats(0.01, 1.0), min_size=n * classes, max_size=n * classes))
    ).reshape(n, classes)
    return target, weights / weights.sum(axis=1, keepdims=True)


@given(class_probabilities())
def test_multiclass_metrics_are_within_their_ranges(scored: tuple[np.ndarray, np.ndarray]) -> None:
    target, probabilities = scored
    metrics = multiclass_metrics(target, probabilities)
    assert set(metrics) - {"n"} <= set(metric_names("multiclass"))
    for name in ("accuracy", "balanced_accuracy", "f1_macro"):
        assert 0.0 <= metrics[name] <= 1.0
    with warnings.catch_warnings():  # scikit-learn's reference warns on a single class; ours does not
        warnings.simplefilter("ignore", UserWarning)
        reference = balanced_accuracy_score(target, probabilities.argmax(axis=1))
    assert metrics["balanced_accuracy"] == pytest.approx(reference, abs=1e-6)
    # the one-vs-rest AUC exists exactly when every class is present
    assert ("roc_auc_ovr" in metrics) == (np.unique(target).size == probabilities.shape[1])


@given(
    st.lists(
        st.tuples(st.floats(-1e6, 1e6, allow_nan=False), st.floats(-1e6, 1e6, allow_nan=False)),
        min_size=1,
        max_size=100,
    )
)
def test_regression_metrics_are_consistent(pairs: list[tuple[float, float]]) -> None:
    target = np.array([a for a, _ in pairs])
    predicted = np.array([p for _, p in pairs])
    metrics = regression_metrics(target, predicted)
    assert 0.0 <= metrics["median_ae"] <= metrics["mae"] * 2 + 1e-6  # half the errors are >= the median
    assert metrics["mae"] <= metrics["rmse"] + 1e-6
    assert ("r2" in metrics) == (target.size >= 2 and np.unique(target).size > 1)


def test_a_perfect_regressor_has_no_error() -> None:
    target = np.array([1.0, 2.0, 4.0])
    metrics = regression_metrics(target, target.copy())
    assert (metrics["mae"], metrics["rmse"], metrics["r2"]) == (0.0, 0.0, 1.0)


@pytest.fixture(scope="module")
def holdout(dataset: pd.DataFrame) -> pd.DataFrame:
    return dataset.sample(n=min(3000, len(dataset)), random_state=1).reset_index(drop=True)


def test_evaluation_reports_the_tasks_metrics_overall_and_every_sensitive_slice(
    hgb_model: Pipeline, schema: Schema, holdout: pd.DataFrame
) -> None:
    # given a fitted model and held-out data / when evaluated
    evaluation = evaluate(hgb_model, holdout, CONFIG, schema)
    overall = evaluation.metrics["overall"]
    # then the overall metrics are the task's, computed as scikit-learn does, and the slices cover every row
    assert set(metric_names(schema.task)) <= set(overall)
    features, target = split_xy(holdout, schema)
    if schema.task == "binary":
        expected = roc_auc_score(target, hgb_model.predict_proba(features)[:, 1])
        assert overall["roc_auc"] == pytest.approx(expected, abs=1e-6)
    elif schema.task == "multiclass":
        expected = accuracy_score(target, hgb_model.predict(features))
        assert overall["accuracy"] == pytest.approx(expected, abs=1e-6)
    else:
        expected = mean_absolute_error(target, hgb_model.predict(features))
        assert overall["mae"] == pytest.approx(expected, rel=1e-6)
    for attribute in schema.sensitive:
        groups = evaluation.metrics["slices"][attribute]
        assert sum(group["n"] for group in groups.values()) == len(holdout)


def test_outputs_are_written_for_dvc(
    hgb_model: Pipeline, schema: Schema, holdout: pd.DataFrame, tmp_path: Path
) -> None:
    # given plot files left over from another task
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "stale.json").write_text("[]")
    evaluation = evaluate(hgb_model, holdout, CONFIG, schema)
    write_outputs(evaluation, 10, tmp_path / "metrics.json", tmp_path / "plots")
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["overall"]["n"] == len(holdout)
    written = {path.name for path in (tmp_path / "plots").iterdir()}
    expected = {
        "binary": {"roc.json", "precision_recall.json", "calibration.json", "confusion.csv"},
        "multiclass": {"confusion.csv"},
        "regression": {"predicted_vs_actual.json", "residuals.json"},
    }[schema.task]
    assert written == expected
    if schema.target.is_classifier:
        confusion = pd.read_csv(tmp_path / "plots" / "confusion.csv", dtype=str, keep_default_na=False)
        assert len(confusion) == len(holdout)
        assert set(confusion["actual"]) <= set(schema.target.classes)
    if schema.task == "binary":
        roc = json.loads((tmp_path / "plots" / "roc.json").read_text())
        assert (roc[0]["fpr"], roc[0]["tpr"]) == (0.0, 0.0)
        assert (roc[-1]["fpr"], roc[-1]["tpr"]) == (1.0, 1.0)


def test_plot_data_is_thinned(hgb_model: Pipeline, schema: Schema, holdout: pd.DataFrame) -> None:
    data = plot_data(evaluate(hgb_model, holdout, CONFIG, schema), bins=10)
    for name, rows in data.items():
        if name != "confusion":
            assert 1 <= len(rows) <= 400
    if "calibration" in data:
        assert all(0.0 <= row["fraction_positive"] <= 1.0 for row in data["calibration"])
