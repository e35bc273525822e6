"""The report's "Serving cost" section, from `mlship cost`'s measurement."""

from __future__ import annotations

from typing import Any

from mlship.report.serving import serving_section

RESOLUTION = 0.15


def _side(p50: float, model_bytes: int, rss: int, load_s: float, rps: float) -> dict[str, Any]:
    footprint = {
        "model_bytes": model_bytes,
        "rss_bytes": rss,
        "load_s": load_s,
        "predictor": "CompiledPredictor",
    }
    return {"p50_ms": p50, "p99_ms": p50 * 1.5, "records_per_s": rps, "footprint": footprint}


def _ratio(ratio: float, low: float, high: float) -> dict[str, Any]:
    return {"ratio": ratio, "interval": {"low": low, "high": high}}


def _document(
    pr: dict[str, Any], base: dict[str, Any] | None, ratios: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "pr": pr,
        "base": base,
        "ratios": ratios,
        "base_note": "base: main@01234567",
        "model": "models/model.joblib",
        "settings": {"rounds": 30, "calls_per_block": 40, "batch_records": 1000},
    }


def _rows(lines: list[str]) -> dict[str, list[str]]:
    rows = [line.strip("|").split(" | ") for line in lines if line.startswith("| ") and "---" not in line]
    return {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in rows[1:]}


def test_a_bigger_slower_model_is_marked_slower_and_larger_with_intervals() -> None:
    # given a PR model four times slower per record, a third of the throughput, eight times the bytes
    document = _document(
        _side(0.29, 7_280_000, 344_000_000, 5.0, 10_420),
        _side(0.071, 928_000, 47_600_000, 1.9, 32_040),
        {"p50": _ratio(4.1, 4.06, 4.14), "p99": _ratio(2.28, 2.07, 2.47), "batch": _ratio(3.07, 3.05, 3.1)},
    )
    # when the section is rendered
    rows = _rows(serving_section(document, None, RESOLUTION))
    # then every row says slower or larger, the latency rows with their interval
    assert rows["one-record latency p50 (ms)"][2:] == ["x4.100 [x4.060, x4.140]", "🔴 slower"]
    assert rows["one-record latency p99 (ms)"][3] == "🔴 slower"
    assert rows["throughput, batches of 1,000 (records/s)"][2:] == ["x0.326 [x0.323, x0.328]", "🔴 slower"]
    assert rows["model size, `models/model.joblib` (MB)"][:2] == ["0.928", "7.28"]
    assert rows["model size, `models/model.joblib` (MB)"][3] == "🔴 larger"
    assert rows["memory: RSS growth after loading (MB)"][3] == "🔴 larger"
    assert rows["load + compile, fresh process (s)"][3] == "🔴 slower"


def test_the_same_model_measured_twice_is_within_noise_and_the_same_size() -> None:
    # given an unchanged model: a ratio whose interval excludes 1 by a hair (the copy loaded second)
    side = _side(0.07, 928_000, 48_000_000, 2.0, 31_000)
    ratios = {
        "p50": _ratio(0.978, 0.974, 0.982),
        "p99": _ratio(0.97, 0.93, 1.0),
        "batch": _ratio(1.0, 0.99, 1.01),
    }
    rows = _rows(serving_section(_document(side, dict(side), ratios), None, RESOLUTION))
    # then nothing is marked faster or slower, and the size is the same
    marks = [cells[3] for cells in rows.values()]
    assert marks[:3] == ["⚪ within noise (±15%)"] * 3
    assert marks[3] == "⚪ same size"


def test_without_a_base_the_pr_model_stands_alone_and_without_a_measurement_the_section_says_why() -> None:
    alone = serving_section(
        _document(_side(0.07, 928_000, 48_000_000, 2.0, 31_000), None, None), None, RESOLUTION
    )
    assert "No base model to compare with (base: main@01234567)" in "\n".join(alone)
    assert _rows(alone)["one-record latency p50 (ms)"] == ["", "0.0700", "", ""]
    missing = serving_section(None, "no serving-cost measurement: run `make cost`", RESOLUTION)
    assert missing[-1].startswith("Not measured: no serving-cost measurement: run `make cost`.")
