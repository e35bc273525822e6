"""The service's predictors score exactly as the saved pipeline does, bit for bit, on every path."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.pipeline import Pipeline
from tests.strategies import project_schema, records, request_records, to_frame

from mlship.evaluate import predict
from mlship.serving.contract import record_model
from mlship.serving.predictor import CompiledPredictor, PipelinePredictor, compile_predictor

SCHEMA = project_schema()
RECORD = record_model(SCHEMA)


def _expected(model: Pipeline, frame: pd.DataFrame) -> np.ndarray:
    """What the saved pipeline answers for ``frame`` (the task's output)."""
    return predict(model, frame, SCHEMA.task)


def _validated(rows: list[dict[str, Any]]) -> list[Any]:
    """Rows as the service receives them: validated request records."""
    return [RECORD.model_validate(row) for row in rows]


def _as_trained(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows as a frame typed like the training data (a missing category is NaN)."""
    frame = to_frame(rows)
    for name in SCHEMA.categorical_names:
        frame[name] = frame[name].where(frame[name].notna(), np.nan)
    return frame


@pytest.fixture(scope="module")
def compiled(production_model: Pipeline) -> CompiledPredictor:
    predictor = compile_predictor(production_model, SCHEMA)
    assert isinstance(predictor, CompiledPredictor)
    # one tree per iteration (binary, regression) also gets the generated trees
    assert (predictor.generated is not None) == (SCHEMA.task != "multiclass")
    return predictor


@pytest.fixture(scope="module")
def test_split(split_frames: tuple[pd.DataFrame, pd.DataFrame]) -> tuple[list[Any], pd.DataFrame]:
    test = split_frames[1]
    return _validated(request_records(test)), test[SCHEMA.feature_names]


def test_every_test_record_scored_alone_equals_the_pipeline(
    compiled: CompiledPredictor, production_model: Pipeline, test_split: tuple[list[Any], pd.DataFrame]
) -> None:
    # given every record of the real test split / when each is scored alone (the generated trees)
    validated, frame = test_split
    alone = np.concatenate([compiled.predict([record]) for record in validated])
    # then each probability equals the saved pipeline's, bit for bit
    assert np.array_equal(alone, _expected(production_model, frame))


def test_large_batches_equal_the_pipeline(
    compiled: CompiledPredictor, production_model: Pipeline, test_split: tuple[list[Any], pd.DataFrame]
) -> None:
    # given the test split in batches larger than small_batch (scikit-learn's compiled trees)
    validated, frame = test_split
    size = 1000
    assert size > compiled.small_batch
    batched = np.concatenate(
        [compiled.predict(validated[i : i + size]) for i in range(0, len(validated), size)]
    )
    assert np.array_equal(batched, _expected(production_model, frame))


@given(rows=st.lists(records(), min_size=1, max_size=100))
def test_any_valid_batch_scores_as_the_pipeline(
    compiled: CompiledPredictor, production_model: Pipeline, rows: list[dict[str, Any]]
) -> None:
    # given any batch of valid records (missing categories and rare ones included), on either side of
    # small_batch / when scored by the compiled predictor / then exactly as by the pipeline
    expected = _expected(production_model, _as_trained(rows))
    assert np.array_equal(compiled.predict(_validated(rows)), expected)


@given(rows=st.lists(records(), min_size=2, max_size=20), data=st.data())
def test_a_record_scores_the_same_alone_or_in_any_batch(
    compiled: CompiledPredictor, rows: list[dict[str, Any]], data: st.DataObject
) -> None:
    validated = _validated(rows)
    order = data.draw(st.permutations(range(len(rows))))
    together = compiled.predict([validated[i] for i in order])
    alone = np.concatenate([compiled.predict([validated[i]]) for i in order])
    assert np.array_equal(together, alone)


def test_a_pipeline_of_another_shape_takes_the_generic_path_and_scores_the_same(
    fitted_model: Pipeline, test_split: tuple[list[Any], pd.DataFrame]
) -> None:
    # given each supported estimator, fitted on a sample
    validated, frame = test_split
    predictor = compile_predictor(fitted_model, SCHEMA)
    estimator = type(fitted_model.named_steps["estimator"]).__name__
    expected_type = CompiledPredictor if estimator.startswith("HistGradientBoosting") else PipelinePredictor
    # then it gets the fastest exact path for its shape, and scores exactly as the pipeline does on the same
    # rows (a linear model's BLAS sums depend on the batch's shape, so a record is compared alone with
    # alone and a batch with the same batch)
    assert isinstance(predictor, expected_type)
    head = slice(0, 100)
    alone = np.concatenate([predictor.predict([record]) for record in validated[head]])
    expected_alone = [_expected(fitted_model, frame.iloc[[i]])[0] for i in range(100)]
    assert np.array_equal(alone, np.array(expected_alone))
    batch = predictor.predict(validated[head])
    assert np.array_equal(batch, _expected(fitted_model, frame.iloc[head]))


def test_a_compiled_path_that_fails_to_build_falls_back_at_start_up(
    production_model: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given scikit-learn internals that no longer look as the compiled path expects (any exception type)
    def broken(self: object, estimator: object) -> None:
        raise ValueError("changed private attribute")

    monkeypatch.setattr("mlship.serving.predictor.BoostedTrees.__init__", broken)
    # when compiling / then the pipeline serves, decided once, instead of a request failing later
    assert isinstance(compile_predictor(production_model, SCHEMA), PipelinePredictor)


def test_a_compiled_path_that_disagrees_with_the_pipeline_is_not_used(
    production_model: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a compiled path whose answers drift in the last bits
    original = CompiledPredictor.predict

    def drifting(self: CompiledPredictor, records: list[Any]) -> np.ndarray:
        return np.nextafter(original(self, records), np.inf)

    monkeypatch.setattr(CompiledPredictor, "predict", drifting)
    # when compiling / then the start-up self-check refuses it
    assert isinstance(compile_predictor(production_model, SCHEMA), PipelinePredictor)
