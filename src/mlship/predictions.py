"""The test-set predictions ``evaluate`` writes (a DVC-cached output, not committed to git).

One CSV row per test row, in the order of the test split: ``row`` (its position in the test split), ``label``
(the encoded target: class index or value), and the model's output — ``predicted`` (the label decided at the
evaluation threshold) and ``probability`` (binary) or ``probability_<k>`` per class (multiclass), or
``prediction`` (regression). Floats are written with Python's shortest round-trip repr, so reading the file
gives back the exact numbers the metrics were computed from.

The PR report reads the base's file from the DVC cache to score both models on the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from mlship.tasks import Task

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class PredictionsError(ValueError):
    """A predictions file that cannot be read as one (wrong header, ragged rows, non-numbers)."""


@dataclass(frozen=True)
class Predictions:
    """Test-set predictions of one model.

    ``scores`` is the positive-class probability (binary, shape ``(n,)``), every class's probability
    (multiclass, ``(n, k)``) or the predicted value (regression, ``(n,)``); ``predicted`` is the decided
    label for classifiers (``None`` for regression).
    """

    task: Task
    rows: IntArray
    label: FloatArray
    scores: FloatArray
    predicted: IntArray | None

    @property
    def n(self) -> int:
        return int(self.rows.size)

    def take(self, index: IntArray) -> Predictions:
        """The predictions of the rows at ``index`` (a slice of the test set)."""
        predicted = None if self.predicted is None else self.predicted[index]
        return Predictions(self.task, self.rows[index], self.label[index], self.scores[index], predicted)


def header(task: Task, classes: int) -> list[str]:
    if task == "binary":
        return ["row", "label", "predicted", "probability"]
    if task == "multiclass":
        return ["row", "label", "predicted", *(f"probability_{k}" for k in range(classes))]
    return ["row", "label", "prediction"]


def from_output(
    task: Task, target: npt.NDArray[np.generic], output: FloatArray, threshold: float
) -> Predictions:
    """Predictions as ``evaluate`` scored them (rows numbered by their position in the test split)."""
    rows = np.arange(target.shape[0], dtype=np.int64)
    label = np.asarray(target, dtype=np.float64)
    scores = np.asarray(output, dtype=np.float64)
    if task == "binary":
        return Predictions(task, rows, label, scores, (scores >= threshold).astype(np.int64))
    if task == "multiclass":
        return Predictions(task, rows, label, scores, scores.argmax(axis=1).astype(np.int64))
    return Predictions(task, rows, label, scores, None)


def _number(value: float) -> str:
    return repr(float(value))


def dumps(predictions: Predictions) -> str:
    task = predictions.task
    classes = predictions.scores.shape[1] if predictions.scores.ndim == 2 else 2
    lines = [",".join(header(task, classes))]
    scores = predictions.scores.reshape(predictions.n, -1) if predictions.n else np.empty((0, classes))
    for i in range(predictions.n):
        label = predictions.label[i]
        cells = [str(int(predictions.rows[i])), str(int(label)) if task != "regression" else _number(label)]
        if predictions.predicted is not None:
            cells.append(str(int(predictions.predicted[i])))
        cells += [_number(value) for value in scores[i]]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def write(predictions: Predictions, path: Path) -> None:
    """Write atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(dumps(predictions), encoding="utf-8")
    partial.replace(path)


def loads(text: str, task: Task) -> Predictions:
    """Parse a predictions file of ``task``; anything else is a :class:`PredictionsError`."""
    lines = text.splitlines()
    if not lines:
        raise PredictionsError("empty predictions file")
    columns = lines[0].split(",")
    classes = sum(1 for c in columns if c.startswith("probability_"))
    if columns != header(task, classes):
        raise PredictionsError(f"header {lines[0]!r} is not a {task} predictions header")
    try:
        values = np.array([[float(cell) for cell in line.split(",")] for line in lines[1:]], dtype=np.float64)
    except ValueError as error:
        raise PredictionsError(f"not a number: {error}") from None
    values = values.reshape(len(lines) - 1, len(columns))
    rows = values[:, 0].astype(np.int64)
    label = values[:, 1]
    if task == "regression":
        return Predictions(task, rows, label, values[:, 2].copy(), None)
    predicted = values[:, 2].astype(np.int64)
    scores = values[:, 3].copy() if task == "binary" else values[:, 3:].copy()
    return Predictions(task, rows, label, scores, predicted)


def read(path: Path, task: Task) -> Predictions:
    return loads(path.read_text(encoding="utf-8"), task)
