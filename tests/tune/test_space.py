"""``tune:`` in params.yaml: what a team may declare, and the one-line error naming the key for what it may
not. Property tests walk the boundaries of a range (empty, reversed, below an estimator's own limits)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlship.config import ConfigError, Dimension, Params, parse_params
from mlship.data.schema import Schema
from mlship.tune.search import plan
from mlship.tune.space import SpaceError, distribution, distributions

HGB = "tune.space.hist_gradient_boosting"
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@pytest.fixture(scope="module")
def raw(params: Params) -> dict[str, Any]:
    """The project's params as a document a test may change (a deep copy each time)."""
    return params.model_dump(mode="json", by_alias=True, exclude_none=True)


def _with_space(raw: dict[str, Any], estimator: str, space: dict[str, Any], **tune: Any) -> dict[str, Any]:
    document = copy.deepcopy(raw)
    document["tune"] = {**tune, "space": {estimator: space}}
    return document


def _error(document: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as raised:
        parse_params(document)
    return str(raised.value)


def _the_line(message: str, key: str) -> str:
    (line,) = [line for line in message.splitlines() if line.strip().startswith(key + ":")]
    return line


def test_the_shipped_space_parses_and_searches_the_configured_estimator(params: Params) -> None:
    # given params.yaml as shipped / then its space for the configured estimator has distributions to draw
    space = distributions(params.tune, params.model.estimator)
    assert space
    assert all(name.startswith("estimator__") for name in space)


@given(low=finite, high=finite)
def test_a_reversed_or_empty_range_is_an_error_naming_the_key(
    raw: dict[str, Any], low: float, high: float
) -> None:
    # given a linear range whose low is not below its high
    low, high = max(low, high), min(low, high)
    document = _with_space(
        raw, "hist_gradient_boosting", {"l2_regularization": {"low": low, "high": high, "scale": "linear"}}
    )
    # then the error names the key and says the range is empty
    assert "empty range" in _the_line(_error(document), f"{HGB}.l2_regularization")


@given(low=st.floats(max_value=0.0, allow_nan=False, allow_infinity=False), width=st.floats(0.001, 1.0))
def test_a_learning_rate_range_reaching_zero_or_below_is_an_error_naming_the_key(
    raw: dict[str, Any], low: float, width: float
) -> None:
    # given a learning-rate range starting at or below zero (gradient boosting needs > 0)
    document = _with_space(
        raw, "hist_gradient_boosting", {"learning_rate": {"low": low, "high": low + width, "scale": "linear"}}
    )
    # then the error names the key
    assert _the_line(_error(document), f"{HGB}.learning_rate")


@given(low=st.floats(1e-4, 0.5), ratio=st.floats(1.01, 100.0), scale=st.sampled_from(["log", "linear"]))
def test_a_valid_range_draws_rounded_values_inside_it(low: float, ratio: float, scale: str) -> None:
    # given a valid float range
    high = min(1.0, low * ratio)
    dimension = Dimension(low=low, high=high, scale=scale)  # type: ignore[arg-type]
    drawn = distribution(dimension)
    # when values are drawn / then each lies in the range (up to the 3-significant-digit rounding) and is
    # the rounded value itself (what is evaluated is what --apply writes)
    assert not isinstance(drawn, list)
    for seed in range(5):
        value = drawn.rvs(random_state=seed)
        assert low * 0.995 <= value <= high * 1.005
        assert float(f"{value:.3g}") == value


@pytest.mark.parametrize(
    ("space", "key", "words"),
    [
        (
            {"hist_gradient_boosting": {"max_depth": {"low": 2, "high": 8, "scale": "int"}}},
            f"{HGB}.max_depth",
            "Extra inputs",
        ),
        (
            {"linear": {"learning_rate": {"low": 0.1, "high": 0.2, "scale": "log"}}},
            "tune.space.linear.learning_rate",
            "Extra inputs",
        ),
        (
            {"hist_gradient_boosting": {"max_leaf_nodes": {"low": 8, "high": 64, "scale": "log"}}},
            f"{HGB}.max_leaf_nodes",
            "whole numbers",
        ),
        (
            {"hist_gradient_boosting": {"max_leaf_nodes": {"choices": []}}},
            f"{HGB}.max_leaf_nodes",
            "empty choices",
        ),
        (
            {"hist_gradient_boosting": {"max_leaf_nodes": {"low": 1, "high": 8, "scale": "int"}}},
            f"{HGB}.max_leaf_nodes",
            "greater than or equal to 2",
        ),
        (
            {"linear": {"C": {"low": 0.0, "high": 10.0, "scale": "log"}}},
            "tune.space.linear.C",
            "log scale needs low > 0",
        ),
        (
            {"hist_gradient_boosting": {"early_stopping": {"low": 0, "high": 1, "scale": "int"}}},
            f"{HGB}.early_stopping",
            "give choices",
        ),
        (
            {"hist_gradient_boosting": {"learning_rate": {"low": 0.1, "scale": "log"}}},
            f"{HGB}.learning_rate",
            "needs low, high and scale",
        ),
    ],
)
def test_each_invalid_declaration_is_one_line_naming_its_key(
    raw: dict[str, Any], space: dict[str, Any], key: str, words: str
) -> None:
    document = copy.deepcopy(raw)
    document["tune"] = {"space": space}
    assert words in _the_line(_error(document), key)


def test_an_unknown_tune_key_and_an_unknown_metric_are_errors_naming_them(raw: dict[str, Any]) -> None:
    document = copy.deepcopy(raw)
    document["tune"] = {"trails": 20, "metric": "auc"}
    message = _error(document)
    assert "Extra inputs" in _the_line(message, "tune.trails")
    assert "unknown metric" in _the_line(message, "tune.metric")


def test_a_space_without_parameters_or_a_metric_of_another_task_stops_before_the_search(
    params: Params, schema: Schema
) -> None:
    # given the configured estimator's block emptied / then the error names that block
    empty = params.tune.model_copy(
        update={
            "space": params.tune.space.model_copy(
                update={params.model.estimator: type(getattr(params.tune.space, params.model.estimator))()}
            )
        }
    )
    with pytest.raises(SpaceError, match=rf"^tune\.space\.{params.model.estimator}: no parameter"):
        distributions(empty, params.model.estimator)
    # given a metric of another task / then the plan refuses it, naming tune.metric
    other = "r2" if schema.target.is_classifier else "roc_auc"
    with pytest.raises(SpaceError, match=r"^tune\.metric: "):
        plan(params.tune.model_copy(update={"metric": other}), schema)


def test_quick_caps_trials_folds_and_rows(params: Params, schema: Schema) -> None:
    quick = plan(params.tune, schema, quick=True)
    assert (quick.trials, quick.folds, quick.rows) <= (4, 2, 2000)
    assert plan(params.tune, schema).rows is None
