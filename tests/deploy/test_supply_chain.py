"""The supply chain on real parts (the run's registry, podman, gpg, the run's image and signing key): a
pushed image is signed, with its SBOM and provenance beside it; podman itself refuses what the project did
not sign — an image re-pushed unsigned over the commit's tag, one signed by another key, the release of an
unsigned digest, a rollback to a digest that was never signed — and every refusal is recorded while the
environment keeps serving what it served.

Its own module (its own clone, environments and repository in the registry), beside the shipping end to end.
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from tests.deploy.shipping import Clone, Shipped, environments, working_container

from mlship.config import Params
from mlship.deploy import registry, signing

pytestmark = pytest.mark.integration


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _history(clone: Clone, environment: str) -> list[dict[str, Any]]:
    return list(json.loads(clone.mlship("deploy", "history", environment, "--json").stdout))


def _push_rebuilt(
    clone: Clone,
    digest: str,
    name: str,
    tag: str,
    signed_with: tuple[list[str], dict[str, str]] | None = None,
) -> str:
    """The pushed image with one file added (what a compromised step or a mistaken copy would push), pushed
    as ``tag`` (unsigned, or signed with ``signed_with``); its digest in the registry."""
    container = working_container(clone.repository, digest)
    subprocess.run(
        ["buildah", "run", "--user", "root", container, "--", "sh", "-c", f"echo {name} > /app/{name}.txt"],
        check=True,
        capture_output=True,
    )
    local = f"localhost/{name}:{digest[7:19]}"
    subprocess.run(
        ["buildah", "commit", "--quiet", "--rm", container, local], check=True, capture_output=True
    )
    try:
        digest = registry.push(local, clone.repository, tag)
        if signed_with is not None:
            registry.sign(clone.repository, digest, signed_with)
        return digest
    finally:
        subprocess.run(["podman", "rmi", "--force", local], check=False, capture_output=True)


def _staging_signed(clone: Clone) -> str:
    """The digest staging serves: the run's signed image (pushed and deployed first when it serves none)."""
    if environments(clone)["staging"]["running"] is None:
        clone.mlship("deploy", "push")
        clone.make("deploy-staging")
    return str(environments(clone)["staging"]["digest"])


def test_a_pushed_image_is_signed_and_carries_its_sbom_and_provenance(
    clone: Clone, shipped: Shipped, params: Params
) -> None:
    # given the run's image of this commit
    tag = f"sha-{shipped.sha[:12]}"
    fingerprint = signing.fingerprint(clone.path / params.deploy.signing.public_key)
    # when it is pushed
    pushed = clone.mlship("deploy", "push").stdout
    digest = registry.resolve(clone.repository, tag)
    assert digest is not None
    # then the push says it signed it with the committed key, and podman accepts it under that key's policy
    assert f"signed by {fingerprint}" in pushed
    verified = clone.mlship("deploy", "verify", tag)
    assert verified.stdout.strip() == f"verify: {tag} signed by {fingerprint}"
    # and its SBOM (CycloneDX, made in the image build) lists the image's Python packages, at uv.lock's
    # versions
    sbom = json.loads(clone.mlship("deploy", "sbom", tag).stdout)
    assert sbom["bomFormat"] == "CycloneDX"
    components = {_normal(c["name"]): c["version"] for c in sbom["components"]}
    lock = tomllib.loads((clone.path / "uv.lock").read_text(encoding="utf-8"))
    locked = {_normal(p["name"]): p["version"] for p in lock["package"] if "version" in p}
    assert components
    assert {name: locked.get(name) for name in components} == components
    served = (clone.path / "requirements" / "serving.txt").read_text(encoding="utf-8")
    # (every requirement the image installs: those whose marker holds for CPython on Linux)
    pins = [Requirement(line) for line in served.splitlines() if "==" in line and line[0] not in "#-"]
    required = {
        _normal(pin.name): next(iter(pin.specifier)).version
        for pin in pins
        if pin.marker is None or pin.marker.evaluate()
    }
    assert required.items() <= components.items()
    # and its provenance names this digest, the commit, the data's and the model's hashes as dvc.lock records
    # them at that commit, the params' hash and the metrics
    statement = json.loads(clone.mlship("deploy", "provenance", digest).stdout)
    assert statement["subject"] == [{"name": clone.repository, "digest": {"sha256": digest[7:]}}]
    predicate = statement["predicate"]
    assert predicate["buildDefinition"]["externalParameters"]["commit"] == shipped.sha
    lock_at = yaml.safe_load(clone.git("show", f"{shipped.sha}:dvc.lock"))
    train_outs = {o["path"]: o["md5"] for o in lock_at["stages"]["train"]["outs"]}
    ingest_outs = {o["path"]: o["md5"] for o in lock_at["stages"]["ingest"]["outs"]}
    by_name = {d.get("name"): d for d in predicate["buildDefinition"]["resolvedDependencies"]}
    assert by_name["model"]["digest"]["md5"] == train_outs[str(params.paths.model)]
    assert by_name["data"]["digest"]["md5"] == ingest_outs[str(params.paths.raw)]
    assert by_name[None]["digest"]["gitCommit"] == shipped.sha
    metrics = json.loads(clone.git("show", f"{shipped.sha}:metrics.json"))
    assert predicate["runDetails"]["byproducts"][0]["annotations"]["overall"] == metrics["overall"]


