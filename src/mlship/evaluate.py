"""Stage ``evaluate``: the task's metrics overall and per slice of each sensitive attribute, plus plot data.

``metrics.json`` is what DVC diffs against ``main`` and what the model gates read. The metric names per task
are the ones in :mod:`mlship.tasks`; plots follow the task (ROC, precision-recall, confusion and calibration
for a binary classifier; confusion for a multiclass one; predicted-vs-actual and residuals for regression).
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
    mean_absolute_error,
    mean_squared_error,
    median_absolute_error,
    precision_recall_curve,
    r2_score,
    roc_auc_score,
    roc_curve,
)
from sklearn.pipeline import Pipeline

from mlship import predictions
from mlship.config import EvaluateConfig
from mlship.data.schema import FloatArray, Schema, TargetArray, read_processed, split_xy
from mlship.slices import groups as slice_groups
from mlship.tasks import Task
from mlship.train import load_model

_DIGITS = 6
_MAX_CURVE_POINTS = 400

Metrics = dict[str, float | int]


def _round(value: float) -> float:
    return round(float(value), _DIGITS)


def binary_metrics(target: TargetArray, probability: FloatArray, threshold: float) -> Metrics:
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


def balanced_accuracy(target: TargetArray, predicted: TargetArray) -> float:
    """Mean recall over the classes present in ``target`` (scikit-learn's definition, without its warning
    when a slice holds a single class)."""
    present = np.unique(target)
    if present.size == 0:
        return 0.0
    return float(np.mean([np.mean(predicted[target == label] == label) for label in present]))


def multiclass_metrics(target: TargetArray, probabilities: FloatArray) -> Metrics:
    """Label metrics from the most probable class; the one-vs-rest AUC only when every class is present."""
    classes = probabilities.shape[1]
    predicted = probabilities.argmax(axis=1)
    metrics: Metrics = {
        "n": int(target.size),
        "accuracy": _round(accuracy_score(target, predicted)),
        "balanced_accuracy": _round(balanced_accuracy(target, predicted)),
        "f1_macro": _round(f1_score(target, predicted, average="macro", zero_division=0.0)),
        "log_loss": _round(log_loss(target, probabilities, labels=list(range(classes)))),
    }
    if np.unique(target).size == classes:
        metrics["roc_auc_ovr"] = _round(
            roc_auc_score(target, probabilities, multi_class="ovr", labels=list(range(classes)))
        )
    return metrics


def regression_metrics(target: TargetArray, predicted: FloatArray) -> Metrics:
    """Errors in the target's unit; ``r2`` only when it is defined (two or more rows, varying target)."""
    metrics: Metrics = {
        "n": int(target.size),
        "mae": _round(mean_absolute_error(target, predicted)),
        "rmse": _round(math.sqrt(mean_squared_error(target, predicted))),
        "median_ae": _round(median_absolute_error(target, predicted)),
    }
    if target.size >= 2 and np.unique(target).size > 1:
        metrics["r2"] = _round(r2_score(target, predicted))
    return metrics


def predict(model: Pipeline, features: pd.DataFrame, task: Task) -> FloatArray:
    """Binary: the positive class's probability; multiclass: every class's; regression: the value."""
    if task == "regression":
        return np.asarray(model.predict(features), dtype=np.float64)
    probabilities = np.asarray(model.predict_proba(features), dtype=np.float64)
    return probabilities[:, 1] if task == "binary" else probabilities


def task_metrics(task: Task, target: TargetArray, output: FloatArray, threshold: float) -> Metrics:
    if task == "binary":
        return binary_metrics(target, output, threshold)
    if task == "multiclass":
        return multiclass_metrics(target, output)
    return regression_metrics(target, output)


def slice_metrics(
    features: pd.DataFrame, target: TargetArray, output: FloatArray, threshold: float, schema: Schema
) -> dict[str, dict[str, Metrics]]:
    """The same metrics for every category of every sensitive attribute (missing values as ``<missing>``)."""
    slices: dict[str, dict[str, Metrics]] = {}
    for attribute, groups in slice_groups(features, schema).items():
        slices[attribute] = {
            str(group): task_metrics(schema.task, target[groups == group], output[groups == group], threshold)
            for group in sorted(set(groups))
        }
    return slices


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, Any]
    task: Task
    target: TargetArray
    output: FloatArray
    threshold: float
    classes: tuple[str, ...] = ()


