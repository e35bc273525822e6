"""Plot files (as ``evaluate`` writes them under ``paths.plots``) parsed from text, at either revision.

Per task: binary ``roc.json`` [{fpr,tpr}], ``precision_recall.json`` [{recall,precision}], ``confusion.csv``
(actual,predicted); multiclass ``confusion.csv``; regression ``predicted_vs_actual.json`` [{actual,predicted}]
and ``residuals.json`` [{predicted,residual}].
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mlship.markdown.charts import Confusion

Points = list[tuple[float, float]]

FILES: dict[str, str] = {
    "roc": "roc.json",
    "precision_recall": "precision_recall.json",
    "confusion": "confusion.csv",
    "predicted_vs_actual": "predicted_vs_actual.json",
    "residuals": "residuals.json",
}
#: Which columns of each JSON plot file are the x and the y.
AXES: dict[str, tuple[str, str]] = {
    "roc": ("fpr", "tpr"),
    "precision_recall": ("recall", "precision"),
    "predicted_vs_actual": ("actual", "predicted"),
    "residuals": ("predicted", "residual"),
}


class PlotFileError(RuntimeError):
    """A plot file that does not have the layout ``evaluate`` writes."""


@dataclass(frozen=True)
class PlotSet:
    """The plot data of one revision; a file that is absent there is ``None``."""

    roc: Points | None = None
    precision_recall: Points | None = None
    confusion: Confusion | None = None
    predicted_vs_actual: Points | None = None
    residuals: Points | None = None

    @property
    def empty(self) -> bool:
        return all(getattr(self, name) is None for name in FILES)


def parse_points(text: str, name: str, source: str) -> Points:
    x_key, y_key = AXES[name]
    try:
        rows: Any = json.loads(text)
        return [(float(row[x_key]), float(row[y_key])) for row in rows]
    except (ValueError, TypeError, KeyError) as error:
        raise PlotFileError(
            f"{source}: expected a JSON list of objects with {x_key!r} and {y_key!r} ({error})"
        ) from None


def parse_confusion(text: str, source: str) -> Confusion:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not {"actual", "predicted"} <= set(reader.fieldnames):
        raise PlotFileError(f"{source}: expected CSV columns 'actual' and 'predicted'")
    return Counter((row["actual"], row["predicted"]) for row in reader)


def load(read: Callable[[str], str | None], where: str) -> PlotSet:
    """Parse every plot file ``read(file_name)`` returns (``None``: the file is not there)."""
    found: dict[str, Any] = {}
    for name, file_name in FILES.items():
        text = read(file_name)
        if text is None:
            continue
        source = f"{where}/{file_name}"
        if name == "confusion":
            found[name] = parse_confusion(text, source)
        else:
            found[name] = parse_points(text, name, source)
    return PlotSet(**found)
