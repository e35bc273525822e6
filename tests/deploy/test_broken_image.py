"""A broken image for a new commit, on real parts (the run's registry, podman, the run's good image in
staging): refused by the health check naming why, staging never stops serving the good digest, the failure
recorded, a crashed environment repaired from git's desired state, the broken digest refused for production.

A module of its own (its own clone and environments), so it runs beside the shipping end to end."""

from __future__ import annotations

import json
import subprocess

import pytest
from tests.deploy.shipping import Clone, environments, poll_in_background, working_container

from mlship.config import load_params
from mlship.deploy import registry, runner

pytestmark = pytest.mark.integration


def test_a_broken_image_is_rolled_back_and_refused_for_production(clone: Clone) -> None:
    # given: staging runs a good image, and a broken image for a new commit (its server exits at start, as
    # one with a missing file or a bad dependency does; a server that hangs is the health check's timeout,
    # tests/deploy/test_health.py)
    clone.mlship("deploy", "push")
    clone.mlship("deploy", "staging")
    good = environments(clone)["staging"]["digest"]
    broken_commit = clone.commit("a commit whose image is broken")
    broken = _broken_copy(clone, good, f"sha-{broken_commit[:12]}")

    # when: the broken image is deployed to staging while a client keeps asking staging
    url = environments(clone)["staging"]["url"]
    answers = poll_in_background(url)
    result = clone.mlship("deploy", "staging", check=False)
    failures = answers.stop()

    # then: the command fails naming the health check and why (the container's exit and its last words),
    # staging still runs the good digest and never stopped
    assert result.returncode != 0
    assert "failed its health check" in result.stderr
    assert "exited with code 3" in result.stderr
    assert BROKEN_MESSAGE in result.stderr
    status = environments(clone)["staging"]
    assert status["digest"] == good == status["running"]
    assert registry.resolve(clone.repository, "staging") == good
    assert failures == [], f"staging stopped answering: {failures[:3]}"
    history = json.loads(clone.mlship("deploy", "history", "staging", "--json").stdout)
    assert history[-1]["digest"] == broken
    assert history[-1]["result"] == "failed"

    # when: the staging container disappears behind the deploy's back (a crash, a manual `podman rm`)
    subprocess.run(
        ["podman", "rm", "--force", *_containers(clone, "staging")], check=True, capture_output=True
    )
    drifted = clone.mlship("deploy", "status", check=False)
    # then: status names the drift and exits 3; re-applying git's desired digest repairs it
    assert drifted.returncode == 3
    assert "DRIFT" in drifted.stdout
    clone.mlship("deploy", "staging", good)
    assert environments(clone)["staging"]["in_sync"]

    # when: the same digest is proposed for production
    clone.git("tag", "v9.0.0", broken_commit)
    refused = clone.mlship("deploy", "release", "v9.0.0", check=False)
    # then: it is refused, saying why, and production is untouched
    assert refused.returncode != 0
    assert "failed a health check" in refused.stderr
    assert registry.resolve(clone.repository, "v9.0.0") is None


def _containers(clone: Clone, environment: str) -> list[str]:
    """This clone's containers in ``environment``, and no other checkout's: the suite's other workers (the
    monitoring and bench tests) and a second run on the same machine keep their own staging running."""
    scope = clone.path / load_params(clone.path / "params.yaml").deploy.runtime_dir
    names = [container.name for container in runner.containers(scope, environment)]
    assert names, f"no {environment} container of this clone ({scope}) to remove"
    return names


BROKEN_MESSAGE = "the service cannot start: its model file is missing"


def _broken_copy(clone: Clone, digest: str, tag: str) -> str:
    """The good image with an entrypoint that exits at start, pushed as ``tag`` and signed."""
    container = working_container(clone.repository, digest)
    entrypoint = json.dumps(["sh", "-c", f"echo '{BROKEN_MESSAGE}' >&2; exit 3"])
    subprocess.run(["buildah", "config", "--entrypoint", entrypoint, container], check=True)
    local = f"localhost/broken:{tag}"
    subprocess.run(
        ["buildah", "commit", "--quiet", "--rm", container, local], check=True, capture_output=True
    )
    pushed = registry.push(local, clone.repository, tag)
    assert pushed != digest
    # signed by the project's key like any image CI built: the health check, not the signature, stops it
    clone.mlship("deploy", "sign", f"{clone.repository}@{pushed}")
    return pushed
