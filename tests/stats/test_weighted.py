"""Weighted metrics: on the unresampled data they equal scikit-learn's, and a resample equals the metric of
the rows it drew (each task, any predictions Hypothesis builds, ties and single-class samples included)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlship.evaluate import task_metrics
from mlship.predictions import Predictions, from_output
from mlship.stats.weighted import Draws, score
from mlship.tasks import Task, metric_names

THRESHOLD = 0.5


@st.composite
def scored(draw: st.DrawFn, task: Task, min_size: int = 2) -> Predictions:
    """Predictions of ``task`` with coarse scores (many ties) and any labels."""
    n = draw(st.integers(min_size, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if task == "binary":
        label = rng.integers(0, 2, n)
        output = rng.integers(0, 11, n) / 10.0
    elif task == "multiclass":
        classes = draw(st.integers(3, 4))
        label = rng.integers(0, classes, n)
        raw = rng.integers(1, 6, (n, classes)).astype(np.float64)
        output = raw / raw.sum(axis=1, keepdims=True)
    else:
        label = rng.normal(size=n).round(1)
        output = (label + rng.normal(size=n)).round(1)
    return from_output(task, label, output, THRESHOLD)


def _sklearn(p: Predictions) -> dict[str, float]:
    target = p.label.astype(np.int64) if p.task != "regression" else p.label
    return {k: float(v) for k, v in task_metrics(p.task, target, p.scores, THRESHOLD).items() if k != "n"}


def _agree(ours: dict[str, np.ndarray], reference: dict[str, float], task: Task) -> None:
    for metric in metric_names(task):
        value = float(ours[metric][0])
        if metric not in reference:  # evaluate leaves it out: undefined on this sample
            continue
        assert math.isclose(value, reference[metric], rel_tol=0, abs_tol=1e-6), (metric, value, reference)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@given(data=st.data())
def test_every_metric_equals_scikit_learns_on_the_data_and_on_a_resample(
    task: Task, data: st.DataObject
) -> None:
    # given predictions of the task and one bootstrap draw of their rows
    p = data.draw(scored(task))
    index = np.random.default_rng(data.draw(st.integers(0, 2**16))).integers(0, p.n, size=p.n)
    # when scored on the identity draw, and on the draw through its row counts
    as_is = score(Draws.identity(p.n), p)
    resampled = score(Draws(index[None, :], p.n), p)
    # then each equals evaluate's metrics (scikit-learn's, to 6 decimals) of those rows
    _agree(as_is, _sklearn(p), task)
    _agree(resampled, _sklearn(p.take(index)), task)


def test_an_auc_is_undefined_on_a_resample_with_one_class() -> None:
    # given a binary sample whose draw holds only negatives
    p = from_output("binary", np.array([0, 1]), np.array([0.2, 0.8]), THRESHOLD)
    ours = score(Draws(np.array([[0, 0]]), 2), p)
    # then the AUC is NaN (left out of the interval), the accuracy is defined
    assert math.isnan(ours["roc_auc"][0])
    assert ours["accuracy"][0] == 1.0
