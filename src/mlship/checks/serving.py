"""The serving gates: what this tree's model costs to serve (``mlship cost``: ``reports/serving_cost.json``).

Size and load time are this model's own; latency is its ratio to the merge base's model, measured side by
side, judged on the ratio interval's lower bound (so noise alone never fails it). No measurement of the
workspace's model fails every serving gate; no comparable base model leaves the latency ratio unjudged, as
the regression gate is without a baseline.
"""

from __future__ import annotations

from typing import Any

from mlship.checks.gates import Verdict, not_judged
from mlship.config import ServingGate

GATE = "serving"


def _number(document: dict[str, Any], *keys: str) -> float | None:
    value: Any = document
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def serving_verdicts(
    document: dict[str, Any] | None, problem: str | None, config: ServingGate
) -> list[Verdict]:
    """One verdict per serving limit; a ``problem`` (why ``document`` does not describe this model) fails."""
    if document is None or problem is not None:
        return [Verdict(GATE, "measurement", False, None, None, problem or "no serving-cost measurement")]
    verdicts: list[Verdict] = []
    size = _number(document, "pr", "footprint", "model_bytes")
    if size is None:
        verdicts.append(
            Verdict(GATE, "model_mb", False, None, config.max_model_mb, "model size not measured")
        )
    else:
        mb, limit = size / 1e6, config.max_model_mb
        sign = "<=" if mb <= limit else ">"
        verdicts.append(
            Verdict(GATE, "model_mb", mb <= limit, mb, limit, f"model {mb:.2f} MB {sign} {limit:g} MB")
        )
    load = _number(document, "pr", "footprint", "load_s")
    if load is None:
        verdicts.append(Verdict(GATE, "load_s", False, None, config.max_load_s, "load time not measured"))
    else:
        limit = config.max_load_s
        sign = "<=" if load <= limit else ">"
        detail = f"load and compile {load:.2f} s in a fresh process {sign} {limit:g} s"
        verdicts.append(Verdict(GATE, "load_s", load <= limit, load, limit, detail))
    limit = config.max_latency_ratio
    if not document.get("ratios"):
        note = str(document.get("base_note") or "no base model")
        return [*verdicts, not_judged(GATE, "latency_ratio", limit, f"{note}: no latency ratio")]
    where = str(document.get("base_commit") or "")[:8]
    for percentile in ("p50", "p99"):
        ratio = _number(document, "ratios", percentile, "ratio")
        low = _number(document, "ratios", percentile, "interval", "low")
        high = _number(document, "ratios", percentile, "interval", "high")
        target = f"latency_{percentile}_ratio"
        if ratio is None or low is None or high is None:
            verdicts.append(
                Verdict(GATE, target, False, None, limit, f"{percentile} latency ratio not measured")
            )
            continue
        passed = low <= limit
        detail = (
            f"one-record {percentile} latency x{ratio:.3f} [x{low:.3f}, x{high:.3f}] vs base@{where}: "
            f"lower bound {'<=' if passed else '>'} max_latency_ratio {limit:g}"
        )
        verdicts.append(Verdict(GATE, target, passed, low, limit, detail))
    return verdicts