def evaluate(model: Pipeline, test: pd.DataFrame, config: EvaluateConfig, schema: Schema) -> Evaluation:
    """Score ``model`` on ``test``: overall and per-slice metrics."""
    features, target = split_xy(test, schema)
    output = predict(model, features, schema.task)
    metrics = {
        "overall": task_metrics(schema.task, target, output, config.threshold),
        "slices": slice_metrics(features, target, output, config.threshold, schema),
    }
    return Evaluation(metrics, schema.task, target, output, config.threshold, schema.target.classes)


def _thin(rows: list[dict[str, float]]) -> list[dict[str, float]]:
    if len(rows) <= _MAX_CURVE_POINTS:
        return rows
    keep = np.unique(np.linspace(0, len(rows) - 1, _MAX_CURVE_POINTS).round().astype(int))
    return [rows[i] for i in keep]


def _binary_plots(evaluation: Evaluation, bins: int) -> dict[str, list[dict[str, Any]]]:
    target, probability = evaluation.target, evaluation.output
    plots: dict[str, list[dict[str, Any]]] = {}
    if np.unique(target).size == 2:
        fpr, tpr, roc_thresholds = roc_curve(target, probability)
        precision, recall, pr_thresholds = precision_recall_curve(target, probability)
        finite = [t if math.isfinite(t) else 1.0 for t in roc_thresholds]
        plots["roc"] = _thin(
            [
                {"fpr": _round(f), "tpr": _round(t), "threshold": _round(th)}
                for f, t, th in zip(fpr, tpr, finite, strict=True)
            ]
        )
        plots["precision_recall"] = _thin(
            [
                {"recall": _round(r), "precision": _round(p), "threshold": _round(th)}
                for r, p, th in zip(recall[:-1], precision[:-1], pr_thresholds, strict=True)
            ]
        )
        prob_true, prob_pred = calibration_curve(target, probability, n_bins=bins, strategy="quantile")
        plots["calibration"] = [
            {"mean_predicted": _round(p), "fraction_positive": _round(t)}
            for p, t in zip(prob_pred, prob_true, strict=True)
        ]
    predicted = (probability >= evaluation.threshold).astype(np.int64)
    classes = evaluation.classes
    plots["confusion"] = [
        {"actual": classes[a], "predicted": classes[p]} for a, p in zip(target, predicted, strict=True)
    ]
    return plots


def plot_data(evaluation: Evaluation, bins: int) -> dict[str, list[dict[str, Any]]]:
    """Rows for DVC plots; the files written depend on the task (see the module docstring)."""
    if evaluation.task == "binary":
        return _binary_plots(evaluation, bins)
    if evaluation.task == "multiclass":
        classes = evaluation.classes
        predicted = evaluation.output.argmax(axis=1)
        return {
            "confusion": [
                {"actual": classes[a], "predicted": classes[p]}
                for a, p in zip(evaluation.target, predicted, strict=True)
            ]
        }
    actual, predicted_values = evaluation.target, evaluation.output
    order = np.argsort(actual, kind="stable")
    pairs = [{"actual": _round(actual[i]), "predicted": _round(predicted_values[i])} for i in order]
    residuals = sorted(
        (
            {"predicted": _round(p), "residual": _round(a - p)}
            for a, p in zip(actual, predicted_values, strict=True)
        ),
        key=lambda row: (row["predicted"], row["residual"]),
    )
    return {"predicted_vs_actual": _thin(pairs), "residuals": _thin(residuals)}


def write_outputs(evaluation: Evaluation, bins: int, metrics_path: Path, plots_dir: Path) -> None:
    """Write ``metrics.json`` and the task's plot files; plot files of another task are removed."""
    metrics_path.parent.mkdir(parents=True, exist_ok=True)
    metrics_path.write_text(json.dumps(evaluation.metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    plots_dir.mkdir(parents=True, exist_ok=True)
    for stale in [*plots_dir.glob("*.json"), *plots_dir.glob("*.csv")]:
        stale.unlink()
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
    schema: Schema,
    *,
    model_path: Path,
    simple_model_path: Path,
    test_path: Path,
    metrics_path: Path,
    plots_dir: Path,
    predictions_path: Path,
) -> Evaluation:
    """CLI entry: evaluate the candidate (and, for the gates, the simple model) on the test split; write
    the candidate's test-set predictions for the PR report's paired comparison."""
    test = read_processed(test_path, schema)
    evaluation = evaluate(load_model(model_path), test, config, schema)
    simple = evaluate(load_model(simple_model_path), test, config, schema)
    evaluation.metrics["simple_model"] = {"overall": simple.metrics["overall"]}
    write_outputs(evaluation, config.calibration_bins, metrics_path, plots_dir)
    scored = predictions.from_output(evaluation.task, evaluation.target, evaluation.output, config.threshold)
    predictions.write(scored, predictions_path)
    return evaluation
