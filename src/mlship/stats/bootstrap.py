"""Seeded, vectorised bootstrap intervals for a model's metrics and for the change between two models.

* **paired** — both models scored the same test rows: each resample draws row indices once and scores both
  models on it, so the delta's interval reflects only how the models differ on those rows;
* **unpaired** — different test rows (other data or another split): each side is resampled on its own;
* **assumed** — the base's predictions are not available: the delta's interval is the observed delta plus
  the spread of the difference of two independent resamples of the PR's own predictions (it assumes the
  base's metric varies as much as the PR's does on the same number of rows). The report says so.

Percentile intervals; NaN replicates (a metric undefined on a resample) are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from mlship.predictions import FloatArray, Predictions
from mlship.stats import weighted

Mode = Literal["paired", "unpaired", "assumed"]

RESAMPLES = 1000
SEED = 0
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


@dataclass(frozen=True)
class MetricInterval:
    """The PR's value and the delta (PR - base) with their intervals; ``None`` where undefined."""

    metric: str
    pr: Interval | None
    delta: Interval | None


@dataclass(frozen=True)
class Comparison:
    mode: Mode
    resamples: int
    seed: int
    confidence: float
    n_pr: int
    n_base: int | None
    metrics: dict[str, MetricInterval]


def draw(n: int, resamples: int, rng: np.random.Generator) -> weighted.Draws:
    """``resamples`` bootstrap draws of ``n`` row indices out of ``n``, with replacement."""
    return weighted.Draws(rng.integers(0, max(n, 1), size=(resamples, n), dtype=np.int64), n)


def percentile_interval(replicates: FloatArray, confidence: float) -> Interval | None:
    finite = replicates[np.isfinite(replicates)]
    if finite.size < max(10, replicates.size // 2):
        return None
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return Interval(float(low), float(high))


def same_rows(base: Predictions, pr: Predictions) -> bool:
    """Both files describe the same test rows: the same row ids and the same labels, in the same order."""
    return (
        base.task == pr.task
        and base.n == pr.n
        and bool(np.array_equal(base.rows, pr.rows))
        and bool(np.array_equal(base.label, pr.label))
        and base.scores.shape == pr.scores.shape
    )


def compare(
    pr: Predictions,
    base: Predictions | None,
    *,
    base_values: Mapping[str, float] | None = None,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    confidence: float = CONFIDENCE,
) -> Comparison:
    """Intervals for every metric of the task: the PR's value, and the delta against the base.

    Without ``base`` predictions, ``base_values`` (the base's metrics as committed) give the observed delta
    and the interval is ``assumed`` (see the module docstring); without either there is no delta interval.
    """
    rng = np.random.default_rng(seed)
    pr_draws = draw(pr.n, resamples, rng)
    pr_scores = weighted.score(pr_draws, pr)
    if base is not None and same_rows(base, pr):
        mode: Mode = "paired"
        base_scores = weighted.score(pr_draws, base)
        deltas = {m: pr_scores[m] - base_scores[m] for m in pr_scores}
    elif base is not None:
        mode = "unpaired"
        base_scores = weighted.score(draw(base.n, resamples, rng), base)
        deltas = {m: pr_scores[m] - base_scores[m] for m in pr_scores if m in base_scores}
    else:
        mode = "assumed"
        observed = weighted.score(weighted.Draws.identity(pr.n), pr)
        other = weighted.score(draw(pr.n, resamples, rng), pr)
        deltas = {
            m: (pr_scores[m] - other[m]) + (observed[m][0] - float(base_values[m]))
            for m in pr_scores
            if base_values is not None and m in base_values
        }
    metrics = {
        m: MetricInterval(
            m,
            percentile_interval(pr_scores[m], confidence),
            percentile_interval(deltas[m], confidence) if m in deltas else None,
        )
        for m in pr_scores
    }
    n_base = base.n if base is not None else None
    return Comparison(mode, resamples, seed, confidence, pr.n, n_base, metrics)


Judgement = Literal["better", "worse", "noise", "n/a"]


def judge(delta: Interval | None, higher_is_better: bool) -> Judgement:
    """``better``/``worse`` only when the delta's interval excludes zero in that direction."""
    if delta is None:
        return "n/a"
    if not delta.excludes_zero():
        return "noise"
    improved = delta.low > 0 if higher_is_better else delta.high < 0
    return "better" if improved else "worse"
