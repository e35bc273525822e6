"""The BentoML service: the trained pipeline behind a typed HTTP API.

Endpoints (all JSON):
  POST /predict   {"records": [{...}, ...]} -> one prediction per record, in request order (binary:
                  probability + label; multiclass: label + probabilities; regression: value)
  POST /metadata  {} -> model version, git SHA, data hash, task, training metrics, the request schema and an
                  example record
  GET  /livez, /readyz, /healthz (BentoML's own)

Serve: ``make serve`` (the built bento) or ``bentoml serve mlship.service:ModelService``.

BentoML builds a service from the class at import time, so this module reads ``params.yaml`` and the data
schema once when it is imported (the request and response types come from them; ``service.tracing`` must be
settled before BentoML sets up OpenTelemetry). ``MLSHIP_PARAMS`` points elsewhere.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlship import numerics

# Before numpy loads (joblib imports it): the pipeline's floating-point kernels, as every `mlship` command
# pins them, so the service answers bit for bit what `evaluate` and the monitor's skew check compute (numpy's
# AVX-512 and AVX2 `exp` differ in the last bit: a multiclass softmax showed it).
numerics.pin()

import bentoml
import joblib
from pydantic import BaseModel
from threadpoolctl import threadpool_limits

from mlship import telemetry
from mlship.config import load_params
from mlship.data.schema import load_schema
from mlship.serving import capture
from mlship.serving.contract import (
    BinaryPrediction,
    ModelMetadata,
    MulticlassPrediction,
    RegressionPrediction,
    example_record,
    records_type,
    response_type,
    schema_description,
)
from mlship.serving.logs import BENTOML_HTTP_LOGGER, quiet_client_errors
from mlship.serving.predictor import compile_predictor
from mlship.serving.runtime import HeapFreezer, configure_tracing
from mlship.serving.store import MODEL_FILE

telemetry.disable()
PARAMS_PATH = Path(os.environ.get("MLSHIP_PARAMS", "params.yaml"))
PARAMS = load_params(PARAMS_PATH)
SCHEMA = load_schema(PARAMS_PATH.parent / PARAMS.data.schema_path)
TASK = SCHEMA.task
SERVICE = PARAMS.service
configure_tracing(SERVICE.tracing)  # before BentoML builds its tracer provider in the worker
THRESHOLD = PARAMS.evaluate.threshold if TASK == "binary" else None
CLASSES = SCHEMA.target.classes

if TYPE_CHECKING:
    Records = list[BaseModel]
    Response = BaseModel
else:
    Records = records_type(SERVICE.max_records, SCHEMA)
    Response = response_type(TASK)


# The container's base (read when `bentoml build` imports this module): the standard Python image by default;
# local builds use the offline Debian base (`make image`, deploy/local/base-image.sh). `distro="none"`: the
# base already has Python 3.11, so BentoML adds no apt step (and no compilers) to the image.
BASE_IMAGE = bentoml.images.Image(
    base_image=os.environ.get("MLSHIP_BASE_IMAGE", "python:3.11-slim"), distro="none", python_version="3.11"
)


@bentoml.service(
    name=SERVICE.name,
    image=BASE_IMAGE,
    workers=SERVICE.workers,
    traffic={"timeout": 30},
    envs=[
        {"name": "OMP_NUM_THREADS", "value": str(SERVICE.threads_per_worker)},
    ],  # BLAS: the one thread numerics.pin sets in every process that imports this module
)
class ModelService:
    model_ref = bentoml.models.BentoModel(f"{SERVICE.name}:latest")

    def __init__(self) -> None:
        # Each worker is one process on one core: more OpenMP threads only contend. BLAS keeps the one thread
        # numerics.pin gave it (more threads would change the last bits of a linear model's scores).
        threadpool_limits(limits=SERVICE.threads_per_worker, user_api="openmp")
        # What is served is captured (params.yaml `monitoring`); refused requests are counted by field first,
        # then their log record becomes one WARNING line naming the fields, not an ERROR with a traceback.
        self.capture = capture.from_config(SERVICE.name, PARAMS.monitoring, SCHEMA)
        if self.capture is not None:
            capture.count_refusals(self.capture, BENTOML_HTTP_LOGGER)
        quiet_client_errors()
        # On an instance, BentoML resolves the BentoModel reference to the stored model.
        stored: Any = self.model_ref
        self.pipeline = joblib.load(stored.path_of(MODEL_FILE))
        self.predictor = compile_predictor(self.pipeline, SCHEMA)
        self.version = str(stored.tag.version)
        meta: dict[str, Any] = dict(stored.info.metadata)
        self.metadata_response = ModelMetadata(
            model_name=SERVICE.name,
            model_version=self.version,
            git_sha=str(meta.get("git_sha", "unknown")),
            data_sha256=str(meta.get("data_sha256", "unknown")),
            task=TASK,
            threshold=THRESHOLD,
            max_records=SERVICE.max_records,
            estimator=str(meta.get("estimator", type(self.pipeline.named_steps["estimator"]).__name__)),
            metrics=dict(meta.get("metrics", {})),
            data_schema=schema_description(SCHEMA),
            example=example_record(SCHEMA),
        )
        # Last: the model and everything above are long-lived; keep them out of the collector's sight.
        self.heap = HeapFreezer()

    @bentoml.on_shutdown
    def write_capture(self) -> None:
        """Write what was answered but still queued before the worker exits (after its last answer)."""
        capture.close_writers()

    @bentoml.api
    def predict(self, records: Records, ctx: bentoml.Context) -> Response:
        """Score each record; the answer keeps the request order. The request id (the client's
        ``x-request-id`` or a new one) comes back in the ``x-request-id`` header and names the capture."""
        started = time.perf_counter()
        self.heap.request()
        request_id = capture.request_id(ctx.request.headers.get(capture.REQUEST_ID_HEADER))
        ctx.response.headers[capture.REQUEST_ID_HEADER] = request_id
        output = self.predictor.predict(records)
        predictions: list[BaseModel]
        if TASK == "binary":
            threshold = float(PARAMS.evaluate.threshold)
            negative, positive = CLASSES
            predictions = [
                BinaryPrediction(probability=float(p), label=positive if p >= threshold else negative)
                for p in output
            ]
        elif TASK == "multiclass":
            predictions = [
                MulticlassPrediction(
                    label=CLASSES[int(row.argmax())],
                    probabilities={label: float(p) for label, p in zip(CLASSES, row, strict=True)},
                )
                for row in output
            ]
        else:
            predictions = [RegressionPrediction(value=float(value)) for value in output]
        if self.capture is not None:
            meta = {
                "request_id": request_id,
                "model_version": self.version,
                "git_sha": self.metadata_response.git_sha,
                "latency_ms": (time.perf_counter() - started) * 1000.0,
            }
            self.capture.answered(records, [p.model_dump() for p in predictions], meta)
        return Response(model_version=self.version, threshold=THRESHOLD, predictions=predictions)

    @bentoml.api
    def metadata(self) -> ModelMetadata:
        """What is serving: model version, git SHA, data hash, training metrics and the request schema."""
        return self.metadata_response
