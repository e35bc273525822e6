"""The ratio of two timings' percentiles with a paired block-bootstrap interval, and how it is marked."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlship.stats.bootstrap import Interval
from mlship.stats.ratio import mark, percentile_ratio

OPTIONS = {"resamples": 200, "seed": 0, "confidence": 0.95}

timings = st.lists(
    st.lists(st.floats(1e-6, 1.0, allow_nan=False), min_size=3, max_size=8), min_size=2, max_size=8
).map(lambda rounds: [r[: min(len(x) for x in rounds)] for r in rounds])


@given(timings, st.floats(0.1, 10.0), st.sampled_from([50.0, 99.0]))
def test_a_model_exactly_c_times_slower_has_ratio_c_and_an_interval_of_c(
    base: list[list[float]], factor: float, q: float
) -> None:
    # given the same calls timed on a model that takes exactly `factor` times as long, round by round
    pr = [[t * factor for t in round_] for round_ in base]
    # when the ratio of their percentiles is computed
    result = percentile_ratio(base, pr, q, **OPTIONS)
    # then it is the factor, and so is every resample (the rounds are paired)
    assert result.ratio == pytest.approx(factor, rel=1e-9)
    assert result.interval.low == pytest.approx(factor, rel=1e-9)
    assert result.interval.high == pytest.approx(factor, rel=1e-9)


def test_a_slower_model_amid_machine_noise_is_marked_slower_and_equal_ones_within_noise() -> None:
    # given rounds where the machine's speed drifts by up to 3x, and a model 30 % slower on every call
    rng = np.random.default_rng(1)
    machine = rng.uniform(1.0, 3.0, size=(30, 1))
    base = machine * rng.lognormal(0.0, 0.1, size=(30, 40))
    slower = machine * 1.3 * rng.lognormal(0.0, 0.1, size=(30, 40))
    same = machine * rng.lognormal(0.0, 0.1, size=(30, 40))
    # when each is compared with the base
    verdicts = {}
    for name, pr in {"slower": slower, "same": same}.items():
        result = percentile_ratio(base.tolist(), pr.tolist(), 50, **OPTIONS)
        verdicts[name] = mark(result.interval, result.ratio, resolution=0.05)
    # then the paired rounds cancel the machine's drift: one is slower, the other within noise
    assert verdicts == {"slower": "slower", "same": "within noise"}


@given(st.floats(0.2, 5.0), st.floats(0.0, 0.5), st.floats(0.0, 0.5))
def test_marked_slower_or_faster_only_beyond_one_and_the_resolution(
    ratio: float, spread: float, resolution: float
) -> None:
    interval = Interval(ratio - spread * ratio / 2, ratio + spread * ratio / 2)
    verdict = mark(interval, ratio, resolution)
    if verdict == "slower":
        assert interval.low > 1.0
        assert ratio > 1.0 + resolution
    elif verdict == "faster":
        assert interval.high < 1.0
        assert ratio < 1.0 / (1.0 + resolution)
    else:
        assert interval.low <= 1.0 <= interval.high or 1 / (1 + resolution) <= ratio <= 1 + resolution


@pytest.mark.parametrize(
    ("base", "pr", "message"),
    [
        ([[1.0]], [[1.0]], "two rounds"),
        ([[1.0], [1.0]], [[1.0], [float("nan")]], "finite and positive"),
        ([[1.0], [1.0]], [[1.0], [-1.0]], "finite and positive"),
        ([[1.0], [1.0]], [[1.0], [1.0], [1.0]], "same rounds"),
    ],
)
def test_timings_that_cannot_be_compared_are_refused(
    base: list[list[float]], pr: list[list[float]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        percentile_ratio(base, pr, 50, **OPTIONS)
