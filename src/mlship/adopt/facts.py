"""The dataset facts the tests check (``tests/facts.yaml``): the one file that states facts about the
current data — its source and sha256, rows, columns, missing values per column, and the target's labels
with their row counts (classifiers) or its range (regression).

``mlship init`` rewrites the file for the adopted data; ``tests/test_facts.py`` checks it against the file
the pipeline reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from mlship.adopt.writing import render_document
from mlship.data.schema import Schema
from mlship.data.validate import exact_numbers

FACTS_PATH = Path("tests") / "facts.yaml"

HEADER = (
    "DATASET FACTS: the one file holding facts about the current data that the tests check",
    "(tests/test_facts.py reads the configured source through the pipeline's reader and compares).",
    "Columns carry their names after schema.yaml's reader.rename. `mlship init` rewrites this file",
    "for the file it adopts; edit it by hand only together with the data it describes.",
)


def dataset_facts(frame: pd.DataFrame, schema: Schema, source: dict[str, str], sha256: str) -> dict[str, Any]:
    """The facts of ``frame`` (the raw file as the pipeline reads it: text, canonical names)."""
    target = schema.target
    values = frame[target.name]
    described: dict[str, Any] = {"name": target.name, "task": target.task}
    if target.is_classifier:
        counts = values.dropna().astype(str).value_counts()
        described["labels"] = {str(label): int(counts[label]) for label in sorted(counts.index)}
    else:
        numbers = exact_numbers(values)
        described.update(min=float(numbers.min()), max=float(numbers.max()))
    return {
        "source": dict(source),
        "sha256": sha256,
        "rows": len(frame),
        "columns": [str(name) for name in frame.columns],
        "missing": {str(name): int(count) for name, count in frame.isna().sum().items()},
        "target": described,
    }


def render_facts(facts: dict[str, Any]) -> str:
    return render_document(HEADER, facts)
