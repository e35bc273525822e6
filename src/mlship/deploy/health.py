"""Is a deployment healthy? Ready, serving the expected build, and answering one real prediction."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Health:
    healthy: bool
    detail: str


#: How often a waiting check asks whether the server's process is still there (``stopped``).
STOPPED_EVERY_S = 1.0


def check(  # noqa: PLR0911 -- one early return per failed condition, each with its own message
    base_url: str,
    git_sha: str,
    version: str,
    timeout_s: float,
    stopped: Callable[[], str | None] | None = None,
) -> Health:
    """Wait for ``/readyz``, then require ``/metadata`` to name ``git_sha``/``version`` and ``/predict`` to
    answer its own example record (built by the server from the schema it serves).

    ``stopped`` (while waiting): None while the server's process runs, else why it stopped; a server that
    died does not become ready, so the check fails at once with that reason instead of waiting it out."""
    deadline = time.monotonic() + timeout_s
    asked = time.monotonic()
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        while True:
            try:
                if client.get("/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if stopped is not None and time.monotonic() - asked >= STOPPED_EVERY_S:
                asked = time.monotonic()
                reason = stopped()
                if reason is not None:
                    return Health(False, f"not ready: {reason}")
            if time.monotonic() > deadline:
                return Health(False, f"not ready within {timeout_s:.0f} s ({base_url}/readyz)")
            time.sleep(0.25)
        try:
            metadata: dict[str, Any] = client.post("/metadata", json={}).raise_for_status().json()
        except (httpx.HTTPError, ValueError) as error:
            return Health(False, f"/metadata failed: {error}")
        if metadata.get("git_sha") != git_sha or metadata.get("model_version") != version:
            return Health(
                False,
                f"/metadata serves git {metadata.get('git_sha')} model {metadata.get('model_version')}, "
                f"expected git {git_sha} model {version}",
            )
        example = metadata.get("example")
        if not isinstance(example, dict):
            return Health(False, "/metadata has no example record to predict")
        try:
            answer = client.post("/predict", json={"records": [example]}).raise_for_status().json()
        except (httpx.HTTPError, ValueError) as error:
            return Health(False, f"/predict failed on the served example: {error}")
        if len(answer.get("predictions", [])) != 1:
            return Health(False, f"/predict returned {answer!r} for one record")
    return Health(True, f"ready, serving git {git_sha[:12]} model {version}, prediction ok")
