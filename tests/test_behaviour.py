"""Behavioural tests of the trained default model: invariance, directional expectations, minimum
functionality, determinism. They run on the model `dvc repro` would train (default params, real split)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.pipeline import Pipeline
from tests.strategies import feature_frames, records, to_frame

from mlship.config import Params
from mlship.data.schema import CENSUS


def _score(model: Pipeline, frame: pd.DataFrame) -> np.ndarray:
    return np.asarray(model.predict_proba(frame)[:, 1])


@given(frame=feature_frames(max_rows=20))
def test_probabilities_are_valid_distributions(production_model: Pipeline, frame: pd.DataFrame) -> None:
    probabilities = production_model.predict_proba(frame)
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=0, atol=1e-12)


@given(frame=feature_frames(min_rows=2, max_rows=20), data=st.data())
def test_a_records_score_does_not_depend_on_the_rest_of_the_batch(
    production_model: Pipeline, frame: pd.DataFrame, data: st.DataObject
) -> None:
    # given a batch, and the same batch with other records added and the index renumbered
    others = to_frame(data.draw(st.lists(records(), min_size=1, max_size=10)))
    combined = pd.concat([others, frame], ignore_index=True)
    combined.index = combined.index * 7 + 1000
    # then the original records score exactly as before
    np.testing.assert_array_equal(
        _score(production_model, combined)[len(others) :], _score(production_model, frame)
    )


@given(frame=feature_frames(max_rows=10))
def test_unused_columns_change_nothing(production_model: Pipeline, frame: pd.DataFrame) -> None:
    noisy = frame.assign(customer_id=np.arange(len(frame)), comment="irrelevant")
    np.testing.assert_array_equal(_score(production_model, noisy), _score(production_model, frame))


@pytest.mark.parametrize("feature", ["education_num", "hours_per_week"])
@given(record=records(), data=st.data())
def test_declared_monotonic_features_never_lower_the_score_as_they_rise(
    production_model: Pipeline, params: Params, feature: str, record: dict[str, Any], data: st.DataObject
) -> None:
    # given a feature declared monotonic in params.yaml
    direction = params.model.monotonic[feature]
    column = CENSUS.column(feature)
    low = data.draw(st.integers(column.minimum, column.maximum - 1))  # type: ignore[union-attr]
    high = data.draw(st.integers(low + 1, column.maximum))  # type: ignore[union-attr]
    # when only that feature rises
    scores = _score(production_model, to_frame([{**record, feature: low}, {**record, feature: high}]))
    # then the score moves only in the declared direction
    assert (scores[1] - scores[0]) * direction >= 0


def test_every_declared_constraint_is_covered_by_a_behavioural_test(params: Params) -> None:
    assert set(params.model.monotonic) == {"education_num", "hours_per_week"}


_BASE: dict[str, Any] = {
    "workclass": "Private",
    "ethnicity": "White",
    "capital_loss": 0,
}


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        pytest.param(
            {
                **_BASE,
                "age": 48,
                "education": "Doctorate",
                "education_num": 16,
                "marital_status": "Married-civ-spouse",
                "occupation": "Exec-managerial",
                "relationship": "Husband",
                "gender": "Male",
                "capital_gain": 15024,
                "hours_per_week": 60,
            },
            "high",
            id="married executive with a doctorate and large capital gains",
        ),
        pytest.param(
            {
                **_BASE,
                "age": 19,
                "education": "11th",
                "education_num": 7,
                "marital_status": "Never-married",
                "occupation": "Other-service",
                "relationship": "Own-child",
                "gender": "Female",
                "capital_gain": 0,
                "hours_per_week": 20,
            },
            "low",
            id="teenager still at school working part time",
        ),
    ],
)
def test_minimum_functionality_on_unambiguous_cases(
    production_model: Pipeline, record: dict[str, Any], expected: str
) -> None:
    score = _score(production_model, to_frame([record]))[0]
    assert (score > 0.8) if expected == "high" else (score < 0.05)


def test_scoring_is_deterministic(
    production_model: Pipeline, split_frames: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    test = split_frames[1][CENSUS.feature_names]
    np.testing.assert_array_equal(_score(production_model, test), _score(production_model, test))
