"""The report's "Serving cost" section: this tree's model beside the merge base's, from ``mlship cost``.

Latency and throughput were measured side by side in one process (:mod:`mlship.serving.cost`); their ratio
is marked faster or slower only when its interval excludes 1 and it lies beyond the measurement's resolution
(``gates.serving.measure.resolution``), else within noise. Size is exact; memory and load time come from one
fresh process per model, so they are marked only beyond the resolution.
"""

from __future__ import annotations

from typing import Any

from mlship.markdown.tables import significant, table
from mlship.stats.bootstrap import Interval
from mlship.stats.ratio import mark

MARKS = {
    "faster": "🟢 faster",
    "slower": "🔴 slower",
    "within noise": "⚪ within noise",
    "smaller": "🟢 smaller",
    "larger": "🔴 larger",
    "same": "⚪ same size",
}


def _ratio(value: float, interval: Interval | None = None) -> str:
    text = f"x{value:.3f}"
    return text + (f" [x{interval.low:.3f}, x{interval.high:.3f}]" if interval is not None else "")


def _interval(ratio: dict[str, Any]) -> Interval:
    return Interval(float(ratio["interval"]["low"]), float(ratio["interval"]["high"]))


def _latency_row(label: str, key: str, document: dict[str, Any], resolution: float) -> list[str]:
    pr, base, ratios = document["pr"], document.get("base"), document.get("ratios")
    if not base or not ratios:
        return [label, "", significant(pr[key]), "", ""]
    ratio = ratios[key.split("_", maxsplit=1)[0]]
    interval = _interval(ratio)
    judged = mark(interval, float(ratio["ratio"]), resolution)
    return [
        label,
        significant(base[key]),
        significant(pr[key]),
        _ratio(ratio["ratio"], interval),
        _marks(resolution)[judged],
    ]


def _throughput_row(document: dict[str, Any], resolution: float) -> list[str]:
    pr, base, ratios = document["pr"], document.get("base"), document.get("ratios")
    batch = document.get("settings", {}).get("batch_records", 0)
    label = f"throughput, batches of {batch:,} (records/s)"
    if not base or not ratios:
        return [label, "", f"{pr['records_per_s']:,.0f}", "", ""]
    time_ratio = ratios["batch"]
    # throughput is the inverse of the batch time: its ratio and interval are the time's, inverted
    interval = _interval(time_ratio)
    inverse = Interval(1 / interval.high, 1 / interval.low)
    judged = mark(interval, float(time_ratio["ratio"]), resolution)
    return [
        label,
        f"{base['records_per_s']:,.0f}",
        f"{pr['records_per_s']:,.0f}",
        _ratio(1 / float(time_ratio["ratio"]), inverse),
        _marks(resolution)[judged],
    ]


def _footprint_row(
    label: str,
    key: str,
    document: dict[str, Any],
    *,
    scale: float,
    resolution: float = 0.0,
    exact: bool = False,
) -> list[str]:
    pr = float(document["pr"]["footprint"][key]) / scale
    base_side = document.get("base")
    if not base_side:
        return [label, "", significant(pr), "", ""]
    base = float(base_side["footprint"][key]) / scale
    ratio = pr / base if base > 0 else float("inf")
    if exact and pr == base:
        verdict = "same"
    elif ratio > 1 + resolution or (exact and ratio > 1):
        verdict = "larger" if key != "load_s" else "slower"
    elif ratio < 1 / (1 + resolution) or (exact and ratio < 1):
        verdict = "smaller" if key != "load_s" else "faster"
    else:
        verdict = "within noise"
    return [label, significant(base), significant(pr), _ratio(ratio), _marks(resolution)[verdict]]


def _marks(resolution: float) -> dict[str, str]:
    return {**MARKS, "within noise": f"⚪ within noise (±{resolution:.0%})"}


def serving_section(document: dict[str, Any] | None, problem: str | None, resolution: float) -> list[str]:
    lines = ["### Serving cost", ""]
    if document is None or problem is not None:
        return [*lines, f"Not measured: {problem or 'no measurement'}. The serving gates fail without it."]
    settings = document.get("settings", {})
    calls = int(settings.get("rounds", 0)) * int(settings.get("calls_per_block", 0)) * 2
    if document.get("ratios"):
        lead = (
            f"This tree's model and the base's ({document.get('base_note')}), timed side by side in one "
            "process: "
            f"{settings.get('rounds')} A-B-B-A rounds of {calls // max(int(settings.get('rounds', 1)), 1)} "
            f"one-record requests each, through the service's path (contract validation + the compiled "
            f"predictor). Faster or slower only when the ratio's 95 % interval excludes x1 and the ratio is "
            f"beyond ±{resolution:.0%}, the measurement's resolution."
        )
    else:
        lead = f"No base model to compare with ({document.get('base_note')}): this tree's model alone."
    rows = [
        _latency_row("one-record latency p50 (ms)", "p50_ms", document, resolution),
        _latency_row("one-record latency p99 (ms)", "p99_ms", document, resolution),
        _throughput_row(document, resolution),
        _footprint_row(
            f"model size, `{document.get('model')}` (MB)", "model_bytes", document, scale=1e6, exact=True
        ),
        _footprint_row(
            "memory: RSS growth after loading (MB)", "rss_bytes", document, scale=1e6, resolution=resolution
        ),
        _footprint_row(
            "load + compile, fresh process (s)", "load_s", document, scale=1.0, resolution=resolution
        ),
    ]
    predictor = document["pr"]["footprint"].get("predictor")
    note = f"The service serves it with `{predictor}`; memory and load time: one fresh process per model."
    return [*lines, lead, "", *table(["", "base", "PR", "PR / base [95 % CI]", ""], rows, "lrrrl"), "", note]
