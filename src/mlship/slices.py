"""Which slice of each sensitive attribute every row belongs to (shared by ``evaluate`` and the PR report)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from mlship.data.schema import Schema

MISSING = "<missing>"


def groups(features: pd.DataFrame, schema: Schema) -> dict[str, npt.NDArray[np.object_]]:
    """Per sensitive attribute, each row's group as text (booleans as ``true``/``false``, missing values as
    ``<missing>``)."""
    found: dict[str, npt.NDArray[np.object_]] = {}
    for attribute in schema.sensitive:
        values = features[attribute]
        if schema.column(attribute).kind == "boolean":
            values = values.map({1: "true", 0: "false"})  # 1.0 and 0.0 hash as 1 and 0
        found[attribute] = values.fillna(MISSING).astype(str).to_numpy()
    return found