def test_podman_refuses_what_the_project_did_not_sign_and_nothing_running_changes(
    clone: Clone, shipped: Shipped, params: Params, tmp_path: Path
) -> None:
    # given staging serving the signed image of this commit
    tag = f"sha-{shipped.sha[:12]}"
    good = _staging_signed(clone)

    # when an image rebuilt from it with one file changed is pushed unsigned over the commit's tag
    tampered = _push_rebuilt(clone, good, "tampered", tag)
    refused = clone.make("deploy-staging", check=False)
    # then podman refuses it, the refusal names the image and the missing signature, staging still serves the
    # signed digest, and the history records the refusal
    assert refused.returncode != 0
    assert f"{clone.repository}@{tampered}" in refused.stderr
    assert "A signature was required, but no signature exists" in refused.stderr
    assert f"mlship deploy sign {clone.repository}@{tampered}" in refused.stderr
    staging = environments(clone)["staging"]
    assert staging["digest"] == good == staging["running"]
    assert staging["in_sync"]
    last = _history(clone, "staging")[-1]
    assert (last["digest"], last["result"]) == (tampered, "refused")
    assert "no signature exists" in last["detail"]
    # and `mlship deploy verify` says the same: exit 1, naming why
    unverified = clone.mlship("deploy", "verify", tampered, check=False)
    assert unverified.returncode == 1
    assert "NOT VERIFIED" in unverified.stdout
    assert "no signature exists" in unverified.stdout

    # when the rebuilt image is signed by another key and pushed over the tag
    other = signing.Key(public=tmp_path / "other.asc", home=tmp_path / "other-home", name="someone else")
    signing.create(other)
    with_other = _push_rebuilt(clone, good, "foreign", tag, signing.signing_arguments(other, tmp_path))
    foreign = clone.mlship("deploy", "staging", check=False)
    # then it is refused the same way, podman naming the signature it could not verify
    assert foreign.returncode != 0
    assert f"{clone.repository}@{with_other}" in foreign.stderr
    assert "Invalid GPG signature" in foreign.stderr
    assert environments(clone)["staging"]["running"] == good
    last = _history(clone, "staging")[-1]
    assert (last["digest"], last["result"]) == (with_other, "refused")

    # when that unsigned commit's digest is proposed for production
    clone.git("tag", "v9.0.0")
    release = clone.mlship("deploy", "release", "v9.0.0", check=False)
    # then it is refused before anything runs; production runs nothing, the version tag is not written
    assert release.returncode != 0
    assert "refused by the container runtime" in release.stderr
    assert environments(clone)["production"]["running"] is None
    assert registry.resolve(clone.repository, "v9.0.0") is None
    assert _history(clone, "production")[-1]["result"] == "refused"


def test_a_rollback_to_a_never_signed_digest_is_refused_until_it_is_signed(
    clone: Clone, shipped: Shipped, params: Params
) -> None:
    # given an unsigned image that ran healthy in staging while the project did not require signatures
    settings = clone.path / "params.yaml"
    text = settings.read_text(encoding="utf-8")
    assert "    required: true" in text
    unsigned = _push_rebuilt(clone, _staging_signed(clone), "before-signing", "before")
    settings.write_text(text.replace("    required: true", "    required: false", 1), encoding="utf-8")
    try:
        assert "OFF" in clone.mlship("deploy", "status", check=False).stdout
        clone.mlship("deploy", "staging", "before")
    finally:
        settings.write_text(text, encoding="utf-8")
    # and, once signatures are required again, the signed image deployed after it
    clone.mlship("deploy", "push")
    clone.mlship("deploy", "staging")
    signed = environments(clone)["staging"]["digest"]
    assert signed != unsigned
    # when staging is rolled back to the unsigned one
    refused = clone.mlship("deploy", "rollback", "staging", check=False)
    # then it is refused with the command that signs it after review, and staging keeps serving
    assert refused.returncode != 0
    assert f"mlship deploy sign {clone.repository}@{unsigned}" in refused.stderr
    assert environments(clone)["staging"]["running"] == signed
    # when it is signed after review / then the rollback goes through and podman accepts it
    clone.mlship("deploy", "sign", f"{clone.repository}@{unsigned}")
    clone.mlship("deploy", "rollback", "staging")
    assert environments(clone)["staging"]["running"] == unsigned
    assert clone.mlship("deploy", "verify", unsigned).returncode == 0
