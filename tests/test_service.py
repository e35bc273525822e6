"""The BentoML service, in-process (ASGI) and as a real `bentoml serve` process over HTTP.

The model served is the default model trained on the real split (the `production_model` fixture), saved to
a private BentoML store for this test run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline
from starlette.testclient import TestClient
from tests.strategies import project_schema, request_records

from mlship.config import Params
from mlship.data.schema import CategoricalColumn, NumericColumn, Schema
from mlship.evaluate import predict
from mlship.service import ModelService
from mlship.serving.process import Server, ServerError, serve
from mlship.serving.store import SavedModel, save
from mlship.train import save_model

VERSION = "test-model"
SCHEMA = project_schema()


def _answers(predictions: list[dict[str, Any]], task: str) -> list[Any]:
    """The comparable part of each served prediction: the positive class's probability, every class's
    probability in class order, or the value."""
    if task == "binary":
        return [p["probability"] for p in predictions]
    if task == "multiclass":
        return [[p["probabilities"][label] for label in SCHEMA.target.classes] for p in predictions]
    return [p["value"] for p in predictions]


def _invalid_changes(schema: Schema) -> list[Any]:
    """One bad value per kind of mistake the schema lets us make, each with the field it must name."""
    cases: list[Any] = []
    for column in schema.numeric:
        if column.kind == "integer":
            cases.append(pytest.param({column.name: "39"}, column.name, id="string for an integer"))
            cases.append(pytest.param({column.name: 39.5}, column.name, id="fraction for an integer"))
            if column.maximum is not None:
                over = int(column.maximum) + 1
                cases.append(pytest.param({column.name: over}, column.name, id="out of range"))
            break
    for column in schema.numeric:
        if column.kind == "float":
            cases.append(pytest.param({column.name: "1.5"}, column.name, id="string for a float"))
            break
    categorical = [c for c in schema.features if isinstance(c, CategoricalColumn)]
    if categorical:
        name = categorical[0].name
        cases.append(pytest.param({name: "no-such-category"}, name, id="unknown category"))
    required = [c for c in schema.features if not c.nullable]
    if required:
        cases.append(pytest.param({required[0].name: None}, required[0].name, id="null in a required field"))
    cases.append(pytest.param({"no_such_field": 10}, "no_such_field", id="unknown field"))
    return cases


def _partial_record() -> tuple[dict[str, Any], str]:
    """A record holding only its first feature (a valid value), and a required field it lacks."""
    first = SCHEMA.features[0]
    if isinstance(first, CategoricalColumn):
        value: Any = first.categories[0]
    elif isinstance(first, NumericColumn) and first.kind == "boolean":
        value = True
    else:
        value = (
            0 if first.minimum is None else int(first.minimum) if first.kind == "integer" else first.minimum
        )
    lacking = next(c.name for c in SCHEMA.features[1:] if not c.nullable)
    return {first.name: value}, lacking


@pytest.fixture(scope="session")
def stored_model(
    production_model: Pipeline, params: Params, tmp_path_factory: pytest.TempPathFactory
) -> SavedModel:
    path = tmp_path_factory.mktemp("model") / "model.joblib"
    save_model(production_model, path)
    metrics = {"overall": {"roc_auc": 0.93}}
    return save(params, model_path=path, metrics=metrics, version=VERSION)


@pytest.fixture(scope="module")
def client(stored_model: SavedModel) -> Iterator[TestClient]:
    with TestClient(ModelService.to_asgi()) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def test_records(split_frames: tuple[pd.DataFrame, pd.DataFrame]) -> list[dict[str, Any]]:
    return request_records(split_frames[1])


def test_predict_answers_each_record_in_order(
    client: TestClient, test_records: list[dict[str, Any]], production_model: Pipeline, split_frames: Any
) -> None:
    # given five records / when posted / then five predictions in order, equal to the pipeline's
    response = client.post("/predict", json={"records": test_records[:5]})
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == VERSION
    expected = predict(production_model, split_frames[1][SCHEMA.feature_names].head(5), SCHEMA.task)
    assert _answers(body["predictions"], SCHEMA.task) == expected.tolist()
    if SCHEMA.task == "binary":
        negative, positive = SCHEMA.target.classes
        labels = [positive if p >= body["threshold"] else negative for p in expected]
        assert [p["label"] for p in body["predictions"]] == labels
    elif SCHEMA.task == "multiclass":
        labels = [SCHEMA.target.classes[int(row.argmax())] for row in expected]
        assert [p["label"] for p in body["predictions"]] == labels


@pytest.mark.parametrize(("change", "field"), _invalid_changes(SCHEMA))
def test_an_invalid_record_is_a_400_naming_the_field(
    client: TestClient, test_records: list[dict[str, Any]], change: dict[str, Any], field: str
) -> None:
    record = {**test_records[0], **change}
    response = client.post("/predict", json={"records": [test_records[1], record]})
    assert response.status_code == 400
    locations = [error["loc"] for error in response.json()["detail"]]
    assert locations == [["records", 1, field]]


def test_a_missing_field_is_a_400_naming_it(client: TestClient, test_records: list[dict[str, Any]]) -> None:
    required = next(c.name for c in reversed(SCHEMA.features) if not c.nullable)
    record = {k: v for k, v in test_records[0].items() if k != required}
    response = client.post("/predict", json={"records": [record]})
    assert response.status_code == 400
    assert response.json()["detail"][0]["loc"] == ["records", 0, required]


@pytest.mark.parametrize(
    ("body", "location"),
    [
        pytest.param({"records": []}, ["records"], id="no records"),
        pytest.param({}, ["records"], id="no records field"),
        pytest.param({"records": "all"}, ["records"], id="records not a list"),
    ],
)
def test_a_malformed_batch_is_a_400(client: TestClient, body: dict[str, Any], location: list[Any]) -> None:
    response = client.post("/predict", json=body)
    assert response.status_code == 400
    assert response.json()["detail"][0]["loc"] == location


def test_too_many_records_is_a_400_naming_the_limit(
    client: TestClient, test_records: list[dict[str, Any]], params: Params
) -> None:
    limit = params.service.max_records
    response = client.post("/predict", json={"records": test_records[:1] * (limit + 1)})
    assert response.status_code == 400
    error = response.json()["detail"][0]
    assert error["loc"] == ["records"]
    assert f"at most {limit} items" in error["msg"]


@pytest.mark.parametrize("payload", [b"{not json", b"", b"\xff\xfe", b"[1, 2]", b'{"records": [NaN]}'])
def test_unparseable_bodies_are_a_400_never_a_500(client: TestClient, payload: bytes) -> None:
    response = client.post("/predict", content=payload, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "detail" in response.json() or "error" in response.json()


def test_metadata_describes_the_model_and_the_contract(client: TestClient, params: Params) -> None:
    response = client.post("/metadata", json={})
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == VERSION
    assert body["data_sha256"] == params.data.source.sha256
    assert body["max_records"] == params.service.max_records
    assert body["metrics"] == {"roc_auc": 0.93}
    assert body["task"] == SCHEMA.task
    described = body["data_schema"]
    assert set(described["numeric"]) | set(described["categorical"]) == set(SCHEMA.feature_names)
    for column in SCHEMA.categorical:
        assert described["categorical"][column.name]["categories"] == list(column.categories)
    # and the example record it serves is accepted by predict
    assert client.post("/predict", json={"records": [body["example"]]}).status_code == 200


def test_health_endpoints_answer(client: TestClient) -> None:
    assert client.get("/readyz").status_code == 200
    assert client.get("/livez").status_code == 200


# --- a real `bentoml serve` process --------------------------------------------------------------------


@pytest.fixture(scope="module")
def server_process(
    stored_model: SavedModel, repo_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """`bentoml serve` on a free loopback port, logging to a file; stopped with all its workers."""
    log = tmp_path_factory.mktemp("serve") / "bentoml-serve.log"
    bentoml = Path(sys.executable).parent / "bentoml"
    try:
        with serve("mlship.service:ModelService", cwd=repo_root, log=log, bentoml=bentoml) as running:
            yield running
    except ServerError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="module")
def server(server_process: Server) -> str:
    return server_process.url


@pytest.mark.integration
def test_http_predictions_equal_the_saved_pipeline_for_the_whole_test_split(
    server: str, params: Params, production_model: Pipeline, split_frames: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    # given every record of the test split / when scored over HTTP in batches of the maximum size
    test = split_frames[1]
    records = request_records(test)
    size = params.service.max_records
    served: list[Any] = []
    with httpx.Client(base_url=server, timeout=60) as http:
        for start in range(0, len(records), size):
            response = http.post("/predict", json={"records": records[start : start + size]})
            assert response.status_code == 200, response.text
            served += _answers(response.json()["predictions"], SCHEMA.task)
        # and the first 300 again, one record per request (the single-record path)
        alone = []
        for record in records[:300]:
            response = http.post("/predict", json={"records": [record]})
            assert response.status_code == 200, response.text
            alone += _answers(response.json()["predictions"], SCHEMA.task)
    # then every probability equals the in-process pipeline's, bit for bit (no training/serving skew)
    expected = predict(production_model, test[SCHEMA.feature_names], SCHEMA.task)
    assert np.array_equal(np.array(served), expected)
    assert np.array_equal(np.array(alone), expected[:300])


@pytest.mark.integration
def test_the_real_server_refuses_bad_input_with_a_400(server: str) -> None:
    record, lacking = _partial_record()
    response = httpx.post(f"{server}/predict", json={"records": [record]}, timeout=10)
    assert response.status_code == 400
    missing = {tuple(error["loc"]) for error in response.json()["detail"]}
    assert ("records", 0, lacking) in missing


def _schemathesis(server: str, mode: str, checks: str, junit: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{server}/docs.json",
            "--data-generation-method",
            mode,
            "--checks",
            checks,
            # schemathesis 3.39 crashes generating the body-less /metadata operation ("'many' object has no
            # attribute 'more'"); /metadata is covered by test_metadata_describes_the_model_and_the_contract.
            "--exclude-path-regex",
            "metadata",
            "--hypothesis-max-examples",
            "60",
            "--request-timeout",
            "30000",
            "--hypothesis-derandomize",
            "--hypothesis-suppress-health-check",
            "all",
            "--junit-xml",
            str(junit),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "SCHEMATHESIS_TELEMETRY": "false"},
        timeout=600,
    )


@pytest.mark.integration
def test_schemathesis_finds_no_server_error(server: str, tmp_path: Path) -> None:
    # given valid and invalid requests generated from the service's own OpenAPI document
    # then none gets a 5xx and every response has the documented content type.
    # Not checked, with reasons: response-schema conformance of 400s (BentoML 1.4 documents the error
    # `detail` as a string but sends pydantic's list of errors, and does not mark the request body
    # required, so "valid" generated requests may omit it); the correctness of 200s is covered by the
    # skew test above.
    result = _schemathesis(server, "all", "not_a_server_error,content_type_conformance", tmp_path / "j.xml")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "POST predict" in result.stdout
    assert "Empty test suite" not in result.stdout


def _refusals(server: Server) -> list[str]:
    return [line for line in server.log_text().splitlines() if "refused POST /predict" in line]


@pytest.mark.integration
def test_each_refused_request_is_one_log_line_and_the_server_keeps_answering(
    server_process: Server, test_records: list[dict[str, Any]]
) -> None:
    # given a running server and the refusals it has logged so far
    before = len(_refusals(server_process))
    record, lacking = _partial_record()
    # when 200 requests with a record missing its fields arrive (with a traceback each, ~460 KB of log)
    with httpx.Client(base_url=server_process.url, timeout=10) as http:
        for _ in range(200):
            assert http.post("/predict", json={"records": [record]}).status_code == 400
        # then the server still answers a good request
        assert http.post("/predict", json={"records": test_records[:1]}).status_code == 200
    # and each refusal was logged as one WARNING line naming the fields, without a traceback
    deadline = time.monotonic() + 10
    while len(new := _refusals(server_process)[before:]) < 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(new) == 200
    assert all("[WARNING]" in line and f"records.0.{lacking}" in line for line in new)
    assert "Traceback" not in server_process.log_text()


def _readme_service_commands(repo_root: Path) -> list[str]:
    """The `curl` lines of the README's service example, in order."""
    text = (repo_root / "README.md").read_text(encoding="utf-8")
    section = text.split("## The service", 1)[1].split("```console", 1)[1].split("```", 1)[0]
    return [line[2:] for line in section.splitlines() if line.startswith("$ curl")]


