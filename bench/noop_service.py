"""The framework's floor: a BentoML service with the real request and response types and no model.

Same request validation (``records_type`` from the data schema), same response model, same workers and
runtime settings (``mlship.serving.runtime``) as the real service; ``predict`` answers without scoring.
``bench/serving.py`` serves it beside the real service.
"""

from __future__ import annotations

import os
from pathlib import Path

import bentoml

from mlship.config import load_params
from mlship.data.schema import CENSUS
from mlship.serving.contract import Prediction, PredictResponse, records_type
from mlship.serving.runtime import HeapFreezer, configure_tracing

SERVICE = load_params(Path(os.environ.get("MLSHIP_PARAMS", "params.yaml"))).service
configure_tracing(SERVICE.tracing)  # the same runtime settings as the real service

Records = records_type(SERVICE.max_records, CENSUS)


@bentoml.service(name="noop-classifier", workers=SERVICE.workers, traffic={"timeout": 30})
class NoopClassifier:
    def __init__(self) -> None:
        self.heap = HeapFreezer()

    @bentoml.api
    def predict(self, records: Records) -> PredictResponse:
        """Answer every record with probability 0, without a model."""
        self.heap.request()
        return PredictResponse(
            model_version="noop",
            threshold=0.5,
            predictions=[Prediction(probability=0.0, label=CENSUS.target.negative) for _ in records],
        )
