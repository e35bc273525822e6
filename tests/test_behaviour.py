"""Behavioural tests of the trained default model: valid outputs, invariance, directional expectations,
determinism. Whether the model beats a constant forecast is a property of a team's data and model, not of the
template: the gates judge it (`gates.ceilings`, which `mlship init` sets to the constant forecast's loss).
They run on the model `dvc repro` would train (project params, real split), and read the task, the features
and the declared constraints from the schema and params."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.pipeline import Pipeline
from tests.strategies import REPO_ROOT, column_permutations, feature_frames, numeric_values, records, to_frame

from mlship.config import Params, load_params
from mlship.data.schema import NumericColumn, Schema
from mlship.train import monotonic_constraints

_DECLARED_MONOTONIC = sorted(load_params(REPO_ROOT / "params.yaml").model.monotonic)


def _output(model: Pipeline, frame: pd.DataFrame, schema: Schema) -> np.ndarray:
    """What the model answers for the task: class probabilities (classifiers) or values (regression)."""
    if schema.target.is_classifier:
        return np.asarray(model.predict_proba(frame), dtype=np.float64)
    return np.asarray(model.predict(frame), dtype=np.float64)


def _score(model: Pipeline, frame: pd.DataFrame, schema: Schema) -> np.ndarray:
    """One number per record that a rising monotonic feature may only move one way: the positive class's
    probability (binary) or the predicted value (regression). Multiclass has no such score."""
    output = _output(model, frame, schema)
    if schema.task == "binary":
        return output[:, 1]
    assert schema.task == "regression", "monotonic constraints apply to binary and regression tasks only"
    return output


@given(frame=feature_frames(max_rows=20))
def test_outputs_are_valid_for_the_task(
    production_model: Pipeline, schema: Schema, frame: pd.DataFrame
) -> None:
    # given any valid records / when the model answers
    output = _output(production_model, frame, schema)
    if schema.target.is_classifier:
        # then each record gets one probability per class, forming a distribution
        assert output.shape == (len(frame), len(schema.target.classes))
        assert ((output >= 0) & (output <= 1)).all()
        np.testing.assert_allclose(output.sum(axis=1), 1.0, rtol=0, atol=1e-12)
        # and the predicted label is the most probable class
        np.testing.assert_array_equal(production_model.predict(frame), output.argmax(axis=1))
    else:
        # then each record gets one finite value
        assert output.shape == (len(frame),)
        assert np.isfinite(output).all()


@given(frame=feature_frames(min_rows=2, max_rows=20), data=st.data())
def test_a_records_output_does_not_depend_on_the_rest_of_the_batch(
    production_model: Pipeline, schema: Schema, frame: pd.DataFrame, data: st.DataObject
) -> None:
    # given a batch, and the same batch with other records added and the index renumbered
    others = to_frame(data.draw(st.lists(records(), min_size=1, max_size=10)))
    combined = pd.concat([others, frame], ignore_index=True)
    combined.index = combined.index * 7 + 1000
    # when both are scored / then the original records score exactly as before
    np.testing.assert_array_equal(
        _output(production_model, combined, schema)[len(others) :], _output(production_model, frame, schema)
    )


@given(frame=feature_frames(max_rows=10))
def test_unused_columns_change_nothing(
    production_model: Pipeline, schema: Schema, frame: pd.DataFrame
) -> None:
    # given the records with extra columns the schema does not declare
    extra = "_".join(schema.columns)
    noisy = frame.assign(**{f"{extra}_id": np.arange(len(frame)), f"{extra}_comment": "irrelevant"})
    # when scored / then the answers are unchanged
    np.testing.assert_array_equal(
        _output(production_model, noisy, schema), _output(production_model, frame, schema)
    )


@given(frame=feature_frames(max_rows=10), order=column_permutations())
def test_column_order_changes_nothing(
    production_model: Pipeline, schema: Schema, frame: pd.DataFrame, order: list[str]
) -> None:
    # given the same records with their columns in any order / when scored / then the answers are unchanged
    np.testing.assert_array_equal(
        _output(production_model, frame[order], schema), _output(production_model, frame, schema)
    )


def _rises(column: NumericColumn) -> st.SearchStrategy[tuple[Any, Any]]:
    """Two valid values of the column, the first strictly below the second."""
    values = numeric_values(column)
    return (
        st.tuples(values, values)
        .filter(lambda pair: pair[0] != pair[1])
        .map(lambda pair: tuple(sorted(pair)))
    )


def _assert_monotonic(
    model: Pipeline, schema: Schema, params: Params, feature: str, record: dict[str, Any], data: st.DataObject
) -> None:
    # given a feature declared monotonic in params.yaml, and any record
    direction = params.model.monotonic[feature]
    column = schema.column(feature)
    assert isinstance(column, NumericColumn)
    low, high = data.draw(_rises(column), label=f"{feature} low, high")
    # when only that feature rises
    scores = _score(model, to_frame([{**record, feature: low}, {**record, feature: high}], schema), schema)
    # then the score moves only in the declared direction
    assert (scores[1] - scores[0]) * direction >= 0


@pytest.mark.parametrize("feature", _DECLARED_MONOTONIC)
@given(record=records(), data=st.data())
def test_each_declared_monotonic_feature_never_moves_the_score_the_wrong_way(
    production_model: Pipeline,
    schema: Schema,
    params: Params,
    feature: str,
    record: dict[str, Any],
    data: st.DataObject,
) -> None:
    _assert_monotonic(production_model, schema, params, feature, record, data)


@given(record=records(), data=st.data())
def test_any_declared_monotonic_feature_never_moves_the_score_the_wrong_way(
    production_model: Pipeline, schema: Schema, params: Params, record: dict[str, Any], data: st.DataObject
) -> None:
    if not params.model.monotonic:
        # nothing declared: then nothing may be constrained either
        assert getattr(production_model[-1], "monotonic_cst", None) is None
        return
    feature = data.draw(st.sampled_from(sorted(params.model.monotonic)), label="feature")
    _assert_monotonic(production_model, schema, params, feature, record, data)


def test_the_declared_constraints_reach_the_estimator(
    production_model: Pipeline, params: Params, schema: Schema
) -> None:
    # given the constraints declared in params.yaml / then the fitted estimator carries exactly those
    declared = params.model.monotonic
    constraints = getattr(production_model[-1], "monotonic_cst", None)
    if not declared:
        assert constraints is None
        return
    assert list(constraints) == monotonic_constraints(params.model, schema)
    by_column = dict(zip(schema.numeric_names, constraints, strict=False))
    assert {name: c for name, c in by_column.items() if c != 0} == declared


def test_scoring_is_deterministic(
    production_model: Pipeline, split_frames: tuple[pd.DataFrame, pd.DataFrame], schema: Schema
) -> None:
    test = split_frames[1][schema.feature_names]
    np.testing.assert_array_equal(
        _output(production_model, test, schema), _output(production_model, test, schema)
    )
