"""The ratio of two timings' percentiles, with a block-bootstrap interval over paired measurement rounds.

Two models timed in the same rounds (each round times both, A-B-B-A) share whatever the machine did during
that round. Resampling whole rounds, the same rounds for both sides, keeps that pairing: the interval reflects
how the two models differ, not how busy the machine was. Within a resample each side's timings are pooled and
the percentile taken, so a p99 is a p99 of calls, not an average of per-round p99s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from mlship.predictions import FloatArray
from mlship.stats.bootstrap import Interval, percentile_interval

Mark = Literal["faster", "slower", "within noise"]


@dataclass(frozen=True)
class RatioInterval:
    """Each side's percentile, the ratio ``pr / base`` and its interval."""

    base: float
    pr: float
    ratio: float
    interval: Interval


def _rounds(values: Sequence[Sequence[float]], side: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] < 2 or array.shape[1] < 1:
        raise ValueError(f"{side}: need at least two rounds of at least one timing each, got {array.shape}")
    if not np.isfinite(array).all() or (array <= 0).any():
        raise ValueError(f"{side}: timings must be finite and positive")
    return array


def percentile_ratio(
    base: Sequence[Sequence[float]],
    pr: Sequence[Sequence[float]],
    q: float,
    *,
    resamples: int,
    seed: int,
    confidence: float,
) -> RatioInterval:
    """``percentile(pr, q) / percentile(base, q)`` with a paired block-bootstrap interval (rounds x calls)."""
    a, b = _rounds(base, "base"), _rounds(pr, "pr")
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"base and pr must have the same rounds, got {a.shape[0]} and {b.shape[0]}")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, a.shape[0], size=(resamples, a.shape[0]))
    base_q = np.percentile(a[picks].reshape(resamples, -1), q, axis=1)
    pr_q = np.percentile(b[picks].reshape(resamples, -1), q, axis=1)
    interval = percentile_interval(pr_q / base_q, confidence)
    point_base, point_pr = float(np.percentile(a, q)), float(np.percentile(b, q))
    ratio = point_pr / point_base
    return RatioInterval(point_base, point_pr, ratio, interval or Interval(ratio, ratio))


def mark(interval: Interval, ratio: float, resolution: float) -> Mark:
    """Slower (faster) only when the whole interval lies above (below) 1 and the ratio is beyond the
    measurement's resolution: two copies of one model timed side by side differ by up to that much."""
    if interval.low > 1.0 and ratio > 1.0 + resolution:
        return "slower"
    if interval.high < 1.0 and ratio < 1.0 / (1.0 + resolution):
        return "faster"
    return "within noise"
