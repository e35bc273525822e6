"""The kustomize overlays render with `kubectl kustomize` and validate offline against Kubernetes' schemas."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mlship.deploy import gitops

KUBERNETES = kubernetes_validate.latest_version()
ENVIRONMENTS = ("staging", "production")


def _render(overlay: Path) -> list[dict[str, Any]]:
    out = subprocess.run(["kubectl", "kustomize", str(overlay)], capture_output=True, text=True, check=True)
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def _by_kind(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for doc in docs}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_each_overlay_renders_valid_kubernetes_objects(repo_root: Path, environment: str) -> None:
    # given / when
    docs = _render(repo_root / "deploy/k8s/overlays" / environment)
    # then: strict schema validation (unknown fields refused) passes for every object
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)
    kinds = _by_kind(docs)
    assert set(kinds) == {"Deployment", "Service", "HorizontalPodAutoscaler", "ConfigMap"}
    assert {doc["metadata"]["namespace"] for doc in docs} == {f"mlship-{environment}"}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_deployment_pins_the_overlay_digest_probes_bentoml_and_runs_unprivileged(
    repo_root: Path, environment: str
) -> None:
    overlay = repo_root / "deploy/k8s/overlays" / environment
    image = yaml.safe_load((overlay / "kustomization.yaml").read_text())["images"][0]
    kinds = _by_kind(_render(overlay))
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == f"{image['newName']}@{image['digest']}"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert set(container["resources"]) == {"requests", "limits"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert (
        kinds["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"]
        == kinds["Deployment"]["metadata"]["name"]
    )
    assert kinds["Service"]["spec"]["selector"] == kinds["Deployment"]["spec"]["selector"]["matchLabels"]


@settings(max_examples=10, deadline=None)
@given(digest=st.text("0123456789abcdef", min_size=64, max_size=64).map(lambda h: f"sha256:{h}"))
def test_writing_an_overlay_pins_exactly_that_digest(
    repo_root: Path, digest: str, tmp_path_factory: Any
) -> None:
    # given: a copy of the kustomize tree
    root = tmp_path_factory.mktemp("k8s")
    shutil.copytree(repo_root / "deploy/k8s", root / "k8s")
    overlay = root / "k8s/overlays/production/kustomization.yaml"
    # when: the deploy writes a digest into the overlay (twice: the second write changes nothing)
    gitops.write_overlay(overlay, "ghcr.io/acme/model", digest, "production")
    first = overlay.read_text()
    gitops.write_overlay(overlay, "ghcr.io/acme/model", digest, "production")
    # then: the rendered Deployment runs that digest, and the file is valid and unchanged by the re-run
    assert overlay.read_text() == first
    deployment = _by_kind(_render(overlay.parent))["Deployment"]
    kubernetes_validate.validate(deployment, KUBERNETES, strict=True)
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == f"ghcr.io/acme/model@{digest}"


def test_the_validator_refuses_a_misspelled_field(repo_root: Path) -> None:
    # given: the production Deployment with a typo in a probe
    deployment = _by_kind(_render(repo_root / "deploy/k8s/overlays/production"))["Deployment"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinessProbe"]["httpGett"] = container["readinessProbe"].pop("httpGet")
    # when / then
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES, strict=True)
