"""The predictions file round-trips exactly (every float bit for bit) for the three tasks, and a file of
another task or a damaged one is refused with a clear error."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mlship.predictions import PredictionsError, dumps, from_output, loads

probabilities = st.floats(0.0, 1.0, allow_nan=False)
values = st.floats(-1e12, 1e12, allow_nan=False)


@given(output=arrays(np.float64, st.integers(0, 30), elements=probabilities), data=st.data())
def test_binary_predictions_round_trip_bit_for_bit(output: np.ndarray, data: st.DataObject) -> None:
    # given a binary model's probabilities and labels / when written and read back
    label = np.array(data.draw(st.lists(st.integers(0, 1), min_size=output.size, max_size=output.size)))
    written = from_output("binary", label, output, 0.5)
    read = loads(dumps(written), "binary")
    # then every column is identical, the decided label follows the threshold
    assert read.scores.tobytes() == written.scores.tobytes()
    assert np.array_equal(read.label, written.label)
    assert read.predicted is not None
    assert np.array_equal(read.predicted, (output >= 0.5).astype(np.int64))
    assert np.array_equal(read.rows, np.arange(output.size))


@given(output=arrays(np.float64, st.tuples(st.integers(1, 20), st.integers(3, 5)), elements=probabilities))
def test_multiclass_predictions_round_trip_bit_for_bit(output: np.ndarray) -> None:
    label = np.arange(output.shape[0]) % output.shape[1]
    written = from_output("multiclass", label, output, 0.5)
    read = loads(dumps(written), "multiclass")
    assert read.scores.tobytes() == written.scores.tobytes()
    assert read.predicted is not None
    assert np.array_equal(read.predicted, output.argmax(axis=1))


@given(output=arrays(np.float64, st.integers(1, 20), elements=values), data=st.data())
def test_regression_predictions_round_trip_bit_for_bit(output: np.ndarray, data: st.DataObject) -> None:
    label = data.draw(arrays(np.float64, output.size, elements=values))
    read = loads(dumps(from_output("regression", label, output, 0.5)), "regression")
    assert read.scores.tobytes() == output.tobytes()
    assert read.label.tobytes() == label.tobytes()
    assert read.predicted is None


def test_a_file_of_another_task_or_a_damaged_one_is_refused() -> None:
    text = dumps(from_output("binary", np.array([0, 1]), np.array([0.2, 0.9]), 0.5))
    with pytest.raises(PredictionsError, match="not a regression predictions header"):
        loads(text, "regression")
    with pytest.raises(PredictionsError, match="not a number"):
        loads(text.replace("0.9", "x"), "binary")
    with pytest.raises(PredictionsError, match="empty"):
        loads("", "binary")
