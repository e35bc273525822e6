"""The serving gates read `mlship cost`'s measurement: size, load time and the latency ratio's lower bound."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mlship.checks.serving import serving_verdicts
from mlship.config import ServingGate

GATE = ServingGate(max_latency_ratio=1.5, max_model_mb=5.0, max_load_s=10.0)


def _document(
    *, low: float = 0.98, ratio: float = 1.0, high: float = 1.02, base: bool = True
) -> dict[str, Any]:
    def side() -> dict[str, Any]:
        footprint = {"model_bytes": 927_570, "rss_bytes": 48_000_000, "load_s": 2.0, "predictor": "Compiled"}
        return {"p50_ms": 0.07, "p99_ms": 0.1, "records_per_s": 30_000.0, "footprint": footprint}

    def interval() -> dict[str, Any]:
        return {"ratio": ratio, "interval": {"low": low, "high": high}}

    return {
        "pr": side(),
        "base": side() if base else None,
        "ratios": {"p50": interval(), "p99": interval(), "batch": interval()} if base else None,
        "base_commit": "0123456789abcdef",
        "base_note": "no merge base with 'main'" if not base else "base: main@01234567",
    }


def _status(verdicts: list[Any]) -> dict[str, str]:
    return {v.target: v.status for v in verdicts}


def test_a_model_like_the_base_passes_every_serving_gate() -> None:
    verdicts = serving_verdicts(_document(), None, GATE)
    assert _status(verdicts) == {
        "model_mb": "pass",
        "load_s": "pass",
        "latency_p50_ratio": "pass",
        "latency_p99_ratio": "pass",
    }


def test_no_measurement_or_a_measurement_of_another_model_fails_naming_why() -> None:
    # given no measurement, then one of another model
    for document, problem in [
        (None, None),
        (_document(), "reports/serving_cost.json measured another model"),
    ]:
        # when judged
        (verdict,) = serving_verdicts(document, problem, GATE)
        # then one failure: fail closed
        assert (verdict.gate, verdict.target, verdict.status) == ("serving", "measurement", "fail")
    assert "another model" in verdict.detail


def test_without_a_base_model_the_ratio_is_not_judged_but_size_and_load_time_are() -> None:
    verdicts = serving_verdicts(_document(base=False), None, GATE)
    assert _status(verdicts) == {"model_mb": "pass", "load_s": "pass", "latency_ratio": "not_judged"}
    assert "no merge base" in verdicts[-1].detail


def test_a_value_missing_from_the_measurement_fails_its_gate() -> None:
    document = _document()
    del document["pr"]["footprint"]["load_s"]
    document["ratios"]["p99"]["interval"] = {}
    status = _status(serving_verdicts(document, None, GATE))
    assert (status["load_s"], status["latency_p99_ratio"], status["latency_p50_ratio"]) == (
        "fail",
        "fail",
        "pass",
    )


@given(st.floats(0.5, 4.0), st.floats(0.0, 1.0))
def test_the_latency_gate_fails_exactly_when_the_intervals_lower_bound_exceeds_the_limit(
    low: float, width: float
) -> None:
    # given a measured ratio interval [low, low + width]
    document = _document(low=low, ratio=low + width / 2, high=low + width)
    # when judged
    verdicts = {v.target: v for v in serving_verdicts(document, None, GATE)}
    # then noise alone (a wide interval reaching past the limit) never fails it; a lower bound past it does
    p50 = verdicts["latency_p50_ratio"]
    assert p50.passed == (low <= GATE.max_latency_ratio)
    if not p50.passed:
        assert "max_latency_ratio 1.5" in p50.detail


def test_a_model_over_the_size_or_load_limits_fails_naming_the_value() -> None:
    document = _document()
    document["pr"]["footprint"].update(model_bytes=7_280_000, load_s=12.5)
    verdicts = {v.target: v for v in serving_verdicts(document, None, GATE)}
    assert verdicts["model_mb"].detail == "model 7.28 MB > 5 MB"
    assert not verdicts["load_s"].passed
    assert "12.50 s" in verdicts["load_s"].detail
