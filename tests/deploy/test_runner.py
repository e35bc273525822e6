"""The environment's stable port (a relay process) switches between live backends without a refused request,
and one deployment at a time holds the lock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from mlship.config import Params
from mlship.deploy import runner
from mlship.deploy.commands import Deployer


def _backend(answer: str) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = answer.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def front(tmp_path: Path) -> Iterator[runner.Front]:
    relay = runner.Front("staging", runner.free_port(), tmp_path)
    yield relay
    relay.stop()


def _until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Wait for ``condition`` (the steps of a concurrent scenario happen in order, not after fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the client"
        time.sleep(0.01)


def test_switching_the_backend_moves_new_requests_and_refuses_none(front: runner.Front) -> None:
    # given: a relay in front of backend "old", and a client asking it continuously
    old, new = _backend("old"), _backend("new")
    front.switch(old.server_address[1])
    front.ensure()
    front.ensure()  # idempotent: still one relay
    seen: list[str] = []
    errors: list[str] = []
    done = threading.Event()

    def client() -> None:
        with httpx.Client(timeout=5) as http:
            while not done.is_set():
                try:
                    seen.append(http.get(f"http://127.0.0.1:{front.port}/").text)
                except httpx.HTTPError as error:
                    errors.append(repr(error))

    thread = threading.Thread(target=client)
    thread.start()
    _until(lambda: "old" in seen)  # the client is answered before the switch, however loaded the machine
    # when: the environment switches to "new", then the old backend stops
    front.switch(new.server_address[1])
    _until(lambda: "new" in seen)
    old.shutdown()
    answered = len(seen)
    _until(lambda: len(seen) >= answered + 5)  # and the client keeps being answered after the old one stopped
    done.set()
    thread.join()
    new.shutdown()
    # then: answers went from old to new, never back, and no request failed
    assert errors == []
    assert seen[0] == "old"
    assert seen[-1] == "new"
    assert "old" not in seen[seen.index("new") :]
    assert front.running()


def test_a_port_taken_by_another_program_is_a_clear_error(tmp_path: Path) -> None:
    squatter = _backend("someone else")
    relay = runner.Front("production", squatter.server_address[1], tmp_path)
    with pytest.raises(runner.RunnerError, match="taken by another program"):
        relay.ensure()
    squatter.shutdown()


def test_two_deployments_never_hold_the_lock_together(params: Params, tmp_path: Path) -> None:
    # given: two deployers on one checkout
    first, second = Deployer(params, repo=tmp_path), Deployer(params, repo=tmp_path)
    inside: list[int] = []
    overlaps: list[int] = []

    def deploy(deployer: Deployer) -> None:
        with deployer.lock():
            inside.append(1)
            if len(inside) > 1:
                overlaps.append(1)
            time.sleep(0.3)
            inside.pop()

    # when: both start at once
    threads = [threading.Thread(target=deploy, args=(d,)) for d in (first, second)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then: one waited for the other
    assert overlaps == []
    assert time.monotonic() - started >= 0.6
