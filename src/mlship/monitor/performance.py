"""Live performance: delayed labels joined to the captured records by request id (and the record's position
in the request), scored with the task's metrics next to the served model's test metrics."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlship.data.schema import Schema
from mlship.evaluate import task_metrics
from mlship.monitor.captures import MonitorError
from mlship.tasks import higher_is_better, metric_names


@dataclass(frozen=True)
class Performance:
    joined: int
    labels: int
    live: dict[str, float]
    test: dict[str, float]
    gaps: dict[str, float]  # metric -> how much worse live is than test (positive: worse)


def read_labels(path: Path, schema: Schema) -> pd.DataFrame:
    """A CSV with ``request_id``, ``label`` and optionally ``record`` (position in the request, default 0)."""
    try:
        frame = pd.read_csv(path, dtype={"request_id": str, "label": str})
    except (OSError, ValueError) as error:
        raise MonitorError(f"--labels {path}: {error}") from None
    missing = {"request_id", "label"} - set(frame.columns)
    if missing:
        raise MonitorError(f"--labels {path}: missing column(s) {', '.join(sorted(missing))}")
    frame["record"] = pd.to_numeric(frame["record"], errors="coerce") if "record" in frame.columns else 0
    if schema.target.is_classifier:
        index = {label: i for i, label in enumerate(schema.target.classes)}
        unknown = sorted(set(frame["label"]) - set(index))
        if unknown:
            raise MonitorError(f"--labels {path}: unknown label(s) {', '.join(unknown[:5])}")
        frame["target"] = frame["label"].map(index).astype(np.int64)
    else:
        frame["target"] = pd.to_numeric(frame["label"], errors="coerce")
        if frame["target"].isna().any():
            raise MonitorError(f"--labels {path}: a label is not a number")
    return frame[["request_id", "record", "target"]]


def join(records: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    served = records.copy()
    if "record" not in served.columns:
        served["record"] = 0
    served["record"] = pd.to_numeric(served["record"], errors="coerce")
    labels = labels.drop_duplicates(["request_id", "record"], keep="last")
    return served.merge(labels, on=["request_id", "record"], how="inner")


def measure(
    joined: pd.DataFrame,
    output: np.ndarray[Any, Any],
    *,
    labels: int,
    schema: Schema,
    threshold: float,
    test: dict[str, float],
) -> Performance:
    names = metric_names(schema.task)
    metrics = task_metrics(schema.task, joined["target"].to_numpy(), output, threshold)
    live = {k: float(v) for k, v in metrics.items() if k in names}
    gaps = {}
    for name, value in live.items():
        if name in test:
            with_sign = 1.0 if higher_is_better(name) else -1.0
            gaps[name] = with_sign * (test[name] - value)
    return Performance(len(joined), labels, live, {k: v for k, v in test.items() if k in live}, gaps)
