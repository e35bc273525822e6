"""Registry operations by digest against a real registry (Debian's docker-registry) and `make registry`."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.deploy.shipping import Clone
from tests.shared import clone_working_tree

from mlship.deploy import registry, runner


@pytest.fixture
def checkout(tmp_path: Path) -> Iterator[Clone]:
    """A clone of the working tree (no image needed: `make registry` and `make down` only)."""
    path = clone_working_tree(tmp_path / "repo")
    env = {k: v for k, v in os.environ.items() if k not in {"MLSHIP_PARAMS", "MLSHIP_REGISTRY"}}
    repo = Clone(path=path, env=env, repository="", name="")
    yield repo
    repo.make("down", check=False)


@pytest.fixture(scope="module")
def tiny_image() -> Iterator[str]:
    """A one-file image (no base) in local storage, named for this process: a second run on the machine
    builds and removes its own."""
    container = subprocess.run(
        ["buildah", "from", "--quiet", "scratch"], check=True, capture_output=True, text=True
    ).stdout.strip()
    subprocess.run(["buildah", "config", "--label", "purpose=registry-test", container], check=True)
    name = f"localhost/mlship-registry-test:{os.getpid()}"
    subprocess.run(["buildah", "commit", "--quiet", "--rm", container, name], check=True, capture_output=True)
    yield name
    subprocess.run(["podman", "rmi", "--force", name], check=False, capture_output=True)


@pytest.mark.integration
def test_push_tag_and_resolve_work_by_digest(registry_port: int, tiny_image: str) -> None:
    # given: an image pushed under one tag
    repository = f"127.0.0.1:{registry_port}/registry-test"
    digest = registry.push(tiny_image, repository, "sha-test")
    # when: another tag is pointed at its digest (twice)
    first = registry.tag(repository, digest, "staging")
    second = registry.tag(repository, digest, "staging")
    # then: both tags resolve to the same digest, read back from the registry; the second call changed nothing
    assert registry.resolve(repository, "sha-test") == digest
    assert registry.resolve(repository, "staging") == digest
    assert (first, second) == (True, False)
    assert registry.resolve(repository, digest) == digest
    assert registry.labels(repository, digest)["purpose"] == "registry-test"
    assert {"sha-test", "staging"} <= set(registry.tags(repository))
    # and: a tag that does not exist is None, not an error
    assert registry.resolve(repository, "never-pushed") is None


@pytest.mark.integration
def test_make_registry_is_idempotent_and_make_down_keeps_the_data(checkout: Clone) -> None:
    # given: a free port for the clone's own registry
    port = runner.free_port()
    # when: `make registry` runs twice
    first = checkout.make("registry", f"REGISTRY_PORT={port}").stdout
    second = checkout.make("registry", f"REGISTRY_PORT={port}").stdout
    # then: one registry answers; the second run found it running
    assert "started" in first
    assert "already running" in second
    assert httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=5).status_code == 200
    # when: `make down`
    checkout.make("down", f"REGISTRY_PORT={port}")
    # then: the registry is stopped and its data directory kept
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=2)
    assert (checkout.path / ".deploy/registry").is_dir()


@given(
    owner=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,20}", fullmatch=True),
    repo=st.from_regex(r"[A-Za-z0-9._-]{1,30}", fullmatch=True),
)
def test_in_github_actions_the_repository_is_ghcr_of_the_lower_cased_repository(
    owner: str, repo: str
) -> None:
    # given: GitHub's variables for any repository (and no explicit registry)
    github = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": f"{owner}/{repo}"}
    with mock.patch.dict(os.environ, github):
        os.environ.pop("MLSHIP_REGISTRY", None)
        # when / then: ghcr.io of that repository, lower-cased (no owner is hard-coded)
        assert registry.default_repository("model", 5000) == f"ghcr.io/{owner.lower()}/{repo.lower()}"


def test_an_explicit_registry_wins_and_the_local_one_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("MLSHIP_REGISTRY", raising=False)
    monkeypatch.delenv("REGISTRY_PORT", raising=False)
    assert registry.default_repository("model", 5000) == "127.0.0.1:5000/model"
    monkeypatch.setenv("REGISTRY_PORT", "5123")
    assert registry.default_repository("model", 5000) == "127.0.0.1:5123/model"
    monkeypatch.setenv("MLSHIP_REGISTRY", "registry.example/team/model/")
    assert registry.default_repository("model", 5000) == "registry.example/team/model"


def test_a_malformed_digest_is_refused() -> None:
    with pytest.raises(registry.RegistryError, match="not an image digest"):
        registry.check_digest("sha256:xyz")
