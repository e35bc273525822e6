"""Build → push → staging → release → new commit → staging → release → rollback, with real parts: a
registry, podman containers serving HTTP, git tags. Digests are checked against the registry at every step.

The first image is the run's shared one (tests/deploy/conftest.py: the working tree, built by `make image`);
the second commit's image is built here, by the same `make image`. A broken image's refusal:
tests/deploy/test_broken_image.py."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import Any

import httpx
import pandas as pd
import pytest
from tests.deploy.shipping import Clone, Shipped, environments, poll_in_background
from tests.strategies import request_records

from mlship.config import Params
from mlship.data.schema import Schema
from mlship.deploy import registry

pytestmark = pytest.mark.integration


def _metadata(url: str) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.post(f"{url}/metadata", json={}, timeout=10).raise_for_status().json()
    return answer


def _tags(clone: Clone) -> set[str]:
    return set(clone.git("tag", "--list").splitlines())


def _log_length(clone: Clone) -> int:
    return int(clone.git("rev-list", "--count", "HEAD"))


def test_merge_to_staging_release_new_commit_release_and_rollback(
    clone: Clone,
    shipped: Shipped,
    params: Params,
    schema: Schema,
    split_frames: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    # given: the image of the first commit (the run's `make image` of the working tree), pushed
    first = clone.head()
    assert first == shipped.sha
    pushed = clone.mlship("deploy", "push").stdout
    first_digest = registry.resolve(clone.repository, f"sha-{first[:12]}")
    assert first_digest is not None
    assert first_digest in pushed

    # when: it goes to staging
    clone.make("deploy-staging")
    # then: staging serves it (its metadata names the commit) and git and the registry agree on the digest
    status = environments(clone)
    assert _metadata(status["staging"]["url"])["git_sha"] == first
    assert status["staging"]["digest"] == first_digest == registry.resolve(clone.repository, "staging")
    assert status["staging"]["in_sync"]
    assert first_digest in (clone.path / "deploy/k8s/overlays/staging/kustomization.yaml").read_text()

    # when: v1.0.0 is tagged on main's head (a state commit) and released
    clone.git("tag", "v1.0.0")
    clone.mlship("deploy", "release", "v1.0.0")
    # then: production serves the very digest staging ran, tagged in the registry and in git (GTO style)
    status = environments(clone)
    assert _metadata(status["production"]["url"])["git_sha"] == first
    assert status["production"]["digest"] == first_digest
    for tag in ("v1.0.0", "production", "production-1"):
        assert registry.resolve(clone.repository, tag) == first_digest
    assert clone.git("rev-parse", f"{clone.name}@v1.0.0^{{commit}}") == first
    assert f"{clone.name}#production#1" in _tags(clone)

    # when: a new commit is merged, built, pushed and deployed to staging, then released as v2.0.0
    (clone.path / "README.md").write_text("a change\n", encoding="utf-8")
    second = clone.commit("a new commit on main")
    clone.build_image()
    clone.mlship("deploy", "push")
    second_digest = registry.resolve(clone.repository, f"sha-{second[:12]}")
    assert second_digest not in (None, first_digest)
    clone.mlship("deploy", "staging")
    assert _metadata(environments(clone)["staging"]["url"])["git_sha"] == second
    clone.git("tag", "v2.0.0")
    # (from here to the rollback a client keeps sending records to production, each request with its id; a
    # request on a kept-alive connection that the old container closes as it stops is not answered: the
    # client sends the next one, as the monitor's traffic would)
    traffic = _Traffic(
        environments(clone)["production"]["url"], request_records(split_frames[1].head(40), schema)
    )
    clone.make("release", "VERSION=v2.0.0")
    # then: production serves the second commit; the first production digest is still named in the registry
    status = environments(clone)
    assert _metadata(status["production"]["url"])["git_sha"] == second
    assert registry.resolve(clone.repository, "production") == second_digest
    assert registry.resolve(clone.repository, "production-1") == first_digest
    assert status["production"]["previous"] == first_digest

    # when: re-running each step
    commits, tags = _log_length(clone), _tags(clone)
    for step in (("push",), ("staging",), ("release", "v2.0.0")):
        clone.mlship("deploy", *step)
    # then: nothing changed (no new state commit, no new tag, same digests)
    assert (_log_length(clone), _tags(clone)) == (commits, tags)
    assert registry.resolve(clone.repository, "production") == second_digest

    # when: production is rolled back (while the client keeps sending records, and another keeps asking
    # whether production is ready)
    answers = poll_in_background(status["production"]["url"])
    clone.make("rollback", "ENV=production")
    failures = answers.stop()
    time.sleep(1.0)
    answered, _ = traffic.stop()
    # then: production serves v1 again, answered throughout, tagged everywhere
    status = environments(clone)
    assert _metadata(status["production"]["url"])["git_sha"] == first
    assert registry.resolve(clone.repository, "production") == first_digest
    assert registry.resolve(clone.repository, "production-3") == first_digest
    assert f"{clone.name}#production#3" in _tags(clone)
    assert status["production"]["in_sync"]
    assert failures == [], f"production stopped answering during the rollback: {failures[:3]}"
    # and: no captured record was lost in the switches: every answered request's records are on the host,
    # answered by both versions (the containers' capture writers flush what they answered when stopped)
    time.sleep(0.5)
    capture = clone.path / params.deploy.runtime_dir / "production" / "capture"
    lines = [json.loads(line) for path in capture.rglob("*.log*") for line in path.read_text().splitlines()]
    captured = Counter(line["request_id"] for line in lines if line.get("request_id") in set(answered))
    assert answered
    assert all(captured[rid] == len(traffic.records) for rid in answered), "answered records are missing"
    assert {line["git_sha"] for line in lines if line.get("request_id") in set(answered)} == {first, second}

    # when: the rollback is run again
    commits, tags = _log_length(clone), _tags(clone)
    clone.mlship("deploy", "rollback", "production")
    # then: it is a no-op (it undoes the latest release, which is already undone)
    assert (_log_length(clone), _tags(clone)) == (commits, tags)

    # when: rolled "back" to a named version, v2.0.0
    clone.make("rollback", "ENV=production", "TO=v2.0.0")
    # then: production serves v2 again; the history tells the whole story; git, registry and runtime agree
    assert _metadata(status["production"]["url"])["git_sha"] == second
    assert registry.resolve(clone.repository, "production") == second_digest
    history = json.loads(clone.mlship("deploy", "history", "production", "--json").stdout)
    assert [(h["action"], h["release"]) for h in history] == [
        ("release", "v1.0.0"),
        ("release", "v2.0.0"),
        ("rollback", "v1.0.0"),
        ("rollback", "v2.0.0"),
    ]
    assert "in sync" in clone.make("status").stdout
    assert f"{clone.name}#production#4" in _tags(clone)


class _Traffic:
    """A client sending the same records to ``/predict`` one request after another, each with its own
    ``x-request-id``; it keeps the ids answered with 200, and what went wrong with the others."""

    def __init__(self, url: str, records: list[dict[str, Any]]) -> None:
        self.url = url
        self.records = records
        self.answered: list[str] = []
        self.failures: list[str] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            n = 0
            while not self.done.is_set():
                rid = f"switch-{n}"
                n += 1
                try:
                    answer = client.post(
                        f"{self.url}/predict", json={"records": self.records}, headers={"x-request-id": rid}
                    )
                except httpx.HTTPError as error:
                    self.failures.append(repr(error))
                    continue
                if answer.status_code == 200:
                    self.answered.append(rid)
                else:
                    self.failures.append(f"status {answer.status_code}")

    def stop(self) -> tuple[list[str], list[str]]:
        self.done.set()
        self.thread.join()
        return self.answered, self.failures
