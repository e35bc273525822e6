"""The project's signing key and the policy made from it, with the real gpg in temporary homes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from mlship.deploy import provenance, signing


@pytest.fixture
def key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> signing.Key:
    for name in (signing.PASSPHRASE_ENV, signing.PASSPHRASE_FILE_ENV, signing.PRIVATE_KEY_ENV):
        monkeypatch.delenv(name, raising=False)
    return signing.Key(
        public=tmp_path / "repo" / "deploy" / "signing-key.asc", home=tmp_path / "home", name="t"
    )


def test_make_keys_creates_the_key_once_and_commits_only_its_public_half(key: signing.Key) -> None:
    # when the key is created, twice
    fingerprint, created = signing.create(key)
    again = signing.create(key)
    # then the second run changes nothing
    assert created
    assert again == (fingerprint, False)
    # and the file for git holds the public key alone; the private key and its passphrase stay in the home
    public = key.public.read_text(encoding="utf-8")
    assert public.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert "PRIVATE" not in public
    assert signing.fingerprint(key.public) == fingerprint
    assert signing.has_private(key, fingerprint)
    assert oct(key.passphrase_file.stat().st_mode & 0o777) == "0o600"
    assert signing.ready(key) == fingerprint


def test_a_committed_key_without_its_private_half_is_never_replaced_silently(
    key: signing.Key, tmp_path: Path
) -> None:
    # given a committed public key whose private half lives on another machine
    signing.create(key)
    elsewhere = signing.Key(public=key.public, home=tmp_path / "other-home", name="t")
    before = key.public.read_bytes()
    # when keys are made here / then it refuses, naming the rotation, and the committed key is unchanged
    with pytest.raises(signing.SigningError, match=r"private half is not in .*Rotate the key"):
        signing.create(elsewhere)
    assert key.public.read_bytes() == before
    # and signing here is refused before anything is pushed
    with pytest.raises(signing.SigningError, match="cannot sign: the private key"):
        signing.ready(elsewhere)


@pytest.mark.parametrize("secret", ["", "-----BEGIN PGP PRIVATE KEY BLOCK-----"])
def test_ci_never_makes_a_key_of_its_own_when_none_is_committed(
    key: signing.Key, monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    # given no committed public key, and a workflow that imports the key from a secret (missing: empty)
    monkeypatch.setenv(signing.PRIVATE_KEY_ENV, secret)
    # when keys are made / then it refuses, naming the file to commit, and creates nothing
    with pytest.raises(signing.SigningError, match=r"no public key is committed at .*signing-key\.asc"):
        signing.create(key)
    assert not key.public.exists()
    assert not key.home.exists()


@pytest.mark.parametrize("passphrase", ["-starts-like-an-option", "inner spaces, quotes \"' and ünïcode"])
def test_any_passphrase_signs_and_the_signature_verifies(
    key: signing.Key, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, passphrase: str
) -> None:
    # given a key protected by a passphrase gpg could misread on a command line
    monkeypatch.setenv(signing.PASSPHRASE_ENV, passphrase)
    fingerprint, _ = signing.create(key)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    # when a statement is signed with it / then the committed public key verifies it, and nothing else does
    signature = provenance.detach_sign(key, b"statement", scratch)
    assert provenance.verify_detached(key.public, b"statement", signature) == fingerprint
    with pytest.raises(signing.SigningError):
        provenance.verify_detached(key.public, b"another statement", signature)


@pytest.mark.parametrize("passphrase", ["", " padded", "padded ", "two\nlines"])
def test_a_passphrase_gpg_would_not_keep_as_given_is_refused_before_a_key_is_made(
    key: signing.Key, monkeypatch: pytest.MonkeyPatch, passphrase: str
) -> None:
    # given a passphrase gpg's key generation would trim or cut / when keys are made
    monkeypatch.setenv(signing.PASSPHRASE_ENV, passphrase)
    # then it is refused, naming the variable, and no key exists that could never sign
    with pytest.raises(signing.SigningError, match=signing.PASSPHRASE_ENV):
        signing.create(key)
    assert not key.public.exists()


def _exported_secret(key: signing.Key, fingerprint: str) -> str:
    """The private key, armored, as a maintainer exports it once for a repository secret (docs/runbook.md)."""
    # the passphrase from its file: as an argument, one starting with "-" is lost (gpg reads it as an option)
    gpg = ["gpg", "--batch", "--homedir", str(key.home), "--pinentry-mode", "loopback"]
    passphrase = ["--passphrase-file", str(key.passphrase_file)]
    exported = [*gpg, *passphrase, "--armor", "--export-secret-keys", fingerprint]
    return subprocess.run(exported, capture_output=True, text=True, check=True).stdout


def test_ci_imports_the_private_half_from_a_secret_for_the_committed_key_only(
    key: signing.Key, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the committed key, its private half exported as a repository secret holds it (and another key)
    fingerprint, _ = signing.create(key)
    other = signing.Key(public=tmp_path / "other.asc", home=tmp_path / "other", name="o")
    other_fingerprint, _ = signing.create(other)
    runner = signing.Key(public=key.public, home=tmp_path / "runner", name="t")
    # when a CI runner makes keys with the secret / then it has the private half of the committed key
    monkeypatch.setenv(signing.PRIVATE_KEY_ENV, _exported_secret(key, fingerprint))
    assert signing.create(runner) == (fingerprint, False)
    assert signing.has_private(runner, fingerprint)
    # when the secret holds another key / then it is refused
    monkeypatch.setenv(signing.PRIVATE_KEY_ENV, _exported_secret(other, other_fingerprint))
    with pytest.raises(signing.SigningError, match="holds another key"):
        signing.create(signing.Key(public=key.public, home=tmp_path / "runner2", name="t"))


def test_the_policy_accepts_only_the_committed_key_for_the_repository(
    key: signing.Key, tmp_path: Path
) -> None:
    # given the committed key / when the policy is written (twice)
    signing.create(key)
    path = signing.write_policy(key.public, "127.0.0.1:5000/model", tmp_path / "runtime")
    written = path.stat().st_mtime_ns
    assert signing.write_policy(key.public, "127.0.0.1:5000/model", tmp_path / "runtime") == path
    # then it is unchanged the second time, refuses everything by default, and requires the key's signature
    # for the repository, with the repository's identity
    assert path.stat().st_mtime_ns == written
    policy = json.loads(path.read_text(encoding="utf-8"))
    assert policy["default"] == [{"type": "reject"}]
    (requirement,) = policy["transports"]["docker"]["127.0.0.1:5000/model"]
    assert requirement == {
        "type": "signedBy",
        "keyType": "GPGKeys",
        "keyPath": str(key.public.resolve()),
        "signedIdentity": {"type": "matchRepository"},
    }


def test_signatures_are_looked_up_where_containers_image_keeps_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a lookaside store / when signatures fetched from the registry are installed, twice
    monkeypatch.setenv(signing.LOOKASIDE_ENV, str(tmp_path / "sigstore"))
    digest = "sha256:" + "a" * 64
    fetched = [tmp_path / "signature-1", tmp_path / "signature-2"]
    for number, path in enumerate(fetched):
        path.write_bytes(bytes([number]) * 10)
    assert signing.install("127.0.0.1:5000/team/model", digest, fetched) == 2
    assert signing.install("127.0.0.1:5000/team/model", digest, fetched) == 0
    # then they sit under the repository's path without the registry host, numbered from 1
    directory = tmp_path / "sigstore" / f"team/model@sha256={'a' * 64}"
    assert [p.name for p in signing.signatures("127.0.0.1:5000/team/model", digest)] == [
        "signature-1",
        "signature-2",
    ]
    assert sorted(path.name for path in directory.iterdir()) == ["signature-1", "signature-2"]
