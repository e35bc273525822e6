"""What travels with an image in the registry, beside its digest: its signatures, its SBOM, its provenance.

Each is a one-layer artifact pushed under a tag derived from the image's digest (``sha256-<hex>.sig``,
``.sbom``, ``.att``: cosign's tag scheme; the CNCF registry here answers 404 to the OCI referrers API). The
layer holds plain files; what needs a signature carries its own (a detached GPG signature by the project's
key, checked against the committed public key before anything is shown).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from mlship.deploy.registry import RegistryError, is_local, tags
from mlship.deploy.state import DIGEST

KINDS = ("sig", "sbom", "att")


def tag_for(digest: str, kind: str) -> str:
    if kind not in KINDS or not DIGEST.match(digest):
        raise ValueError(f"no attachment {kind!r} for {digest!r}")
    return f"{digest.replace(':', '-')}.{kind}"


def _run(*args: str) -> str:
    try:
        result = subprocess.run(list(args), capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise RegistryError(f"{args[0]} is not installed (make machine)") from None
    if result.returncode != 0:
        raise RegistryError(f"{' '.join(args[:2])} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout.strip()


def _blob(layout: Path, data: bytes) -> dict[str, Any]:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def _layout(layout: Path, files: dict[str, bytes], labels: dict[str, str]) -> None:
    """A one-layer OCI image layout holding ``files`` at its root (reproducible: no times, sorted names)."""
    (layout / "blobs" / "sha256").mkdir(parents=True)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(files[name]), 0o644, 0
            archive.addfile(info, io.BytesIO(files[name]))
    layer_tar = buffer.getvalue()
    layer = _blob(layout, gzip.compress(layer_tar, mtime=0))
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": labels},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(layer_tar).hexdigest()}"]},
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            **_blob(layout, json.dumps(config).encode()),
        },
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer}],
    }
    entry = {"mediaType": manifest["mediaType"], **_blob(layout, json.dumps(manifest).encode())}
    (layout / "index.json").write_text(
        json.dumps({"schemaVersion": 2, "manifests": [entry]}), encoding="utf-8"
    )
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}), encoding="utf-8")


def push(repository: str, digest: str, kind: str, files: dict[str, bytes]) -> str:
    """Push ``files`` as ``repository:sha256-<hex>.<kind>`` (replacing what was there); the tag."""
    tag = tag_for(digest, kind)
    tls = ["--dest-tls-verify=false"] if is_local(repository) else []
    with tempfile.TemporaryDirectory(prefix="mlship-attach-") as scratch:
        layout = Path(scratch) / "layout"
        _layout(layout, files, {"io.mlship.attachment": kind, "io.mlship.subject": digest})
        _run("skopeo", "copy", "--quiet", *tls, f"oci:{layout}", f"docker://{repository}:{tag}")
    return tag


def present(repository: str, digest: str) -> set[str]:
    """The kinds of attachment ``repository`` holds for ``digest`` (one listing of its tags)."""
    listed = set(tags(repository))
    return {kind for kind in KINDS if tag_for(digest, kind) in listed}


def fetch(repository: str, digest: str, kind: str, target: Path) -> dict[str, Path] | None:
    """The files of ``repository:sha256-<hex>.<kind>`` extracted into ``target``; None when there is none."""
    tag = tag_for(digest, kind)
    tls = ["--src-tls-verify=false"] if is_local(repository) else []
    with tempfile.TemporaryDirectory(prefix="mlship-attach-") as scratch:
        copied = Path(scratch) / "dir"
        result = subprocess.run(
            ["skopeo", "copy", "--quiet", *tls, f"docker://{repository}:{tag}", f"dir:{copied}"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            message = result.stderr.lower()
            if "manifest unknown" in message or "not found" in message:
                return None
            raise RegistryError(f"skopeo copy {repository}:{tag} failed: {result.stderr.strip()}")
        manifest = json.loads((copied / "manifest.json").read_text(encoding="utf-8"))
        target.mkdir(parents=True, exist_ok=True)
        found: dict[str, Path] = {}
        for layer in manifest["layers"]:
            blob = copied / layer["digest"].split(":", 1)[1]
            with tarfile.open(blob) as archive:
                for member in archive.getmembers():
                    name = Path(member.name).name
                    if not member.isfile() or not name:
                        continue
                    extracted = archive.extractfile(member)
                    if extracted is None:
                        continue
                    (target / name).write_bytes(extracted.read())
                    found[name] = target / name
        return found
