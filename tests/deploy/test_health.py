"""The deploy's health check against real HTTP servers on loopback (the standard library's): a server that
never becomes ready is judged at the timeout, one whose process stopped at once, one serving another build or
no prediction is refused naming what it served."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mlship.deploy import health


class _Server:
    """A server answering the health protocol: /readyz, /metadata and /predict, as configured."""

    def __init__(self, ready: bool, metadata: dict[str, Any], predictions: int = 1) -> None:
        outer = self
        self.ready, self.metadata, self.predictions = ready, metadata, predictions

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _answer(self, code: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._answer(200 if outer.ready else 503, {})

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                if self.path == "/metadata":
                    self._answer(200, outer.metadata)
                else:
                    self._answer(200, {"predictions": [{"value": 0.0}] * outer.predictions})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


GOOD = {"git_sha": "a" * 40, "model_version": "v1", "example": {"x": 1}}


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[_Server] = []

    def start(ready: bool = True, metadata: dict[str, Any] | None = None, predictions: int = 1) -> _Server:
        servers.append(_Server(ready, GOOD if metadata is None else metadata, predictions))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_a_ready_server_of_the_expected_build_that_predicts_is_healthy(serve: Any) -> None:
    server = serve()
    verdict = health.check(server.url, GOOD["git_sha"], "v1", timeout_s=5)
    assert verdict.healthy, verdict.detail
    assert verdict.detail.startswith(f"ready, serving git {'a' * 12} model v1")


def test_a_server_that_never_becomes_ready_fails_at_the_timeout(serve: Any) -> None:
    # given a server whose /readyz keeps answering 503 (a hung start-up) / when checked with a 1 s timeout
    server = serve(ready=False)
    verdict = health.check(server.url, GOOD["git_sha"], "v1", timeout_s=1, stopped=lambda: None)
    # then it is unhealthy, naming the timeout and the URL it waited on
    assert not verdict.healthy
    assert verdict.detail == f"not ready within 1 s ({server.url}/readyz)"


def test_a_server_whose_process_stopped_fails_at_once_with_the_reason(serve: Any) -> None:
    # given a server that is not ready and whose process has stopped
    server = serve(ready=False)
    asked: list[int] = []

    def stopped() -> str | None:
        asked.append(1)
        return "container x exited with code 3: boom"

    # when checked with a timeout far longer than the test (it would hang if the reason were ignored)
    verdict = health.check(server.url, GOOD["git_sha"], "v1", timeout_s=3600, stopped=stopped)
    # then it fails with that reason, having asked once
    assert not verdict.healthy
    assert verdict.detail == "not ready: container x exited with code 3: boom"
    assert asked == [1]


@pytest.mark.parametrize(
    ("metadata", "predictions", "expected"),
    [
        ({**GOOD, "git_sha": "b" * 40}, 1, f"/metadata serves git {'b' * 40} model v1, expected git"),
        ({**GOOD, "model_version": "v0"}, 1, "model v0, expected git"),
        ({key: v for key, v in GOOD.items() if key != "example"}, 1, "/metadata has no example record"),
        (GOOD, 2, "/predict returned"),
    ],
)
def test_a_server_of_another_build_or_without_a_prediction_is_refused_naming_it(
    serve: Any, metadata: dict[str, Any], predictions: int, expected: str
) -> None:
    server = serve(metadata=metadata, predictions=predictions)
    verdict = health.check(server.url, GOOD["git_sha"], "v1", timeout_s=5)
    assert not verdict.healthy
    assert expected in verdict.detail
