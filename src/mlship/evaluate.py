"""Stage ``evaluate``: metrics overall and per slice of each sensitive attribute, plus plot data.

``metrics.json`` is what DVC diffs against ``main`` and what the model gates read.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)
from sklearn.pipeline import Pipeline

from mlship.config import EvaluateConfig
from mlship.data.schema import CENSUS, FloatArray, IntArray, Schema, read_processed, split_xy
from mlship.train import load_model

_DIGITS = 6
_MAX_CURVE_POINTS = 400

Metrics = dict[str, float | int]


def _round(value: float) -> float:
    return round(float(value), _DIGITS)


def binary_metrics(target: IntArray, probability: FloatArray, threshold: float) -> Metrics:
    """Threshold-free and thresholded metrics; AUCs are left out when only one class is present."""
    predicted = (probability >= threshold).astype(np.int64)
    metrics: Metrics = {
        "n": int(target.size),
        "positive_rate": _round(target.mean()) if target.size else 0.0,
        "accuracy": _round(accuracy_score(target, predicted)),
        "f1": _round(f1_score(target, predicted, zero_division=0.0)),
        "brier": _round(brier_score_loss(target, probability, pos_label=1)),
        "log_loss": _round(log_loss(target, probability, labels=[0, 1])),
    }
    if np.unique(target).size == 2:
        metrics["roc_auc"] = _round(roc_auc_score(target, probability))
        metrics["pr_auc"] = _round(average_precision_score(target, probability))
    return metrics


def slice_metrics(
    features: pd.DataFrame, target: IntArray, probability: FloatArray, threshold: float, schema: Schema
) -> dict[str, dict[str, Metrics]]:
    """The same metrics for every category of every sensitive attribute (missing values as ``<missing>``)."""
    slices: dict[str, dict[str, Metrics]] = {}
    for attribute in schema.sensitive:
        groups = features[attribute].fillna("<missing>").astype(str).to_numpy()
        slices[attribute] = {
            str(group): binary_metrics(target[groups == group], probability[groups == group], threshold)
            for group in sorted(set(groups))
        }
    return slices


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, Any]
    target: IntArray
    probability: FloatArray
    threshold: float


def evaluate(
    model: Pipeline, test: pd.DataFrame, config: EvaluateConfig, schema: Schema = CENSUS
) -> Evaluation:
    """Score ``model`` on ``test``: overall and per-slice metrics."""
    features, target = split_xy(test, schema)
    probability = model.predict_proba(features)[:, 1]
    metrics = {
        "overall": binary_metrics(target, probability, config.threshold),
        "slices": slice_metrics(features, target, probability, config.threshold, schema),
    }
    return Evaluation(metrics, target, probability, config.threshold)


def _thin(rows: list[dict[str, float]]) -> list[dict[str, float]]:
    if len(rows) <= _MAX_CURVE_POINTS:
        return rows
    keep = np.unique(np.linspace(0, len(rows) - 1, _MAX_CURVE_POINTS).round().astype(int))
    return [rows[i] for i in keep]


def plot_data(evaluation: Evaluation, bins: int) -> dict[str, list[dict[str, Any]]]:
    """Rows for DVC plots: ROC, precision-recall, calibration (JSON) and the confusion matrix (CSV)."""
    target, probability = evaluation.target, evaluation.probability
    fpr, tpr, roc_thresholds = roc_curve(target, probability)
    precision, recall, pr_thresholds = precision_recall_curve(target, probability)
    prob_true, prob_pred = calibration_curve(target, probability, n_bins=bins, strategy="quantile")
    predicted = (probability >= evaluation.threshold).astype(np.int64)
    finite = [t if math.isfinite(t) else 1.0 for t in roc_thresholds]
    return {
        "roc": _thin(
            [
                {"fpr": _round(f), "tpr": _round(t), "threshold": _round(th)}
                for f, t, th in zip(fpr, tpr, finite, strict=True)
            ]
        ),
        "precision_recall": _thin(
            [
                {"recall": _round(r), "precision": _round(p), "threshold": _round(th)}
                for r, p, th in zip(recall[:-1], precision[:-1], pr_thresholds, strict=True)
            ]
        ),
        "calibration": [
            {"mean_predicted": _round(p), "fraction_positive": _round(t)}
            for p, t in zip(prob_pred, prob_true, strict=True)
        ],
        "confusion": [
            {"actual": int(a), "predicted": int(p)} for a, p in zip(target, predicted, strict=True)
        ],
    }


def write_outputs(evaluation: Evaluation, bins: int, metrics_path: Path, plots_dir: Path) -> None:
    metrics_path.parent.mkdir(parents=True, exist_ok=True)
    metrics_path.write_text(json.dumps(evaluation.metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    plots_dir.mkdir(parents=True, exist_ok=True)
    for name, rows in plot_data(evaluation, bins).items():
        if name == "confusion":
            with (plots_dir / "confusion.csv").open("w", newline="", encoding="utf-8") as stream:
                writer = csv.DictWriter(stream, fieldnames=["actual", "predicted"], lineterminator="\n")
                writer.writeheader()
                writer.writerows(rows)
        else:
            (plots_dir / f"{name}.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")


def run(
    config: EvaluateConfig,
    *,
    model_path: Path,
    simple_model_path: Path,
    test_path: Path,
    metrics_path: Path,
    plots_dir: Path,
) -> Evaluation:
    """CLI entry: evaluate the candidate (and, for the gates, the simple model) on the test split."""
    test = read_processed(test_path)
    evaluation = evaluate(load_model(model_path), test, config)
    simple = evaluate(load_model(simple_model_path), test, config)
    evaluation.metrics["simple_model"] = {"overall": simple.metrics["overall"]}
    write_outputs(evaluation, config.calibration_bins, metrics_path, plots_dir)
    return evaluation
