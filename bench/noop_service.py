"""The framework's floor: a BentoML service with the real request and response types and no model.

Same request validation (``records_type`` from the data schema that ``params.yaml`` names), same response
model for the schema's task (``response_type``), same workers and runtime settings
(``mlship.serving.runtime``) as the real service; ``predict`` answers without scoring: the first class with
probability 0 (binary), the first class with every class equally likely (multiclass), 0.0 (regression).
``bench/serving.py`` serves it beside the real service; ``MLSHIP_PARAMS`` names the parameters file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import bentoml
from pydantic import BaseModel

from mlship.config import load_params
from mlship.data.schema import Schema, load_schema
from mlship.serving.contract import (
    BinaryPrediction,
    MulticlassPrediction,
    RegressionPrediction,
    records_type,
    response_type,
)
from mlship.serving.runtime import HeapFreezer, configure_tracing

PARAMS_PATH = Path(os.environ.get("MLSHIP_PARAMS", "params.yaml"))
PARAMS = load_params(PARAMS_PATH)
SCHEMA = load_schema(PARAMS_PATH.parent / PARAMS.data.schema_path)
SERVICE = PARAMS.service
THRESHOLD = PARAMS.evaluate.threshold if SCHEMA.task == "binary" else None
configure_tracing(SERVICE.tracing)  # the same runtime settings as the real service

if TYPE_CHECKING:
    Records = list[BaseModel]
    Response = BaseModel
else:
    Records = records_type(SERVICE.max_records, SCHEMA)
    Response = response_type(SCHEMA.task)


def constant_prediction(schema: Schema) -> BaseModel:
    """The answer for every record, in the task's shape, computed without a model."""
    if schema.task == "binary":
        return BinaryPrediction(probability=0.0, label=schema.target.negative)
    if schema.task == "multiclass":
        classes = schema.target.classes
        return MulticlassPrediction(
            label=classes[0], probabilities={label: 1.0 / len(classes) for label in classes}
        )
    return RegressionPrediction(value=0.0)


@bentoml.service(name="noop-service", workers=SERVICE.workers, traffic={"timeout": 30})
class NoopService:
    def __init__(self) -> None:
        self.answer = constant_prediction(SCHEMA)
        self.heap = HeapFreezer()

    @bentoml.api
    def predict(self, records: Records) -> Response:
        """Answer every record with the constant prediction, without a model."""
        self.heap.request()
        return Response(model_version="noop", threshold=THRESHOLD, predictions=[self.answer for _ in records])
