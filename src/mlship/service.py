"""The BentoML service: the trained pipeline behind a typed HTTP API.

Endpoints (all JSON):
  POST /predict   {"records": [{...}, ...]} -> probabilities and labels, in request order
  POST /metadata  {} -> model version, git SHA, data hash, training metrics, the request schema
  GET  /livez, /readyz, /healthz (BentoML's own)

Serve: ``make serve`` (the built bento) or ``bentoml serve mlship.service:ModelService``.

BentoML builds a service from the class at import time, so this module reads ``params.yaml`` once when it
is imported (the request size limit is part of the request type; ``service.tracing`` must be settled before
BentoML sets up OpenTelemetry). ``MLSHIP_PARAMS`` points elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bentoml
import joblib
from pydantic import BaseModel
from threadpoolctl import threadpool_limits

from mlship import telemetry
from mlship.config import load_params
from mlship.data.schema import CENSUS
from mlship.serving.contract import (
    ModelMetadata,
    Prediction,
    PredictResponse,
    records_type,
    schema_description,
)
from mlship.serving.logs import quiet_client_errors
from mlship.serving.predictor import compile_predictor
from mlship.serving.runtime import HeapFreezer, configure_tracing
from mlship.serving.store import MODEL_FILE

telemetry.disable()
PARAMS = load_params(Path(os.environ.get("MLSHIP_PARAMS", "params.yaml")))
SERVICE = PARAMS.service
configure_tracing(SERVICE.tracing)  # before BentoML builds its tracer provider in the worker
THRESHOLD = PARAMS.evaluate.threshold

if TYPE_CHECKING:
    Records = list[BaseModel]
else:
    Records = records_type(SERVICE.max_records, CENSUS)


@bentoml.service(
    name=SERVICE.name,
    workers=SERVICE.workers,
    traffic={"timeout": 30},
    envs=[
        {"name": "OMP_NUM_THREADS", "value": str(SERVICE.threads_per_worker)},
        {"name": "OPENBLAS_NUM_THREADS", "value": str(SERVICE.threads_per_worker)},
    ],
)
class ModelService:
    model_ref = bentoml.models.BentoModel(f"{SERVICE.name}:latest")

    def __init__(self) -> None:
        # Each worker is one process on one core: more BLAS/OpenMP threads only contend.
        threadpool_limits(limits=SERVICE.threads_per_worker)
        # A refused request is one WARNING line naming the fields, not an ERROR with a traceback.
        quiet_client_errors()
        # On an instance, BentoML resolves the BentoModel reference to the stored model.
        stored: Any = self.model_ref
        self.pipeline = joblib.load(stored.path_of(MODEL_FILE))
        self.predictor = compile_predictor(self.pipeline, CENSUS)
        self.version = str(stored.tag.version)
        meta: dict[str, Any] = dict(stored.info.metadata)
        self.metadata_response = ModelMetadata(
            model_name=SERVICE.name,
            model_version=self.version,
            git_sha=str(meta.get("git_sha", "unknown")),
            data_sha256=str(meta.get("data_sha256", "unknown")),
            threshold=THRESHOLD,
            max_records=SERVICE.max_records,
            estimator=str(meta.get("estimator", type(self.pipeline.named_steps["estimator"]).__name__)),
            metrics=dict(meta.get("metrics", {})),
            data_schema=schema_description(CENSUS),
        )
        # Last: the model and everything above are long-lived; keep them out of the collector's sight.
        self.heap = HeapFreezer()

    @bentoml.api
    def predict(self, records: Records) -> PredictResponse:
        """Score each record; the answer keeps the request order."""
        self.heap.request()
        probabilities = self.predictor.predict_proba(records)
        positive, negative = CENSUS.target.positive, CENSUS.target.negative
        return PredictResponse(
            model_version=self.version,
            threshold=THRESHOLD,
            predictions=[
                Prediction(probability=float(p), label=positive if p >= THRESHOLD else negative)
                for p in probabilities
            ],
        )

    @bentoml.api
    def metadata(self) -> ModelMetadata:
        """What is serving: model version, git SHA, data hash, training metrics and the request schema."""
        return self.metadata_response
