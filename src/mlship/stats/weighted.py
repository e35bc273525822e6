"""Every metric of :mod:`mlship.tasks` for many row weightings at once (pure numpy, no loop over resamples).

A bootstrap resample of ``n`` rows is a row of ``n`` drawn row indices; :class:`Draws` holds ``resamples``
of them and the counts they imply (how often each row was drawn: a matrix ``W`` of shape
``(resamples, n)``). Each function returns the metric for every resample: a weighted sum is a matrix
product with ``W``, and the rank-based metrics (ROC AUC, average precision, the median error) sort the
scores once and count the draws per group of tied scores with one ``bincount``. On the identity draw (every
row once) each metric equals scikit-learn's on the unresampled data (tests/stats/test_weighted.py).

A metric undefined on a resample (an AUC when one class is absent, R² when the target does not vary) is NaN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from mlship.predictions import FloatArray, IntArray, Predictions
from mlship.tasks import Task, metric_names

Weights = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Draws:
    """``index[b]`` are the rows drawn in resample ``b`` (shape ``(resamples, n)``)."""

    index: IntArray
    n: int

    @classmethod
    def identity(cls, n: int) -> Draws:
        """One "resample" holding every row once: the metrics of the data as it is."""
        return cls(np.arange(n, dtype=np.int64)[None, :], n)

    @property
    def resamples(self) -> int:
        return int(self.index.shape[0])

    def counts(self, key: IntArray, groups: int) -> Weights:
        """How often each value of ``key`` (per row, in ``range(groups)``) was drawn, per resample."""
        offsets = (np.arange(self.resamples, dtype=np.int64) * groups)[:, None]
        flat = (key[self.index] + offsets).ravel()
        counted = np.bincount(flat, minlength=self.resamples * groups)
        return counted.reshape(self.resamples, groups).astype(np.float64)

    @cached_property
    def weights(self) -> Weights:
        """How often each row was drawn, per resample."""
        return self.counts(np.arange(self.n, dtype=np.int64), self.n)


_EPS = float(np.finfo(np.float64).eps)


def _ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), np.nan)


def ranked(
    draws: Draws, positive: npt.NDArray[np.bool_], scores: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """ROC AUC and average precision of ``scores`` for the class ``positive``, for every resample.

    Ties count half in the AUC (as in scikit-learn); average precision sums recall steps times the precision
    at each distinct threshold, from the highest score down (scikit-learn's definition).
    """
    order = np.argsort(scores, kind="stable")
    ordered = scores[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]]
    groups = int(starts.sum())
    group_of = np.empty(scores.size, dtype=np.int64)
    group_of[order] = np.cumsum(starts) - 1
    counted = draws.counts(group_of * 2 + positive.astype(np.int64), 2 * groups)
    neg, pos = counted[:, 0::2], counted[:, 1::2]
    total_pos, total_neg = pos.sum(axis=1), neg.sum(axis=1)
    below = np.cumsum(neg, axis=1) - neg
    auc = _ratio((pos * (below + 0.5 * neg)).sum(axis=1), total_pos * total_neg)
    above_pos = np.cumsum(pos[:, ::-1], axis=1)
    above_all = above_pos + np.cumsum(neg[:, ::-1], axis=1)
    precision = np.where(above_all > 0, above_pos / np.where(above_all > 0, above_all, 1.0), 0.0)
    ap = _ratio((pos[:, ::-1] * precision).sum(axis=1), total_pos)
    auc = np.where((total_pos > 0) & (total_neg > 0), auc, np.nan)
    return auc, ap


def _log_loss(weights: Weights, true_probability: FloatArray, n: FloatArray) -> FloatArray:
    loss = -np.log(np.clip(true_probability, _EPS, 1 - _EPS))
    return _ratio(weights @ loss, n)


def binary(draws: Draws, p: Predictions) -> dict[str, FloatArray]:
    weights = draws.weights
    y = p.label == 1
    predicted = p.predicted if p.predicted is not None else (p.scores >= 0.5).astype(np.int64)
    hit = predicted == 1
    n = weights.sum(axis=1)
    tp = weights @ (y & hit).astype(np.float64)
    fp = weights @ (~y & hit).astype(np.float64)
    fn = weights @ (y & ~hit).astype(np.float64)
    f1_denominator = 2 * tp + fp + fn
    auc, ap = ranked(draws, y, p.scores)
    return {
        "roc_auc": auc,
        "pr_auc": ap,
        "f1": np.where(f1_denominator > 0, _ratio(2 * tp, f1_denominator), 0.0),
        "accuracy": _ratio(weights @ (predicted == p.label).astype(np.float64), n),
        "log_loss": _log_loss(weights, np.where(y, p.scores, 1 - p.scores), n),
        "brier": _ratio(weights @ (p.scores - y) ** 2, n),
    }


def multiclass(draws: Draws, p: Predictions) -> dict[str, FloatArray]:
    weights = draws.weights
    label = p.label.astype(np.int64)
    classes = p.scores.shape[1]
    predicted = p.predicted if p.predicted is not None else p.scores.argmax(axis=1)
    n = weights.sum(axis=1)
    recalls, f1s, aucs = [], [], []
    for k in range(classes):
        actual, hit = label == k, predicted == k
        support = weights @ actual.astype(np.float64)
        chosen = weights @ hit.astype(np.float64)
        tp = weights @ (actual & hit).astype(np.float64)
        recalls.append(_ratio(tp, support))
        present = (support + chosen) > 0
        denominator = support + chosen  # 2tp + fp + fn
        f1s.append(np.where(present, np.where(denominator > 0, _ratio(2 * tp, denominator), 0.0), np.nan))
        aucs.append(ranked(draws, actual, p.scores[:, k])[0])
    true_probability = p.scores[np.arange(label.size), label]
    return {
        "accuracy": _ratio(weights @ (predicted == label).astype(np.float64), n),
        "balanced_accuracy": _nanmean(np.array(recalls)),
        "f1_macro": _nanmean(np.array(f1s)),
        "roc_auc_ovr": np.array(aucs).mean(axis=0),  # NaN when a class is absent from the resample
        "log_loss": _log_loss(weights, true_probability, n),
    }


def _nanmean(values: FloatArray) -> FloatArray:
    """Mean over the first axis ignoring NaN (classes absent from a resample); NaN when all are."""
    counts = (~np.isnan(values)).sum(axis=0)
    sums = np.nansum(values, axis=0)
    return _ratio(sums, counts.astype(np.float64))


def weighted_median(draws: Draws, values: FloatArray) -> FloatArray:
    """The median of the drawn ``values`` (the mean of the two middle ones when their count is even)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    rank = np.empty(values.size, dtype=np.int64)
    rank[order] = np.arange(values.size)
    cumulative = np.cumsum(draws.counts(rank, values.size), axis=1)
    total = cumulative[:, -1] if values.size else np.zeros(draws.resamples)
    low_rank = np.floor((total - 1) / 2)
    high_rank = np.floor(total / 2)
    low = (cumulative <= low_rank[:, None]).sum(axis=1)
    high = (cumulative <= high_rank[:, None]).sum(axis=1)
    if values.size == 0:
        return np.full(draws.resamples, np.nan)
    last = ordered.size - 1
    return np.where(total > 0, (ordered[np.minimum(low, last)] + ordered[np.minimum(high, last)]) / 2, np.nan)


def regression(draws: Draws, p: Predictions) -> dict[str, FloatArray]:
    weights = draws.weights
    error = p.label - p.scores
    n = weights.sum(axis=1)
    squared = weights @ error**2
    centre = p.label.mean() if p.label.size else 0.0
    shifted = p.label - centre
    mean_shift = _ratio(weights @ shifted, n)
    total = weights @ shifted**2 - n * mean_shift**2
    varies = total > 1e-12 * np.maximum(weights @ shifted**2, 1e-300)
    return {
        "r2": np.where(varies & (n >= 2), 1 - _ratio(squared, np.where(varies, total, 1.0)), np.nan),
        "mae": _ratio(weights @ np.abs(error), n),
        "rmse": np.sqrt(_ratio(squared, n)),
        "median_ae": weighted_median(draws, np.abs(error)),
    }


SCORERS: dict[Task, Callable[[Draws, Predictions], dict[str, FloatArray]]] = {
    "binary": binary,
    "multiclass": multiclass,
    "regression": regression,
}


def score(draws: Draws, predictions: Predictions) -> dict[str, FloatArray]:
    """Every metric of the task, one value per resample in ``draws``."""
    scores = SCORERS[predictions.task](draws, predictions)
    return {name: scores[name] for name in metric_names(predictions.task)}