@pytest.mark.integration
def test_the_readme_service_commands_work_against_the_real_server(server: str, repo_root: Path) -> None:
    # given the README's commands, pointed at the running server
    commands = _readme_service_commands(repo_root)
    assert len(commands) == 4
    host = server.removeprefix("http://")
    outputs = []
    for command in commands:
        # when each runs in a shell / then it succeeds
        result = subprocess.run(
            ["bash", "-c", command.replace("127.0.0.1:3000", host)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    # then /metadata's example is a record of this schema, and the default-data examples answer as shown
    # when the schema is the one they were written for (on a fork, they are refused naming a field)
    assert set(json.loads(outputs[0])) == set(SCHEMA.feature_names)
    readme_record = json.loads(commands[1].split("-d '", 1)[1].rstrip("'"))["records"][0]
    good, bad = json.loads(outputs[1]), json.loads(outputs[2])
    if set(readme_record) == set(SCHEMA.feature_names):
        assert len(good["predictions"]) == 1
        assert bad["detail"][0]["loc"] == ["records", 0, "age"]
    else:
        assert "detail" in good
    assert outputs[3].strip() == ""  # /readyz answers 200 with an empty body


@pytest.mark.integration
def test_a_stopped_server_has_written_every_answer_it_gave(
    stored_model: SavedModel, repo_root: Path, tmp_path: Path, test_records: list[dict[str, Any]]
) -> None:
    # given a real server capturing into its own directory, its writer thread told to write only every 60 s
    capture = tmp_path / "capture"
    env = {**os.environ, "MLSHIP_CAPTURE_DIR": str(capture), "MLSHIP_CAPTURE_INTERVAL_S": "60"}
    bentoml = Path(sys.executable).parent / "bentoml"
    answered: list[str] = []
    with serve(
        "mlship.service:ModelService", cwd=repo_root, log=tmp_path / "serve.log", bentoml=bentoml, env=env
    ) as running:
        with httpx.Client(base_url=running.url, timeout=30) as http:
            for n in range(40):
                rid = f"stopped-{n}"
                answer = http.post(
                    "/predict", json={"records": test_records[:5]}, headers={"x-request-id": rid}
                )
                assert answer.status_code == 200, answer.text
                answered.append(rid)
        assert not list(capture.rglob("*.log")), "the writer wrote before its interval"
        # when it is told to stop, as a container runtime does (SIGTERM to the server process only)
        os.kill(running.process.pid, signal.SIGTERM)
        running.process.wait(timeout=60)
    # then every record of every request it answered is on disk: its workers wrote what was queued
    lines = [json.loads(line) for path in capture.rglob("*.log*") for line in path.read_text().splitlines()]
    written = Counter(line["request_id"] for line in lines if "request_id" in line)
    assert written == dict.fromkeys(answered, 5)
