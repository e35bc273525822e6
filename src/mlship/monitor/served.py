"""Captured records → the frames the judges need: the served features with the training data's dtypes, and
the served outputs in the model's output shape."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlship.data.schema import Schema


def features_frame(records: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The captured features present in the records (personal columns are absent when dropped), typed like
    the processed training data: whole numbers int64 (float64 when nullable), categories object with NaN."""
    dtypes = schema.pandas_dtypes()
    frame = pd.DataFrame(index=records.index)
    for column in schema.features:
        if column.name not in records.columns or column.pii:
            continue
        values = records[column.name].astype(object)
        if column.name in schema.numeric_names:
            dtype: Any = dtypes[column.name]
            frame[column.name] = values.where(values.notna(), np.nan).astype(dtype)
        else:
            frame[column.name] = values.where(values.notna(), np.nan)
    return frame


def served_output(records: pd.DataFrame, schema: Schema) -> np.ndarray[Any, Any] | None:
    """What the service answered, shaped as the model's output: binary and multiclass n x k class
    probabilities, regression n values. ``None`` when the records lack it."""
    task = schema.task
    try:
        if task == "binary":
            positive = records["prediction.probability"].to_numpy(dtype=np.float64)
            return np.column_stack([1.0 - positive, positive])
        if task == "multiclass":
            rows = records["prediction.probabilities"]
            return np.array([[float(row[label]) for label in schema.target.classes] for row in rows])
        return np.asarray(records["prediction.value"].to_numpy(dtype=np.float64))
    except (KeyError, TypeError, ValueError):
        return None


def answered_value(records: pd.DataFrame, schema: Schema) -> np.ndarray[Any, Any] | None:
    """The served number the skew check compares bit for bit: positive-class probability, every class's
    probability, or the value (the service's answer itself, not ``served_output``'s derived columns)."""
    output = served_output(records, schema)
    if output is None:
        return None
    return output[:, 1] if schema.task == "binary" else output
