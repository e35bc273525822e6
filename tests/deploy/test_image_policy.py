"""The cluster's image-verification policy (Kyverno), validated offline against Kyverno's own schema (its
CRDs as models: cloudcoil-models-kyverno), strictly: a misspelled field is an error, not ignored."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from cloudcoil.models.kyverno.v1 import ClusterPolicy

POLICY = Path("deploy/k8s/base/image-policy.yaml")


def _strict(node: Any) -> Any:
    """Kyverno's schema with every object closed: a key the CRD does not declare is refused."""
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _strict(value)
    elif isinstance(node, list):
        for value in node:
            _strict(value)
    return node


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return dict(_strict(ClusterPolicy.model_json_schema(by_alias=True)))


@pytest.fixture
def policy(repo_root: Path) -> dict[str, Any]:
    return dict(yaml.safe_load((repo_root / POLICY).read_text(encoding="utf-8")))


def test_the_policy_is_a_valid_kyverno_cluster_policy(policy: dict[str, Any], schema: dict[str, Any]) -> None:
    jsonschema.validate(policy, schema)
    assert ClusterPolicy.model_validate(policy).kind == "ClusterPolicy"


def test_a_misspelled_field_is_refused(policy: dict[str, Any], schema: dict[str, Any]) -> None:
    # given the policy with one key misspelled (Kyverno would ignore it, and verify nothing)
    broken = copy.deepcopy(policy)
    rule = broken["spec"]["rules"][0]
    rule["verifyImage"] = rule.pop("verifyImages")
    # then the validation refuses it
    with pytest.raises(jsonschema.ValidationError, match="verifyImage"):
        jsonschema.validate(broken, schema)


def test_it_requires_main_workflows_keyless_signature_in_the_service_namespaces(
    policy: dict[str, Any], repo_root: Path
) -> None:
    # given the namespaces the overlays deploy the service into
    namespaces = {
        yaml.safe_load(path.read_text(encoding="utf-8"))["namespace"]
        for path in (repo_root / "deploy/k8s/overlays").glob("*/kustomization.yaml")
    }
    # then the policy is enforced on their pods, for this repository's images, by digest, requiring the
    # keyless signature of this repository's main.yml on the default branch, issued by GitHub's OIDC
    assert policy["spec"]["validationFailureAction"] == "Enforce"
    (rule,) = policy["spec"]["rules"]
    (resources,) = [entry["resources"] for entry in rule["match"]["any"]]
    assert set(resources["namespaces"]) == namespaces
    assert resources["kinds"] == ["Pod"]
    (verify,) = rule["verifyImages"]
    assert (verify["required"], verify["verifyDigest"], verify["mutateDigest"]) == (True, True, True)
    (reference,) = verify["imageReferences"]
    assert reference.startswith("ghcr.io/")
    repository = reference.removeprefix("ghcr.io/").rstrip("*")
    (entry,) = verify["attestors"][0]["entries"]
    assert entry["keyless"]["issuer"] == "https://token.actions.githubusercontent.com"
    assert entry["keyless"]["subject"] == (
        f"https://github.com/{repository}/.github/workflows/main.yml@refs/heads/main"
    )
    assert (repo_root / ".github/workflows/main.yml").is_file()
