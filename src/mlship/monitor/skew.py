"""Train/serve skew: captured inputs re-scored offline by the committed pipeline of the served version must
give the served outputs bit for bit. A feature sent in another order or unit, a different model under the same
version, a changed preprocessing: each shows up here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlship.data.schema import Schema
from mlship.evaluate import predict


@dataclass(frozen=True)
class SkewResult:
    checked: int
    mismatched: int
    request_ids: tuple[str, ...]  # the first few records that differ
    fields: tuple[str, ...]  # the output fields that differ

    @property
    def skewed(self) -> bool:
        return self.mismatched > 0


def compare(served: np.ndarray[Any, Any], offline: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Per record, whether the served output differs from the offline one (bit for bit; NaN equals NaN)."""
    served = np.asarray(served, dtype=np.float64).reshape(len(served), -1)
    offline = np.asarray(offline, dtype=np.float64).reshape(len(offline), -1)
    same = (served == offline) | (np.isnan(served) & np.isnan(offline))
    return np.asarray(~same.all(axis=1))


def rescore(
    model: Any, features: pd.DataFrame, served: np.ndarray[Any, Any], records: pd.DataFrame, schema: Schema
) -> SkewResult:
    """Score ``features`` with ``model`` and compare with what was served."""
    offline = predict(model, features[schema.feature_names], schema.task)
    fields = {
        "binary": ["prediction.probability"],
        "multiclass": [f"prediction.probabilities.{label}" for label in schema.target.classes],
        "regression": ["prediction.value"],
    }[schema.task]
    differ = compare(served, offline)
    if schema.task == "multiclass":
        diff_cols = np.asarray(served, dtype=np.float64) != np.asarray(offline, dtype=np.float64)
        named = tuple(f for i, f in enumerate(fields) if diff_cols[:, i].any())
    else:
        named = tuple(fields) if differ.any() else ()
    ids = records["request_id"].to_numpy()[differ]
    return SkewResult(
        checked=len(features),
        mismatched=int(differ.sum()),
        request_ids=tuple(dict.fromkeys(str(i) for i in ids))[:5],
        fields=named,
    )
