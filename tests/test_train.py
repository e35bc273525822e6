"""The model: row-order equivariant, batch-consistent, deterministic, one artifact."""

from __future__ import annotations

import hashlib
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from tests.strategies import feature_frames

from mlship.config import Params
from mlship.data.schema import CENSUS, split_xy
from mlship.train import ModelConfigError, build_model, load_model, save_model, train


def _assert_same_scores(model: Pipeline, actual: np.ndarray, expected: np.ndarray) -> None:
    """Trees score each row on its own: bit-identical. A linear model's dot products go through BLAS, whose
    summation order depends on the batch shape, so they may differ in the last bits (never more)."""
    if isinstance(model.named_steps["estimator"], HistGradientBoostingClassifier):
        np.testing.assert_array_equal(actual, expected)
    else:
        np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-15)


@given(frame=feature_frames(min_rows=2), data=st.data())
def test_predictions_are_equivariant_to_row_order(
    fitted_model: Pipeline, frame: pd.DataFrame, data: st.DataObject
) -> None:
    # given a frame and a permutation of its rows
    order = data.draw(st.permutations(range(len(frame))))
    # when both are scored / then the scores are permuted the same way, exactly
    direct = fitted_model.predict_proba(frame)[:, 1]
    permuted = fitted_model.predict_proba(frame.iloc[order].reset_index(drop=True))[:, 1]
    _assert_same_scores(fitted_model, permuted, direct[order])


@given(frame=feature_frames(min_rows=2, max_rows=15))
def test_batch_predictions_equal_one_by_one_predictions(fitted_model: Pipeline, frame: pd.DataFrame) -> None:
    batch = fitted_model.predict_proba(frame)[:, 1]
    single = np.array([fitted_model.predict_proba(frame.iloc[[i]])[0, 1] for i in range(len(frame))])
    _assert_same_scores(fitted_model, batch, single)


def test_the_estimator_is_chosen_by_params(params: Params) -> None:
    hgb = build_model(params.model.model_copy(update={"estimator": "hist_gradient_boosting"}))
    lr = build_model(params.model.model_copy(update={"estimator": "logistic_regression", "monotonic": {}}))
    assert isinstance(hgb.named_steps["estimator"], HistGradientBoostingClassifier)
    assert isinstance(lr.named_steps["estimator"], LogisticRegression)
    assert hgb.named_steps["estimator"].max_iter == params.model.hist_gradient_boosting.max_iter


def test_training_twice_gives_byte_identical_artifacts(
    params: Params, sample: pd.DataFrame, tmp_path: Path
) -> None:
    # given the same data and config / when trained and saved twice
    features, target = split_xy(sample, CENSUS)
    config = params.model.model_copy(
        update={
            "hist_gradient_boosting": params.model.hist_gradient_boosting.model_copy(update={"max_iter": 20})
        }
    )
    digests = []
    for name in ("a.joblib", "b.joblib"):
        save_model(train(features, target, config), tmp_path / name)
        digests.append(hashlib.sha256((tmp_path / name).read_bytes()).hexdigest())
    # then the files are identical
    assert digests[0] == digests[1]


def test_a_saved_model_round_trips(hgb_model: Pipeline, sample: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "nested" / "model.joblib"
    save_model(hgb_model, path)
    features = sample[CENSUS.feature_names]
    np.testing.assert_array_equal(load_model(path).predict_proba(features), hgb_model.predict_proba(features))
    assert not list(path.parent.glob("*.partial"))


def test_loading_something_else_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "not-a-model.joblib"
    joblib.dump({"weights": [1, 2]}, path)
    with pytest.raises(TypeError, match="does not hold a scikit-learn Pipeline"):
        load_model(path)


def test_monotonic_constraints_reach_the_estimator_aligned_by_name(params: Params) -> None:
    config = params.model.model_copy(update={"monotonic": {"hours_per_week": 1, "age": -1}})
    estimator = build_model(config).named_steps["estimator"]
    expected = [{"hours_per_week": 1, "age": -1}.get(name, 0) for name in CENSUS.numeric_names]
    assert estimator.monotonic_cst == expected + [0] * len(CENSUS.categorical)


def test_a_constraint_on_an_unknown_or_categorical_feature_is_refused(params: Params) -> None:
    config = params.model.model_copy(update={"monotonic": {"gender": 1}})
    with pytest.raises(ModelConfigError, match=r"model\.monotonic: gender is not a numeric feature"):
        build_model(config)


def test_constraints_on_an_estimator_that_cannot_honour_them_are_refused(params: Params) -> None:
    config = params.model.model_copy(update={"estimator": "logistic_regression"})
    with pytest.raises(ModelConfigError, match="honoured only by hist_gradient_boosting"):
        build_model(config)


def test_the_simple_model_is_unconstrained(params: Params) -> None:
    simple = build_model(params.model, estimator_name="logistic_regression")
    assert isinstance(simple.named_steps["estimator"], LogisticRegression)
