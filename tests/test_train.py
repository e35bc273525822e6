"""The model: row-order equivariant, batch-consistent, deterministic, one artifact."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from tests.strategies import feature_frames
from threadpoolctl import threadpool_limits

from mlship.config import Params
from mlship.data.schema import Schema, split_xy
from mlship.evaluate import predict
from mlship.train import ModelConfigError, build_model, load_model, save_model, train

_TREES = (HistGradientBoostingClassifier, HistGradientBoostingRegressor)


def _assert_same_scores(model: Pipeline, actual: np.ndarray, expected: np.ndarray) -> None:
    """Trees score each row on its own: bit-identical. A linear model's dot products go through BLAS, whose
    summation order depends on the batch shape, so they may differ in the last bits (never more)."""
    if isinstance(model.named_steps["estimator"], _TREES):
        np.testing.assert_array_equal(actual, expected)
    else:
        np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12)


@given(frame=feature_frames(min_rows=2), data=st.data())
def test_predictions_are_equivariant_to_row_order(
    fitted_model: Pipeline, schema: Schema, frame: pd.DataFrame, data: st.DataObject
) -> None:
    # given a frame and a permutation of its rows
    order = data.draw(st.permutations(range(len(frame))))
    # when both are scored / then the scores are permuted the same way, exactly
    direct = predict(fitted_model, frame, schema.task)
    permuted = predict(fitted_model, frame.iloc[order].reset_index(drop=True), schema.task)
    _assert_same_scores(fitted_model, permuted, direct[order])


@given(frame=feature_frames(min_rows=2, max_rows=15))
def test_batch_predictions_equal_one_by_one_predictions(
    fitted_model: Pipeline, schema: Schema, frame: pd.DataFrame
) -> None:
    batch = predict(fitted_model, frame, schema.task)
    single = np.array([predict(fitted_model, frame.iloc[[i]], schema.task)[0] for i in range(len(frame))])
    _assert_same_scores(fitted_model, batch, single)


def test_the_estimator_is_chosen_by_params_and_fits_the_task(params: Params, schema: Schema) -> None:
    # given the project's task / when each estimator is built
    hgb = build_model(params.model.model_copy(update={"estimator": "hist_gradient_boosting"}), schema)
    linear = build_model(params.model.model_copy(update={"estimator": "linear", "monotonic": {}}), schema)
    # then a classifier task gets classifiers, a regression task regressors, with params.yaml's settings
    classifier = schema.target.is_classifier
    expected_trees = HistGradientBoostingClassifier if classifier else HistGradientBoostingRegressor
    expected_linear = LogisticRegression if classifier else Ridge
    assert isinstance(hgb.named_steps["estimator"], expected_trees)
    assert isinstance(linear.named_steps["estimator"], expected_linear)
    assert hgb.named_steps["estimator"].max_iter == params.model.hist_gradient_boosting.max_iter


def test_training_twice_gives_byte_identical_artifacts(
    params: Params, schema: Schema, sample: pd.DataFrame, tmp_path: Path
) -> None:
    # given the same data and config / when trained and saved twice
    features, target = split_xy(sample, schema)
    config = params.model.model_copy(
        update={
            "hist_gradient_boosting": params.model.hist_gradient_boosting.model_copy(update={"max_iter": 20})
        }
    )
    digests = []
    for name in ("a.joblib", "b.joblib"):
        save_model(train(features, target, config, schema), tmp_path / name)
        digests.append(hashlib.sha256((tmp_path / name).read_bytes()).hexdigest())
    # then the files are identical
    assert digests[0] == digests[1]


def test_the_artifact_does_not_depend_on_how_many_cores_trained_it(
    params: Params, schema: Schema, sample: pd.DataFrame, tmp_path: Path
) -> None:
    # given the same data and config / when trained on one OpenMP thread and on more than the machine has
    features, target = split_xy(sample, schema)
    config = params.model.model_copy(
        update={
            "estimator": "hist_gradient_boosting",
            "monotonic": {},
            "hist_gradient_boosting": params.model.hist_gradient_boosting.model_copy(update={"max_iter": 20}),
        }
    )
    digests = []
    for threads in (1, (os.cpu_count() or 1) + 1):
        with threadpool_limits(limits=threads, user_api="openmp"):
            save_model(train(features, target, config, schema), tmp_path / f"{threads}.joblib")
        digests.append(hashlib.sha256((tmp_path / f"{threads}.joblib").read_bytes()).hexdigest())
    # then the files are identical: a laptop, a 2-core and a 4-core CI runner write the same dvc.lock
    assert digests[0] == digests[1]


def test_a_saved_model_round_trips(
    hgb_model: Pipeline, schema: Schema, sample: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "nested" / "model.joblib"
    save_model(hgb_model, path)
    features = sample[schema.feature_names]
    np.testing.assert_array_equal(
        predict(load_model(path), features, schema.task), predict(hgb_model, features, schema.task)
    )
    assert not list(path.parent.glob("*.partial"))


def test_loading_something_else_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "not-a-model.joblib"
    joblib.dump({"weights": [1, 2]}, path)
    with pytest.raises(TypeError, match="does not hold a scikit-learn Pipeline"):
        load_model(path)


def test_monotonic_constraints_reach_the_estimator_aligned_by_name(params: Params, schema: Schema) -> None:
    if schema.task == "multiclass" or not schema.numeric_names:
        with pytest.raises(ModelConfigError):
            build_model(params.model.model_copy(update={"monotonic": {"no_such_feature": 1}}), schema)
        return
    # given constraints on the last and the first numeric feature, in the opposite order
    first, last = schema.numeric_names[0], schema.numeric_names[-1]
    wanted = {last: 1, first: -1} if first != last else {first: -1}
    estimator = build_model(params.model.model_copy(update={"monotonic": wanted}), schema).named_steps[
        "estimator"
    ]
    # then they land on those features' columns (numerics first, then categoricals)
    expected = [wanted.get(name, 0) for name in schema.numeric_names]
    assert estimator.monotonic_cst == expected + [0] * len(schema.categorical)


def test_a_constraint_on_a_feature_that_is_not_numeric_is_refused(params: Params, schema: Schema) -> None:
    name = schema.categorical_names[0] if schema.categorical_names else "no_such_feature"
    config = params.model.model_copy(update={"monotonic": {name: 1}})
    with pytest.raises(ModelConfigError, match=rf"model\.monotonic: {name} is not a numeric feature"):
        build_model(config, schema)


def test_constraints_on_an_estimator_that_cannot_honour_them_are_refused(
    params: Params, schema: Schema
) -> None:
    if not schema.numeric_names:
        pytest.fail("the schema declares no numeric feature to constrain")
    config = params.model.model_copy(
        update={"estimator": "linear", "monotonic": {schema.numeric_names[0]: 1}}
    )
    with pytest.raises(ModelConfigError, match="honoured only by hist_gradient_boosting"):
        build_model(config, schema)


def test_the_simple_model_is_linear_and_unconstrained(params: Params, schema: Schema) -> None:
    simple = build_model(params.model, schema, estimator_name="linear")
    assert isinstance(simple.named_steps["estimator"], (LogisticRegression, Ridge))
