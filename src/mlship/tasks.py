"""The learning tasks the template supports and the metrics each one reports.

One table says, for every metric, which direction is better. The gates, the summary and the PR report read
it; nothing else keeps its own list of "lower is better" metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

Task = Literal["binary", "multiclass", "regression"]
TASKS: Final[tuple[Task, ...]] = get_args(Task)


@dataclass(frozen=True)
class MetricInfo:
    """One metric: its name in ``metrics.json``, which direction is better, and a short description."""

    name: str
    higher_is_better: bool
    description: str


_BINARY: Final = (
    MetricInfo("roc_auc", True, "area under the ROC curve"),
    MetricInfo("pr_auc", True, "average precision (area under the precision-recall curve)"),
    MetricInfo("f1", True, "F1 of the positive class at the decision threshold"),
    MetricInfo("accuracy", True, "share of records labelled correctly at the decision threshold"),
    MetricInfo("log_loss", False, "cross-entropy of the predicted probabilities"),
    MetricInfo("brier", False, "mean squared error of the positive-class probability"),
)
_MULTICLASS: Final = (
    MetricInfo("accuracy", True, "share of records labelled correctly"),
    MetricInfo("balanced_accuracy", True, "mean recall over the classes"),
    MetricInfo("f1_macro", True, "unweighted mean F1 over the classes"),
    MetricInfo("roc_auc_ovr", True, "one-vs-rest ROC AUC, averaged over the classes"),
    MetricInfo("log_loss", False, "cross-entropy of the predicted probabilities"),
)
_REGRESSION: Final = (
    MetricInfo("r2", True, "coefficient of determination"),
    MetricInfo("mae", False, "mean absolute error"),
    MetricInfo("rmse", False, "root mean squared error"),
    MetricInfo("median_ae", False, "median absolute error"),
)

METRICS: Final[dict[Task, tuple[MetricInfo, ...]]] = {
    "binary": _BINARY,
    "multiclass": _MULTICLASS,
    "regression": _REGRESSION,
}

#: Every known metric and whether higher is better (a name means the same thing in every task).
HIGHER_IS_BETTER: Final[dict[str, bool]] = {m.name: m.higher_is_better for ms in METRICS.values() for m in ms}


def metric_names(task: Task) -> tuple[str, ...]:
    """The metrics ``evaluate`` writes for ``task``, headline first."""
    return tuple(metric.name for metric in METRICS[task])


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of ``metric`` is an improvement; unknown names are a ``KeyError``."""
    try:
        return HIGHER_IS_BETTER[metric]
    except KeyError:
        known = ", ".join(sorted(HIGHER_IS_BETTER))
        raise KeyError(f"unknown metric {metric!r} (known: {known})") from None


def headline_metric(task: Task) -> str:
    """The one metric a summary leads with."""
    return METRICS[task][0].name
