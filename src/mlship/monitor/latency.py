"""Served latency against the offline measurement of the same model version, and the served outputs' sanity.

The service captures each request's in-handler latency (``latency_ms``: scoring and answering, after the
contract validated the request). One-record requests are the comparable ones: their p50 and p99 per model
version, beside the one-record latency ``mlship.serving.cost`` measures offline for the version that served
last (its own pipeline, compiled as the service compiles it). A p99 needs enough requests to be more than
their worst few: below ``P99_MIN_REQUESTS`` it is shown, not judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: Fewer one-record requests than this: no judged p50 (a handful of requests is not a latency).
P50_MIN_REQUESTS = 20
#: Fewer than this: the p99 is shown but not judged (it would be the worst one or two requests).
P99_MIN_REQUESTS = 1000


def one_record_latency(records: pd.DataFrame) -> pd.DataFrame:
    """Per one-record request: its model version and ``latency_ms`` (requests of several records dropped)."""
    needed = {"request_id", "git_sha", "latency_ms"}
    if records.empty or not needed <= set(records.columns):
        return pd.DataFrame(columns=["git_sha", "latency_ms"])
    sizes = records.groupby("request_id")["request_id"].transform("size")
    single = records[sizes == 1]
    latency = pd.to_numeric(single["latency_ms"], errors="coerce")
    return pd.DataFrame({"git_sha": single["git_sha"].astype(str), "latency_ms": latency}).dropna()


def per_version(records: pd.DataFrame) -> dict[str, dict[str, float | int]]:
    """Served one-record latency p50 / p99 (ms) and the number of such requests, per model version (sha)."""
    table = one_record_latency(records)
    found: dict[str, dict[str, float | int]] = {}
    for sha, group in table.groupby("git_sha"):
        values = group["latency_ms"].to_numpy(dtype=np.float64)
        found[str(sha)] = {
            "requests": len(values),
            "p50_ms": float(np.percentile(values, 50)),
            "p99_ms": float(np.percentile(values, 99)),
        }
    return found


@dataclass(frozen=True)
class LatencyVerdict:
    judged: dict[str, float]  # percentile -> served / offline, for the percentiles with enough requests
    over: dict[str, float]  # the judged ratios above the limit
    reason: str  # why a percentile is not judged ("" when both are)


def judge(
    served: dict[str, float | int] | None, offline: tuple[float, float], limit: float
) -> LatencyVerdict:
    """Served / offline one-record latency, p50 and p99, against ``limit`` (enough requests only)."""
    if served is None or int(served["requests"]) < P50_MIN_REQUESTS:
        n = 0 if served is None else int(served["requests"])
        return LatencyVerdict({}, {}, f"{n} one-record request(s), fewer than {P50_MIN_REQUESTS}")
    ratios = {"p50": float(served["p50_ms"]) / offline[0]}
    reason = ""
    if int(served["requests"]) >= P99_MIN_REQUESTS:
        ratios["p99"] = float(served["p99_ms"]) / offline[1]
    else:
        reason = f"p99 not judged: {served['requests']} one-record request(s), fewer than {P99_MIN_REQUESTS}"
    return LatencyVerdict(ratios, {k: v for k, v in ratios.items() if v > limit}, reason)


def invalid_outputs(records: pd.DataFrame, classifier: bool) -> dict[str, Any]:
    """Served outputs no model should give: a non-finite number, a classifier's probability outside [0, 1]."""
    columns = [c for c in records.columns if c.startswith("prediction.") and c != "prediction.label"]
    values: list[np.ndarray[Any, Any]] = []
    for column in columns:
        series = records[column]
        if series.map(
            lambda v: isinstance(v, dict)
        ).any():  # multiclass: one dict of probabilities per record
            rows = [list(v.values()) if isinstance(v, dict) else [np.nan] for v in series]
            width = max(len(r) for r in rows)
            values.append(np.array([r + [np.nan] * (width - len(r)) for r in rows], dtype=np.float64))
        else:
            values.append(pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64).reshape(-1, 1))
    if not values:
        return {"checked": 0, "non_finite": 0, "out_of_range": 0, "request_ids": []}
    matrix = np.hstack(values)
    non_finite = ~np.isfinite(matrix).all(axis=1)
    out_of_range = np.zeros(len(matrix), dtype=bool)
    if classifier:
        with np.errstate(invalid="ignore"):
            out_of_range = ((matrix < 0.0) | (matrix > 1.0)).any(axis=1) & ~non_finite
    bad = non_finite | out_of_range
    ids = records["request_id"].astype(str).to_numpy()[bad] if "request_id" in records else []
    return {
        "checked": len(matrix),
        "non_finite": int(non_finite.sum()),
        "out_of_range": int(out_of_range.sum()),
        "request_ids": list(dict.fromkeys(ids))[:5],
    }
