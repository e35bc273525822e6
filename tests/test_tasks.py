"""Every task end to end in memory, on small data generated here (whatever the project's own data is):
validate → split → train → evaluate → plots → the served predictor, for binary, multiclass and regression,
with integer, float, boolean and categorical features and missing values."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.strategies import request_records

from mlship.config import EvaluateConfig, Params, SplitConfig
from mlship.data.schema import Schema, parse_schema, split_xy
from mlship.data.split import split
from mlship.data.validate import validate
from mlship.evaluate import evaluate, plot_data, predict
from mlship.serving.contract import record_model, response_type
from mlship.serving.predictor import CompiledPredictor, compile_predictor
from mlship.tasks import TASKS, Task, metric_names
from mlship.train import train

ROWS = 600
LABELS: dict[Task, list[str]] = {
    "binary": ["No", "Yes"],
    "multiclass": ["high", "low", "mid"],
    "regression": [],
}


def _schema(task: Task) -> Schema:
    target: dict[str, Any] = {"name": "outcome", "task": task}
    if task != "regression":
        target["labels"] = LABELS[task]
    if task == "binary":
        target["positive"] = "Yes"
    return parse_schema(
        {
            "target": target,
            "sensitive": ["region"],
            "features": [
                {"name": "visits", "kind": "integer", "min": 0, "max": 50},
                {"name": "spend", "kind": "float", "min": 0.0, "max": 1000.0, "nullable": True},
                {"name": "member", "kind": "boolean"},
                {"name": "region", "kind": "categorical", "categories": ["east", "north", "west"]},
                {"name": "plan", "kind": "categorical", "categories": ["a", "b"], "nullable": True},
            ],
        }
    )


def _raw(task: Task) -> pd.DataFrame:
    """Text as a raw CSV holds it, with a signal the model can learn and some missing values."""
    rng = np.random.default_rng(7)
    visits = rng.integers(0, 51, ROWS)
    spend = rng.uniform(0, 1000, ROWS).round(2)
    member = rng.integers(0, 2, ROWS)
    region = rng.choice(["east", "north", "west"], ROWS)
    plan = rng.choice(["a", "b"], ROWS)
    score = visits / 50 + spend / 1000 + member * 0.5 + (region == "west") * 0.3 + rng.normal(0, 0.2, ROWS)
    if task == "binary":
        outcome = np.where(score > np.median(score), "Yes", "No").astype(object)
    elif task == "multiclass":
        outcome = np.asarray(pd.qcut(score, 3, labels=["low", "mid", "high"]).astype(str), dtype=object)
    else:
        outcome = (score * 10).round(3).astype(str)
    frame = pd.DataFrame(
        {
            "visits": visits.astype(str),
            "spend": spend.astype(str),
            "member": np.where(member == 1, "true", "false"),
            "region": region,
            "plan": plan,
            "outcome": outcome,
        },
        dtype=object,
    )
    frame.loc[frame.index % 17 == 0, "spend"] = np.nan
    frame.loc[frame.index % 23 == 0, "plan"] = np.nan
    return frame


@pytest.fixture(scope="module", params=TASKS)
def fitted(request: pytest.FixtureRequest, params: Params) -> tuple[Schema, Any, pd.DataFrame]:
    task: Task = request.param
    schema = _schema(task)
    result = validate(_raw(task), schema)
    assert result.ok, result.violations
    train_frame, test_frame = split(result.frame, SplitConfig(test_size=0.25, seed=1, stratify=True), schema)
    config = params.model.model_copy(
        update={
            "monotonic": {},
            "hist_gradient_boosting": params.model.hist_gradient_boosting.model_copy(update={"max_iter": 30}),
        }
    )
    features, target = split_xy(train_frame, schema)
    return schema, train(features, target, config, schema), test_frame


def test_validation_types_every_kind_and_encodes_the_target(fitted: tuple[Schema, Any, pd.DataFrame]) -> None:
    schema, _, test = fitted
    assert test["visits"].dtype == np.int64
    assert test["spend"].dtype == np.float64
    assert test["spend"].isna().any()
    assert set(test["member"].unique()) <= {0, 1}
    if schema.target.is_classifier:
        assert set(test["outcome"].unique()) <= set(range(len(schema.target.classes)))
    else:
        assert test["outcome"].dtype == np.float64


def test_evaluation_writes_the_tasks_metrics_slices_and_plots(
    fitted: tuple[Schema, Any, pd.DataFrame],
) -> None:
    schema, model, test = fitted
    evaluation = evaluate(model, test, EvaluateConfig(threshold=0.5, calibration_bins=5), schema)
    overall = evaluation.metrics["overall"]
    assert set(metric_names(schema.task)) <= set(overall)
    assert set(evaluation.metrics["slices"]["region"]) == {"east", "north", "west"}
    plots = set(plot_data(evaluation, bins=5))
    expected = {
        "binary": {"roc", "precision_recall", "calibration", "confusion"},
        "multiclass": {"confusion"},
        "regression": {"predicted_vs_actual", "residuals"},
    }[schema.task]
    assert plots == expected
    # the generated signal is learnable: better than a constant guess
    if schema.task == "regression":
        assert overall["r2"] > 0.5
    else:
        assert overall["accuracy"] > 1.0 / len(schema.target.classes) + 0.15


def test_the_served_predictor_is_exact_and_the_response_fits_the_task(
    fitted: tuple[Schema, Any, pd.DataFrame],
) -> None:
    schema, model, test = fitted
    record = record_model(schema)
    validated = [record.model_validate(row) for row in request_records(test, schema)]
    predictor = compile_predictor(model, schema)
    assert isinstance(predictor, CompiledPredictor)
    expected = predict(model, test[schema.feature_names], schema.task)
    assert np.array_equal(predictor.predict(validated), expected)
    assert np.array_equal(np.concatenate([predictor.predict([r]) for r in validated[:50]]), expected[:50])
    # and the response model for the task accepts what the service builds from it
    response = response_type(schema.task)
    if schema.task == "binary":
        prediction: dict[str, Any] = {"probability": 0.7, "label": "Yes"}
    elif schema.task == "multiclass":
        prediction = {"label": "mid", "probabilities": dict.fromkeys(schema.target.classes, 1 / 3)}
    else:
        prediction = {"value": 1.5}
    parsed = response.model_validate({"model_version": "v", "predictions": [prediction]})
    assert parsed.model_dump()["predictions"] == [prediction]
