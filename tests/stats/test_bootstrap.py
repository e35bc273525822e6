"""The bootstrap's promises: identical models show no change, a model better on every resample is better,
intervals shrink as the test set grows, and the seed makes every interval reproducible."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mlship.predictions import Predictions, from_output
from mlship.stats.bootstrap import compare, judge
from mlship.stats.weighted import Draws, score
from mlship.tasks import higher_is_better, metric_names

RESAMPLES = 200


def binary(n: int, seed: int, noise: float = 1.0) -> Predictions:
    """A classifier whose score is the label plus noise (larger noise: a worse model on the same rows)."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    score = 1 / (1 + np.exp(-(2 * label - 1 + rng.normal(scale=noise, size=n))))
    return from_output("binary", label, score, 0.5)


def regression(n: int, seed: int, noise: float = 1.0) -> Predictions:
    rng = np.random.default_rng(seed)
    label = rng.normal(size=n)
    return from_output("regression", label, label + rng.normal(scale=noise, size=n), 0.5)


@settings(max_examples=15)
@given(n=st.integers(50, 400), seed=st.integers(0, 2**16))
def test_an_identical_model_changes_nothing_and_is_within_noise(n: int, seed: int) -> None:
    # given the same predictions as base and PR / when compared
    p = binary(n, seed)
    result = compare(p, p, resamples=RESAMPLES, seed=seed)
    # then paired, every delta's interval is exactly [0, 0], judged as noise
    assert result.mode == "paired"
    for metric, interval in result.metrics.items():
        assert interval.delta is not None
        assert (interval.delta.low, interval.delta.high) == (0.0, 0.0)
        assert judge(interval.delta, higher_is_better(metric)) == "noise"


@settings(max_examples=15)
@given(n=st.integers(200, 600), seed=st.integers(0, 2**16))
def test_a_model_better_on_every_resample_is_marked_better(n: int, seed: int) -> None:
    # given a PR that predicts every row's value exactly where the base errs
    base = regression(n, seed, noise=1.0)
    pr = Predictions("regression", base.rows, base.label, base.label.copy(), None)
    # when compared on the same rows
    result = compare(pr, base, resamples=RESAMPLES, seed=seed)
    # then every error metric is better beyond noise, in its own direction
    for metric in metric_names("regression"):
        delta = result.metrics[metric].delta
        assert judge(delta, higher_is_better(metric)) == "better", (metric, delta)


@settings(max_examples=8)
@given(seed=st.integers(0, 2**16))
def test_intervals_shrink_as_the_test_set_grows(seed: int) -> None:
    # given a small and a 16 times larger test set of the same kind of model
    small = compare(binary(100, seed), None, resamples=RESAMPLES, seed=seed)
    large = compare(binary(1600, seed), None, resamples=RESAMPLES, seed=seed)
    # then every metric's interval is narrower on the larger one
    for metric in metric_names("binary"):
        narrow, wide = large.metrics[metric].pr, small.metrics[metric].pr
        assert narrow is not None
        assert wide is not None
        assert narrow.half_width < wide.half_width, metric


@settings(max_examples=10)
@given(seed=st.integers(0, 2**16), other=st.integers(0, 2**16))
def test_the_seed_makes_the_intervals_reproducible(seed: int, other: int) -> None:
    # given two different models on the same rows
    base, pr = binary(300, 7, noise=1.0), binary(300, 7, noise=1.2)
    pr = Predictions("binary", base.rows, base.label, pr.scores, pr.predicted)
    # when compared twice with one seed, and once with another
    first, again = (
        compare(pr, base, seed=seed, resamples=RESAMPLES),
        compare(pr, base, seed=seed, resamples=RESAMPLES),
    )
    # then the same seed gives the same intervals; a different seed other draws
    assert first == again
    if other != seed:
        assert compare(pr, base, seed=other, resamples=RESAMPLES) != first


def test_different_rows_are_compared_unpaired() -> None:
    # given base and PR scored on different test rows (another split)
    result = compare(binary(300, 1), binary(320, 2), resamples=RESAMPLES)
    # then the comparison says so and still gives a delta interval
    assert result.mode == "unpaired"
    assert result.metrics["roc_auc"].delta is not None


def test_without_base_predictions_the_delta_interval_is_assumed_around_the_observed_delta() -> None:
    # given only the PR's predictions and the base's committed values
    pr = binary(500, 3)
    base_values = dict.fromkeys(metric_names("binary"), 0.5)
    result = compare(pr, None, base_values=base_values, resamples=RESAMPLES)
    # then the delta's interval is marked assumed and holds the observed delta (PR value - base value)
    assert result.mode == "assumed"
    observed = score(Draws.identity(pr.n), pr)
    for metric, interval in result.metrics.items():
        assert interval.delta is not None
        assert interval.delta.low < observed[metric][0] - 0.5 < interval.delta.high
