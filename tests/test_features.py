"""The preprocessing selects by name, always yields finite numbers, and survives unseen categories."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.pipeline import Pipeline
from tests.strategies import column_permutations, feature_frames, project_schema, unseen_categories

from mlship.data.schema import Schema
from mlship.evaluate import predict
from mlship.features import MISSING, build_preprocessor


def _transform(model: Pipeline, frame: pd.DataFrame) -> np.ndarray:
    return np.asarray(model.named_steps["features"].transform(frame), dtype=np.float64)


@given(frame=feature_frames(), order=column_permutations())
def test_output_does_not_depend_on_input_column_order(
    fitted_model: Pipeline, frame: pd.DataFrame, order: list[str]
) -> None:
    # given a valid frame and the same frame with its columns shuffled
    # when both are transformed / then the outputs are identical
    np.testing.assert_array_equal(_transform(fitted_model, frame), _transform(fitted_model, frame[order]))


@given(frame=feature_frames())
def test_no_nan_or_inf_leaves_the_transformer(fitted_model: Pipeline, frame: pd.DataFrame) -> None:
    assert np.isfinite(_transform(fitted_model, frame)).all()


@given(
    frame=feature_frames(),
    numeric=st.deferred(lambda: st.sampled_from(project_schema().numeric_names)),
    data=st.data(),
)
def test_missing_numeric_values_are_imputed(
    fitted_model: Pipeline, frame: pd.DataFrame, numeric: str, data: st.DataObject
) -> None:
    # given a frame where some numeric values are missing (not valid for the service, but possible upstream)
    holes = data.draw(st.lists(st.booleans(), min_size=len(frame), max_size=len(frame)))
    frame = frame.astype({numeric: "float64"})
    frame.loc[holes, numeric] = np.nan
    # then the transformer still yields finite values
    assert np.isfinite(_transform(fitted_model, frame)).all()


@given(
    frame=feature_frames(max_rows=5),
    column=st.deferred(lambda: st.sampled_from(project_schema().categorical)),
    data=st.data(),
)
def test_unseen_categories_do_not_crash(
    fitted_model: Pipeline, schema: Schema, frame: pd.DataFrame, column: object, data: st.DataObject
) -> None:
    # given categories the model never saw
    name = column.name  # type: ignore[attr-defined]
    frame[name] = data.draw(st.lists(unseen_categories(column), min_size=len(frame), max_size=len(frame)))  # type: ignore[arg-type]
    # when predicting / then the output is finite (and probabilities stay in [0, 1])
    output = predict(fitted_model, frame, schema.task)
    assert np.isfinite(output).all()
    if schema.target.is_classifier:
        assert ((output >= 0) & (output <= 1)).all()


def test_extra_columns_are_ignored(fitted_model: Pipeline, schema: Schema, sample: pd.DataFrame) -> None:
    features = sample[schema.feature_names].head(50)
    with_extra = features.assign(note="ignored", row_id=np.arange(50))
    np.testing.assert_array_equal(_transform(fitted_model, features), _transform(fitted_model, with_extra))


@pytest.mark.parametrize("position", [0, -1])
def test_a_missing_feature_column_is_an_error_naming_it(
    fitted_model: Pipeline, schema: Schema, sample: pd.DataFrame, position: int
) -> None:
    name = schema.feature_names[position]
    with pytest.raises(ValueError, match=name):
        predict(fitted_model, sample[schema.feature_names].drop(columns=[name]).head(5), schema.task)


@pytest.mark.parametrize("encoding", ["ordinal", "one_hot"])
def test_categories_come_from_the_schema_not_the_data(
    encoding: str, schema: Schema, sample: pd.DataFrame
) -> None:
    if not schema.categorical:
        pytest.fail("the schema declares no categorical feature")
    # given a training frame that lacks one declared category of a column entirely
    column = max(schema.categorical, key=lambda c: len(c.categories))
    absent = column.categories[-1]
    frame = sample[sample[column.name] != absent][schema.feature_names]
    # when fitted / then the encoder still knows every declared category plus the missing marker
    preprocessor = build_preprocessor(schema, encoding)  # type: ignore[arg-type]
    preprocessor.fit(frame)
    encoder = preprocessor.named_transformers_["categorical"].named_steps["encode"]
    learnt = encoder.categories_[schema.categorical_names.index(column.name)]
    assert list(learnt) == [*column.categories, MISSING]
