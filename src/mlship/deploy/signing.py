"""Signed images: the project's key, signing on push, and the policy podman enforces on every pull.

GPG "simple signing" (containers/image): ``skopeo copy --sign-by`` writes a signature of the manifest into
the machine's lookaside store, and ``podman pull --signature-policy`` accepts an image only when a signature
there verifies against the public key committed in git (``deploy.signing.public_key``). Podman itself refuses
an unsigned image ("A signature was required, but no signature exists"), one signed by another key ("Invalid
GPG signature") and one signed for another repository.

The lookaside store is a directory of this machine; the signatures also travel with the image, in the
registry beside its digest (the tag ``sha256-<hex>.sig``, a one-layer artifact holding them, the tag scheme
cosign uses), so a deployment on another machine (another CI runner) puts them into its own lookaside before
pulling. Nothing here decides whether a signature is good: podman does, with the committed key.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlship.config import SigningConfig

#: What the private key's passphrase is read from when ``$MLSHIP_SIGNING_PASSPHRASE`` is not set.
PASSPHRASE_FILE_ENV = "MLSHIP_SIGNING_PASSPHRASE_FILE"  # noqa: S105 -- a variable's name, not a secret
PASSPHRASE_ENV = "MLSHIP_SIGNING_PASSPHRASE"  # noqa: S105 -- a variable's name, not a secret
HOME_ENV = "MLSHIP_SIGNING_HOME"
#: CI: the private key, armored (a repository secret), imported by `make keys` into the GnuPG home.
PRIVATE_KEY_ENV = "MLSHIP_SIGNING_PRIVATE_KEY"
#: Where containers/image keeps signatures when no registries.d configuration says otherwise
#: (containers-registries.d(5)); ``$MLSHIP_LOOKASIDE`` names another (one a registries.d file configures).
LOOKASIDE_ENV = "MLSHIP_LOOKASIDE"


class SigningError(RuntimeError):
    """The key is missing or unusable, or an image could not be signed; the message says what to do."""


@dataclass(frozen=True)
class Key:
    """The project's signing key: the committed public half and where the private half lives."""

    public: Path
    home: Path
    name: str

    @classmethod
    def from_config(cls, config: SigningConfig, repo: Path) -> Key:
        home = Path(os.environ.get(HOME_ENV) or repo / config.home)
        return cls(public=repo / config.public_key, home=home, name=config.name)

    @property
    def passphrase_file(self) -> Path:
        return Path(os.environ.get(PASSPHRASE_FILE_ENV) or self.home / "passphrase")


def _gpg(home: Path, *args: str, input_text: str | None = None) -> str:
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        result = subprocess.run(
            ["gpg", "--batch", "--no-tty", "--homedir", str(home), *args],
            input=input_text,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise SigningError("gpg is not installed (make machine)") from None
    if result.returncode != 0:
        raise SigningError(f"gpg {args[0]} failed: {result.stderr.strip()}")
    return result.stdout


def fingerprint(public_key: Path) -> str:
    """The fingerprint of the (first) key in an armored public key file."""
    if not public_key.is_file():
        raise SigningError(f"no public key at {public_key} (create the project's key once: make keys)")
    with tempfile.TemporaryDirectory(prefix="mlship-gpg-") as scratch:
        shown = ("--with-colons", "--import-options", "show-only", "--import", str(public_key))
        out = _gpg(Path(scratch), *shown)
    for line in out.splitlines():
        if line.startswith("fpr:"):
            return line.split(":")[9]
    raise SigningError(f"{public_key} holds no public key")


def has_private(key: Key, fpr: str) -> bool:
    if not key.home.is_dir():
        return False
    result = subprocess.run(
        ["gpg", "--batch", "--homedir", str(key.home), "--with-colons", "--list-secret-keys", fpr],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and "fpr:" in result.stdout


def create(key: Key) -> tuple[str, bool]:
    """Create the project's key once: the private half (passphrase-protected) under ``key.home``, the public
    half written to ``key.public`` for git. Returns (fingerprint, created). Re-running changes nothing; a
    committed public key whose private half is not on this machine is an error, never replaced silently, and
    so is a CI import (``$MLSHIP_SIGNING_PRIVATE_KEY`` set) with no public key committed."""
    if key.public.exists():
        fpr = fingerprint(key.public)
        if has_private(key, fpr):
            return fpr, False
        secret = os.environ.get(PRIVATE_KEY_ENV)
        if secret:  # CI: the private half from a secret, for the committed public key only
            _gpg(key.home, "--import", input_text=secret)
            if not has_private(key, fpr):
                raise SigningError(f"${PRIVATE_KEY_ENV} holds another key than {fpr} ({key.public})")
            return fpr, False
        raise SigningError(
            f"{key.public} names key {fpr}, whose private half is not in {key.home}: import it there "
            f"(gpg --homedir {key.home} --import) or, to replace the key, follow docs/runbook.md "
            '("Rotate the key")'
        )
    if PRIVATE_KEY_ENV in os.environ:  # CI asked to import a key (set even when its secret is missing)
        raise SigningError(
            f"${PRIVATE_KEY_ENV} is set but no public key is committed at {key.public}: a key made here "
            "would sign with a key nobody reviewed. Run `make keys` on a maintainer's machine, commit "
            f'{key.public}, and store the private key as the secret (docs/runbook.md, "Signing keys")'
        )
    passphrase = _passphrase_from_env()
    if passphrase is None:
        if key.passphrase_file.is_file():
            passphrase = key.passphrase_file.read_text(encoding="utf-8").strip()
        else:
            passphrase = secrets.token_urlsafe(32)
            key.home.mkdir(parents=True, exist_ok=True, mode=0o700)
            key.passphrase_file.write_text(passphrase + "\n", encoding="utf-8")
            key.passphrase_file.chmod(0o600)
    spec = "\n".join(
        [
            "Key-Type: RSA",
            "Key-Length: 3072",
            "Key-Usage: sign",
            f"Name-Real: {key.name}",
            "Expire-Date: 0",
            f"Passphrase: {passphrase}",
            "%commit",
            "",
        ]
    )
    _gpg(key.home, "--pinentry-mode", "loopback", "--gen-key", input_text=spec)
    out = _gpg(key.home, "--with-colons", "--list-secret-keys")
    fpr = next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))
    armored = _gpg(key.home, "--armor", "--export", fpr)
    key.public.parent.mkdir(parents=True, exist_ok=True)
    partial = key.public.with_suffix(".partial")
    partial.write_text(armored, encoding="utf-8")
    partial.replace(key.public)
    return fpr, True


