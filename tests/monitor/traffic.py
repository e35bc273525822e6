"""Served traffic for the monitor's tests: records captured by the service's own capture code
(``mlship.serving.capture``, the writer thread and file layout the service uses), and the shifts the monitor
must name."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
from tests.strategies import request_records

from mlship.config import Params
from mlship.data.schema import CategoricalColumn, NumericColumn, Schema
from mlship.evaluate import predict
from mlship.serving import capture


def _outputs(model: Any, features: pd.DataFrame, params: Params, schema: Schema) -> list[dict[str, Any]]:
    """What the service answers per record (its response fields), scored as the service scores them."""
    scores = predict(model, features[schema.feature_names], schema.task)
    if schema.task == "binary":
        negative, positive = (str(label) for label in schema.target.classes)
        threshold = float(params.evaluate.threshold)
        return [{"probability": float(p), "label": positive if p >= threshold else negative} for p in scores]
    if schema.task == "multiclass":
        labels = [str(label) for label in schema.target.classes]
        return [
            {
                "label": labels[int(row.argmax())],
                "probabilities": dict(zip(labels, map(float, row), strict=True)),
            }
            for row in scores
        ]
    return [{"value": float(value)} for value in scores]


def capture_traffic(
    directory: Path,
    name: str,
    frame: pd.DataFrame,
    model: Any,
    params: Params,
    schema: Schema,
    git_sha: str,
    batch: int = 250,
) -> int:
    """``frame``'s rows answered by ``model`` and captured into ``directory`` (the service's capture
    directory) under the writer ``name``, in requests of ``batch`` records; returns the lines written."""
    config = params.monitoring.model_copy(update={"enabled": True, "sample_rate": 1.0})
    writer = capture.from_config(name, config, schema, {capture.DIRECTORY_ENV: str(directory)})
    assert writer is not None, f"capture could not start in {directory}"
    for number, start in enumerate(range(0, len(frame), batch)):
        chunk = frame.iloc[start : start + batch]
        records = [SimpleNamespace(**r) for r in request_records(chunk, schema)]
        meta = {"request_id": f"{name}-{number}", "model_version": "captured", "git_sha": git_sha}
        writer.answered(records, _outputs(model, chunk, params, schema), {**meta, "latency_ms": 1.0})
    files = directory / name / "data"
    deadline = time.monotonic() + 30  # the writer thread writes in the background
    while time.monotonic() < deadline:
        written = sum(len(p.read_bytes().splitlines()) for p in files.glob("*.log*")) if files.is_dir() else 0
        if written >= len(frame):
            return written
        time.sleep(0.05)
    raise AssertionError(f"{name}: {written} of {len(frame)} records captured after 30 s")


def shift(frame: pd.DataFrame, schema: Schema) -> tuple[pd.DataFrame, str, str]:
    """A numeric feature moved by a fifth of its range (within bounds) and a rare category flooded."""
    shifted = frame.copy()
    numeric: NumericColumn = next(
        c for c in schema.numeric if c.kind != "boolean" and frame[c.name].std() > 0
    )
    low = float(frame[numeric.name].min()) if numeric.minimum is None else numeric.minimum
    high = float(frame[numeric.name].max()) if numeric.maximum is None else numeric.maximum
    moved = (shifted[numeric.name] + (high - low) / 5).clip(upper=high)
    shifted[numeric.name] = (
        moved.round().astype(shifted[numeric.name].dtype) if numeric.kind == "integer" else moved
    )
    category: CategoricalColumn = schema.categorical[0]
    rare = frame[category.name].value_counts().index[-1]
    flooded = np.random.default_rng(0).random(len(shifted)) < 0.5
    shifted.loc[flooded, category.name] = rare
    return shifted, numeric.name, category.name
