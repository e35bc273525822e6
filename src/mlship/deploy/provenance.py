"""What an image is made of and where it came from: its SBOM and its provenance statement, each signed.

* The SBOM is CycloneDX's own (``cyclonedx-py environment``), made inside the image build from the image's
  Python environment (``mlship.deploy.commands`` runs it) and kept in the image at :data:`SBOM_PATH`.
* The provenance is an in-toto statement (SLSA provenance v1 layout) whose subject is the image digest and
  whose predicate names the git commit, the bento and model versions, the data's and the model's hashes as
  ``dvc.lock`` records them at that commit, the hash of ``params.yaml``, the metrics and the builder: the
  lineage from a serving container back to the data that trained its model.

Both are signed with the project's key (a detached, armored GPG signature) and checked against the committed
public key before they are shown.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from mlship.config import Params
from mlship.deploy import gitops, signing

SBOM_PATH = "/app/sbom.cdx.json"
SBOM_NAME = "sbom.cdx.json"
STATEMENT_NAME = "provenance.intoto.json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://github.com/mlship/mlship/blob/main/docs/runbook.md#provenance"


def dumps(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def sbom_from_image(image: str) -> bytes:
    """The SBOM the image build wrote into ``image`` (local storage), read without starting it."""
    created = subprocess.run(
        ["podman", "create", "--pull", "never", image], capture_output=True, text=True, check=False
    )
    if created.returncode != 0:
        raise signing.SigningError(f"cannot read the SBOM of {image}: {created.stderr.strip()}")
    container = created.stdout.strip()
    try:
        with tempfile.TemporaryDirectory(prefix="mlship-sbom-") as scratch:
            target = Path(scratch) / SBOM_NAME
            copied = subprocess.run(
                ["podman", "cp", f"{container}:{SBOM_PATH}", str(target)],
                capture_output=True,
                text=True,
                check=False,
            )
            if copied.returncode != 0:
                raise signing.SigningError(
                    f"{image} has no SBOM at {SBOM_PATH} (built before SBOMs were made? rebuild: make image)"
                )
            return target.read_bytes()
    finally:
        subprocess.run(["podman", "rm", "--force", container], capture_output=True, check=False)


def _at(repo: Path, sha: str, path: str) -> bytes | None:
    result = subprocess.run(["git", "show", f"{sha}:{path}"], cwd=repo, capture_output=True, check=False)
    return result.stdout if result.returncode == 0 else None


def _outs(lock: dict[str, Any], stage: str) -> dict[str, str]:
    outs = lock.get("stages", {}).get(stage, {}).get("outs", [])
    return {str(out["path"]): str(out.get("md5", "")) for out in outs if isinstance(out, dict)}


def _builder() -> str:
    if os.environ.get("GITHUB_ACTIONS") == "true":
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
        repository, run = os.environ.get("GITHUB_REPOSITORY", ""), os.environ.get("GITHUB_RUN_ID", "")
        return f"{server}/{repository}/actions/runs/{run}"
    return f"mlship deploy push on {platform.node()}"


def statement(
    params: Params, repo: Path, *, repository: str, digest: str, sha: str, image: str
) -> dict[str, Any]:
    """The provenance statement of ``repository@digest``, built from commit ``sha`` as git records it."""
    lock_text = _at(repo, sha, "dvc.lock")
    lock: dict[str, Any] = yaml.safe_load(lock_text) if lock_text else {}
    params_text = _at(repo, sha, "params.yaml") or b""
    metrics_text = _at(repo, sha, "metrics.json")
    metrics = json.loads(metrics_text) if metrics_text else {}
    raw = str(params.paths.raw)
    model = str(params.paths.model)
    ingest, train = _outs(lock, "ingest"), _outs(lock, "train")
    labels = _image_labels(image)
    remote = gitops.git(repo, "config", "--get", "remote.origin.url", check=False) or str(repo.resolve())
    dependencies: list[dict[str, Any]] = [
        {"uri": f"git+{remote}", "digest": {"gitCommit": sha}},
        {
            "name": "data",
            "uri": raw,
            "digest": {"md5": ingest.get(raw, ""), "sha256": params.data.source.sha256 or ""},
        },
        {"name": "model", "uri": model, "digest": {"md5": train.get(model, "")}},
        {"name": "params.yaml", "digest": {"sha256": hashlib.sha256(params_text).hexdigest()}},
    ]
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": repository, "digest": {"sha256": digest.split(":", 1)[1]}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "commit": sha,
                    "service": params.service.name,
                    "bento": labels.get("org.opencontainers.image.version", ""),
                    "model_version": labels.get("org.opencontainers.image.version", ""),
                },
                "internalParameters": {"estimator": params.model.estimator},
                "resolvedDependencies": dependencies,
            },
            "runDetails": {
                "builder": {"id": _builder()},
                "metadata": {"invocationId": f"{sha}:{digest}"},
                "byproducts": [
                    {
                        "name": "metrics.json",
                        "digest": {"sha256": hashlib.sha256(metrics_text or b"").hexdigest()},
                        "annotations": {"overall": metrics.get("overall", {})},
                    }
                ],
            },
        },
    }


def _image_labels(image: str) -> dict[str, str]:
    result = subprocess.run(
        ["podman", "image", "inspect", image, "--format", "{{json .Labels}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return {}
    labels = json.loads(result.stdout or "{}") or {}
    return {str(k): str(v) for k, v in labels.items()}


def check_subject(content: bytes, repository: str, digest: str) -> dict[str, Any]:
    """The statement, if it is about ``repository@digest`` (a statement moved beside another image is not)."""
    document: dict[str, Any] = json.loads(content)
    subjects = document.get("subject") or []
    wanted = digest.split(":", 1)[1]
    if document.get("_type") != STATEMENT_TYPE or not any(
        s.get("digest", {}).get("sha256") == wanted for s in subjects
    ):
        raise signing.SigningError(f"the provenance statement is not about {repository}@{digest}")
    return document


def detach_sign(key: signing.Key, content: bytes, scratch: Path) -> bytes:
    """An armored detached signature of ``content`` by the project's key."""
    fpr = signing.ready(key)
    source = scratch / "content"
    source.write_bytes(content)
    out = scratch / "content.asc"
    out.unlink(missing_ok=True)
    result = subprocess.run(
        [
            "gpg",
            "--batch",
            "--no-tty",
            "--homedir",
            str(key.home),
            "--pinentry-mode",
            "loopback",
            "--passphrase-file",
            str(signing.passphrase_path(key, scratch)),
            "--local-user",
            fpr,
            "--armor",
            "--output",
            str(out),
            "--detach-sign",
            str(source),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise signing.SigningError(f"gpg could not sign: {result.stderr.strip()}")
    return out.read_bytes()


def verify_detached(public_key: Path, content: bytes, signature: bytes) -> str:
    """The signing key's fingerprint when ``signature`` is a good signature of ``content`` by the committed
    key; a :class:`signing.SigningError` naming why not otherwise."""
    fpr = signing.fingerprint(public_key)
    with tempfile.TemporaryDirectory(prefix="mlship-gpg-") as scratch:
        home = Path(scratch) / "home"
        home.mkdir(mode=0o700)
        subprocess.run(
            ["gpg", "--batch", "--homedir", str(home), "--import", str(public_key)],
            capture_output=True,
            check=True,
        )
        (Path(scratch) / "content").write_bytes(content)
        (Path(scratch) / "content.asc").write_bytes(signature)
        result = subprocess.run(
            [
                "gpg",
                "--batch",
                "--homedir",
                str(home),
                "--status-fd",
                "1",
                "--verify",
                str(Path(scratch) / "content.asc"),
                str(Path(scratch) / "content"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    valid = [line.split()[2] for line in result.stdout.splitlines() if line.startswith("[GNUPG:] VALIDSIG")]
    if result.returncode != 0 or fpr not in valid:
        foreign = "NO_PUBKEY" in result.stdout
        why = "not signed by the committed key" if foreign else "its signature does not verify"
        raise signing.SigningError(f"{why} (key {fpr}, {public_key})")
    return fpr