def ready(key: Key) -> str:
    """The fingerprint to sign with: the committed key's, its private half present, a passphrase at hand."""
    fpr = fingerprint(key.public)
    if not has_private(key, fpr):
        raise SigningError(
            f"cannot sign: the private key {fpr} ({key.public}) is not in {key.home} "
            f"(make keys on the machine that owns it; CI: import the secret, docs/runbook.md)"
        )
    if os.environ.get(PASSPHRASE_ENV) is None and not key.passphrase_file.is_file():
        raise SigningError(
            f"cannot sign: no passphrase (set ${PASSPHRASE_ENV}, or ${PASSPHRASE_FILE_ENV} to a file)"
        )
    return fpr


def _passphrase_from_env() -> str | None:
    """``$MLSHIP_SIGNING_PASSPHRASE``, refused when gpg would not keep it as given: gpg's key generation drops
    surrounding whitespace, so such a key could never sign with the passphrase it was made with."""
    passphrase = os.environ.get(PASSPHRASE_ENV)
    if passphrase is not None and (not passphrase or passphrase != passphrase.strip() or "\n" in passphrase):
        raise SigningError(
            f"${PASSPHRASE_ENV} must be one line, not empty, and neither begin nor end with whitespace"
        )
    return passphrase


def passphrase_path(key: Key, scratch: Path) -> Path:
    """A file holding the passphrase: ``$MLSHIP_SIGNING_PASSPHRASE`` written to ``scratch`` (0600), else the
    passphrase file."""
    passphrase = _passphrase_from_env()
    if passphrase is None:
        return key.passphrase_file
    secret = scratch / "passphrase"
    secret.write_text(passphrase, encoding="utf-8")
    secret.chmod(0o600)
    return secret


def signing_arguments(key: Key, scratch: Path) -> tuple[list[str], dict[str, str]]:
    """skopeo's arguments and environment to sign with the project's key."""
    fpr = ready(key)
    secret = passphrase_path(key, scratch)
    return ["--sign-by", fpr, "--sign-passphrase-file", str(secret)], {"GNUPGHOME": str(key.home)}


def policy(public_key: Path, repository: str) -> dict[str, Any]:
    """The policy.json podman pulls under: images of ``repository`` must carry a signature by the committed
    key for that repository; every other image and transport is refused."""
    return {
        "default": [{"type": "reject"}],
        "transports": {
            "docker": {
                repository: [
                    {
                        "type": "signedBy",
                        "keyType": "GPGKeys",
                        "keyPath": str(public_key.resolve()),
                        "signedIdentity": {"type": "matchRepository"},
                    }
                ]
            }
        },
    }


def write_policy(public_key: Path, repository: str, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "policy.json"
    text = json.dumps(policy(public_key, repository), indent=2) + "\n"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        partial = path.with_suffix(".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    return path


def lookaside() -> Path:
    """The machine's lookaside store (containers/image's default for this user, or ``$MLSHIP_LOOKASIDE``)."""
    explicit = os.environ.get(LOOKASIDE_ENV)
    if explicit:
        return Path(explicit)
    if os.getuid() == 0:
        return Path("/var/lib/containers/sigstore")
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "containers" / "sigstore"


def signature_dir(repository: str, digest: str) -> Path:
    """Where the lookaside keeps ``repository@digest``'s signatures (the path without the registry host)."""
    path = repository.split("/", 1)[1] if "/" in repository else repository
    return lookaside() / f"{path}@{digest.replace(':', '=')}"


def signatures(repository: str, digest: str) -> list[Path]:
    directory = signature_dir(repository, digest)
    return sorted(directory.glob("signature-*"), key=lambda p: int(p.name.split("-")[1]))


def install(repository: str, digest: str, files: list[Path]) -> int:
    """Put signatures fetched from the registry into this machine's lookaside (the ones it lacks)."""
    directory = signature_dir(repository, digest)
    have = {path.read_bytes() for path in signatures(repository, digest)}
    added = 0
    for source in files:
        data = source.read_bytes()
        if data in have:
            continue
        directory.mkdir(parents=True, exist_ok=True)
        number = len(signatures(repository, digest)) + 1
        (directory / f"signature-{number}").write_bytes(data)
        have.add(data)
        added += 1
    return added


def copy_signatures(repository: str, digest: str, target: Path) -> list[Path]:
    """This machine's signatures of ``repository@digest``, copied into ``target`` (for the registry)."""
    target.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy2(path, target / path.name)) for path in signatures(repository, digest)]
