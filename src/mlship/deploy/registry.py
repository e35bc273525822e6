"""Registry operations by digest, through skopeo (the same tool on this machine and GitHub's runners).

A repository is ``host[:port]/path`` (``MLSHIP_REGISTRY``): ``127.0.0.1:5000/<service name>`` locally,
``ghcr.io/<owner>/<repo>`` in GitHub Actions. Digests are always read back from the registry.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from mlship.deploy.state import DIGEST


class RegistryError(RuntimeError):
    """A registry operation failed or found something it must refuse."""


def default_repository(service_name: str, registry_port: int) -> str:
    """``MLSHIP_REGISTRY``, else ghcr.io/<owner>/<repo> in GitHub Actions, else the local registry."""
    explicit = os.environ.get("MLSHIP_REGISTRY")
    if explicit:
        return explicit.rstrip("/")
    github_repository = os.environ.get("GITHUB_REPOSITORY")
    if os.environ.get("GITHUB_ACTIONS") == "true" and github_repository:
        return f"ghcr.io/{github_repository.lower()}"
    port = int(os.environ.get("REGISTRY_PORT", registry_port))
    return f"127.0.0.1:{port}/{service_name}"


def is_local(repository: str) -> bool:
    host = repository.split("/", 1)[0]
    return host.startswith(("127.0.0.1", "localhost"))


def _tls(repository: str, flag: str) -> list[str]:
    return [f"{flag}=false"] if is_local(repository) else []


def _skopeo(*args: str, env: dict[str, str] | None = None) -> str:
    try:
        result = subprocess.run(
            ["skopeo", *args],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, **env} if env else None,
        )
    except FileNotFoundError:
        raise RegistryError("skopeo is not installed (make machine)") from None
    if result.returncode != 0:
        raise RegistryError(f"skopeo {args[0]} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


def push(local_image: str, repository: str, tag: str) -> str:
    """Copy a local image (podman/buildah storage) to ``repository:tag``; the digest the registry holds.
    Signatures local storage keeps for the image (from an earlier pull) are not copied: the registry's copy
    is signed afterwards, by digest (:func:`sign`)."""
    with tempfile.TemporaryDirectory() as scratch:
        digest_file = Path(scratch) / "digest"
        _skopeo(
            "copy",
            "--quiet",
            "--remove-signatures",
            *_tls(repository, "--dest-tls-verify"),
            "--digestfile",
            str(digest_file),
            f"containers-storage:{local_image}",
            f"docker://{repository}:{tag}",
        )
        digest = digest_file.read_text(encoding="utf-8").strip()
    return check_digest(digest)


def sign(repository: str, digest: str, signing: tuple[list[str], dict[str, str]]) -> None:
    """Sign the manifest ``repository@digest`` holds, in place (no tag moves): skopeo's signing arguments
    and environment (mlship.deploy.signing); the signature goes to this machine's lookaside store."""
    arguments, env = signing
    reference = f"docker://{repository}@{check_digest(digest)}"
    _skopeo(
        "copy",
        "--quiet",
        "--preserve-digests",
        *_tls(repository, "--src-tls-verify"),
        *_tls(repository, "--dest-tls-verify"),
        *arguments,
        reference,
        reference,
        env=env,
    )


def resolve(repository: str, reference: str) -> str | None:
    """The digest ``repository:reference`` points at, or None when the tag does not exist."""
    target = f"{repository}@{reference}" if reference.startswith("sha256:") else f"{repository}:{reference}"
    try:
        out = _skopeo(
            "inspect", *_tls(repository, "--tls-verify"), "--format", "{{.Digest}}", f"docker://{target}"
        )
    except RegistryError as error:
        if "manifest unknown" in str(error) or "not found" in str(error).lower():
            return None
        raise
    return check_digest(out.strip())


def labels(repository: str, digest: str) -> dict[str, str]:
    out = _skopeo(
        "inspect", *_tls(repository, "--tls-verify"), f"docker://{repository}@{check_digest(digest)}"
    )
    info: dict[str, Any] = json.loads(out)
    return {str(k): str(v) for k, v in (info.get("Labels") or {}).items()}


def tag(repository: str, digest: str, new_tag: str) -> bool:
    """Point ``new_tag`` at ``digest`` (same manifest, same digest); False when it already did."""
    if resolve(repository, new_tag) == digest:
        return False
    _skopeo(
        "copy",
        "--quiet",
        "--preserve-digests",
        *_tls(repository, "--src-tls-verify"),
        *_tls(repository, "--dest-tls-verify"),
        f"docker://{repository}@{check_digest(digest)}",
        f"docker://{repository}:{new_tag}",
    )
    if resolve(repository, new_tag) != digest:
        raise RegistryError(f"{repository}:{new_tag} does not point at {digest} after tagging")
    return True


def tags(repository: str) -> list[str]:
    out = _skopeo("list-tags", *_tls(repository, "--tls-verify"), f"docker://{repository}")
    return sorted(json.loads(out).get("Tags") or [])


def check_digest(digest: str) -> str:
    if not DIGEST.match(digest):
        raise RegistryError(f"not an image digest: {digest!r}")
    return digest
