"""Served latency per model version against the offline measurement, and invalid served outputs."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlship.monitor import latency

finite_probability = st.floats(0.0, 1.0, allow_nan=False)


def _captured(latencies: list[float], sizes: list[int], sha: str = "a" * 40) -> pd.DataFrame:
    """Captured records: request i answered ``sizes[i]`` records in ``latencies[i]`` ms."""
    rows = [
        {"request_id": f"{sha[0]}-{i}", "git_sha": sha, "latency_ms": ms, "record": j}
        for i, (ms, size) in enumerate(zip(latencies, sizes, strict=True))
        for j in range(size)
    ]
    return pd.DataFrame(rows)


def test_only_one_record_requests_count_per_version() -> None:
    # given one-record requests of two versions and a batch of 250 records (much slower: not comparable)
    records = pd.concat(
        [
            _captured([1.0] * 30, [1] * 30, sha="a" * 40),
            _captured([2.0] * 25, [1] * 25, sha="b" * 40),
            _captured([90.0], [250], sha="a" * 40).assign(request_id="batch"),
        ]
    )
    # when the served latency is read per version
    found = latency.per_version(records)
    # then the batch is left out and each version has its own percentiles
    assert found == {
        "a" * 40: {"requests": 30, "p50_ms": 1.0, "p99_ms": 1.0},
        "b" * 40: {"requests": 25, "p50_ms": 2.0, "p99_ms": 2.0},
    }


@given(st.floats(0.01, 100.0), st.floats(0.01, 100.0), st.floats(1.01, 10.0))
def test_an_alert_exactly_when_the_served_p50_exceeds_the_limit_times_the_offline_one(
    served_ms: float, offline_ms: float, limit: float
) -> None:
    served = {"requests": 100, "p50_ms": served_ms, "p99_ms": served_ms}
    verdict = latency.judge(served, (offline_ms, offline_ms), limit)
    assert verdict.judged["p50"] == pytest.approx(served_ms / offline_ms)
    assert ("p50" in verdict.over) == (served_ms / offline_ms > limit)


def test_the_p99_is_judged_only_with_enough_requests_and_nothing_with_too_few() -> None:
    few = latency.judge({"requests": 5, "p50_ms": 9.0, "p99_ms": 9.0}, (1.0, 1.0), 3.0)
    some = latency.judge({"requests": 100, "p50_ms": 1.0, "p99_ms": 90.0}, (1.0, 1.0), 3.0)
    many = latency.judge(
        {"requests": latency.P99_MIN_REQUESTS, "p50_ms": 1.0, "p99_ms": 90.0}, (1.0, 1.0), 3.0
    )
    assert (few.judged, few.over) == ({}, {})
    assert "fewer than" in few.reason
    assert (set(some.judged), some.over) == ({"p50"}, {})
    assert "p99 not judged" in some.reason
    assert many.over == {"p99": 90.0}


@given(st.lists(finite_probability, min_size=1, max_size=50))
def test_valid_probabilities_are_not_flagged(probabilities: list[float]) -> None:
    records = pd.DataFrame(
        {"request_id": [f"r{i}" for i in range(len(probabilities))], "prediction.probability": probabilities}
    )
    found = latency.invalid_outputs(records, classifier=True)
    assert (found["checked"], found["non_finite"], found["out_of_range"]) == (len(probabilities), 0, 0)


@given(
    st.lists(finite_probability, min_size=1, max_size=20),
    st.sampled_from([math.nan, math.inf, -math.inf, 1.5, -0.1]),
    st.data(),
)
def test_a_non_finite_or_out_of_range_probability_is_flagged_with_its_request(
    probabilities: list[float], bad: float, data: st.DataObject
) -> None:
    # given valid answers and one invalid one at any position
    position = data.draw(st.integers(0, len(probabilities)))
    values = [*probabilities[:position], bad, *probabilities[position:]]
    records = pd.DataFrame(
        {"request_id": [f"r{i}" for i in range(len(values))], "prediction.probability": values}
    )
    # when checked
    found = latency.invalid_outputs(records, classifier=True)
    # then exactly that record is counted, as non-finite or out of range, and its request named
    assert found["non_finite"] + found["out_of_range"] == 1
    assert found["non_finite"] == int(not math.isfinite(bad))
    assert found["request_ids"] == [f"r{position}"]


def test_a_regression_value_outside_zero_and_one_is_fine_but_nan_is_not() -> None:
    records = pd.DataFrame({"request_id": ["a", "b", "c"], "prediction.value": [-5.0, 1e6, math.nan]})
    found = latency.invalid_outputs(records, classifier=False)
    assert (found["non_finite"], found["out_of_range"], found["request_ids"]) == (1, 0, ["c"])


def test_a_multiclass_answer_with_a_nan_probability_is_flagged() -> None:
    probabilities = [{"a": 0.2, "b": 0.8}, {"a": math.nan, "b": 0.5}]
    records = pd.DataFrame({"request_id": ["x", "y"], "prediction.probabilities": probabilities})
    assert latency.invalid_outputs(records, classifier=True)["request_ids"] == ["y"]
