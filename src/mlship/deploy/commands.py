"""``mlship deploy ...``: build, push, deploy, release, roll back, report — each idempotent, under one lock.

Order of every deployment (crash-safe: a re-run finishes what an interrupted one started):
  start the new container beside the old one → health check it on its own port → point the environment's
  stable port at it → check again through that port → stop the old one → record the state in git →
  move the registry tags and write the GTO tags. A failed check keeps (or puts back) the old container,
  records the failure, and exits non-zero.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlship.config import Params
from mlship.deploy import attachments, gitops, health, provenance, registry, runner, signing, state
from mlship.deploy.state import VERSION, Entry, EnvironmentState, StateError

LABEL_SHA = "org.opencontainers.image.revision"
LABEL_VERSION = "org.opencontainers.image.version"
LABEL_DATA = "io.mlship.data-sha256"
#: What buildah says when an image its layer cache was reading is removed meanwhile (a transient race).
STORAGE_RACE = "layer not known"


class DeployError(RuntimeError):
    """A deployment step failed; the message says which and what state was kept."""


class RefusalError(DeployError):
    """The container runtime refused an image under the signature policy (nothing ran)."""


def _say(message: str) -> None:
    print(message, flush=True)


@dataclass
class Deployer:
    params: Params
    repo: Path = field(default_factory=Path)
    repository: str = ""

    def __post_init__(self) -> None:
        if not self.repository:
            self.repository = registry.default_repository(self.name, self.params.deploy.registry_port)

    # --- names and files ----------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.params.service.name

    @property
    def runtime_dir(self) -> Path:
        return self.repo / self.params.deploy.runtime_dir

    def state_path(self, environment: str) -> Path:
        return self.params.deploy.state_dir / f"{environment}.yaml"

    def overlay_path(self, environment: str) -> Path:
        return self.params.deploy.k8s_overlays / environment / "kustomization.yaml"

    def load(self, environment: str) -> EnvironmentState:
        self._known(environment)
        return state.load(self.repo / self.state_path(environment), environment)

    @property
    def key(self) -> signing.Key:
        return signing.Key.from_config(self.params.deploy.signing, self.repo)

    @property
    def signing_required(self) -> bool:
        return self.params.deploy.signing.required

    def front(self, environment: str) -> runner.Front:
        return runner.Front(environment, self.params.deploy.environments[environment].port, self.runtime_dir)

    def _known(self, environment: str) -> None:
        if environment not in self.params.deploy.environments:
            known = ", ".join(self.params.deploy.environments)
            raise DeployError(
                f"unknown environment {environment!r} (params.yaml deploy.environments: {known})"
            )

    @contextmanager
    def lock(self, timeout_s: float = 900.0) -> Iterator[None]:
        """One deployment at a time on this machine (in CI: the workflows' concurrency group)."""
        self.runtime_dir.mkdir(parents=True, exist_ok=True)
        with (self.runtime_dir / "deploy.lock").open("w") as handle:
            deadline = time.monotonic() + timeout_s
            waited = False
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not waited:
                        _say("deploy: another deployment is running; waiting for it")
                        waited = True
                    if time.monotonic() > deadline:
                        raise DeployError("another deployment held the lock too long") from None
                    time.sleep(0.2)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # --- build and push -----------------------------------------------------------------------------------
    def local_image(self, sha: str) -> str:
        return f"localhost/{self.name}:sha-{sha[:12]}"

    def image(self, bento: str, backend: str) -> str:
        """Containerize ``bento`` as ``localhost/<name>:sha-<sha12>`` with provenance labels; its image id."""
        sha = gitops.head(self.repo)
        version = bento.split(":", 1)[1]
        target = self.local_image(sha)
        labels = {
            LABEL_SHA: sha,
            LABEL_VERSION: version,
            LABEL_DATA: self.params.data.source.sha256,
            "org.opencontainers.image.title": self.name,
        }
        command = ["bentoml", "containerize", bento, "--backend", backend, "--image-tag", target]
        for key, value in labels.items():
            command += ["--opt", f"label={key}={value}"]
        if backend == "buildah":
            command += ["--opt", "layers"]  # reuse cached layers, as podman does by default
        result = subprocess.run(command, cwd=self.repo, capture_output=True, text=True, check=False)
        if result.returncode != 0 and STORAGE_RACE in result.stderr:
            # An image the layer cache was reading was removed meanwhile (`podman rmi` elsewhere on the
            # machine): the build changed nothing yet, and a second look at the cache sees a settled store.
            _say(f"image: the layer cache changed during the build ({STORAGE_RACE}); building again")
            result = subprocess.run(command, cwd=self.repo, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise DeployError(f"bentoml containerize failed:\n{result.stderr[-3000:]}")
        if backend != "docker":
            _slim(target)
        inspect = subprocess.run(
            ["podman", "image", "inspect", target, "--format", "{{.Id}} {{.Size}}"],
            capture_output=True,
            text=True,
            check=True,
        )
        image_id, size = inspect.stdout.split()
        _say(f"image: {target} ({int(size) / 1e6:.0f} MB)")
        return f"sha256:{image_id}"

    def push(self) -> str:
        """Push this commit's image; signed by the project's key (an error, before anything is pushed,
        without it, unless params.yaml says signing is off), with its signatures, SBOM and provenance beside
        it in the registry. Re-running it pushes and signs nothing more."""
        sha = gitops.build_commit(self.repo, "HEAD")
        local, tag = self.local_image(sha), f"sha-{sha[:12]}"
        if not self.signing_required:
            digest = registry.push(local, self.repository, tag)
            _say(f"push: {self.repository}:{tag} = {digest} (unsigned: deploy.signing.required is false)")
            return digest
        try:
            fingerprint = signing.ready(self.key)
        except signing.SigningError as error:
            raise DeployError(f"push refused, nothing pushed: {error}") from None
        digest = registry.push(local, self.repository, tag)
        if attachments.present(self.repository, digest) == set(attachments.KINDS):
            _say(f"push: {self.repository}:{tag} = {digest}, already signed, SBOM and provenance beside it")
            return digest
        with tempfile.TemporaryDirectory(prefix="mlship-sign-") as scratch:
            registry.sign(self.repository, digest, signing.signing_arguments(self.key, Path(scratch)))
            self._attach(digest, sha, local, Path(scratch))
        _say(f"push: {self.repository}:{tag} = {digest}, signed by {fingerprint}")
        return digest

    def _attach(self, digest: str, sha: str, local: str, scratch: Path) -> None:
        """Beside the digest in the registry: its signatures, its SBOM and its provenance (each signed)."""
        self._attach_signatures(digest)
        sbom = provenance.sbom_from_image(local)
        statement = provenance.statement(
            self.params, self.repo, repository=self.repository, digest=digest, sha=sha, image=local
        )
        for kind, name, content in (
            ("sbom", provenance.SBOM_NAME, sbom),
            ("att", provenance.STATEMENT_NAME, provenance.dumps(statement)),
        ):
            signature = provenance.detach_sign(self.key, content, scratch)
            attachments.push(self.repository, digest, kind, {name: content, f"{name}.asc": signature})

    def _attach_signatures(self, digest: str) -> None:
        files = {path.name: path.read_bytes() for path in signing.signatures(self.repository, digest)}
        if not files:
            raise DeployError(f"no signature of {digest} in {signing.lookaside()} after signing it")
        attachments.push(self.repository, digest, "sig", files)

    def sign(self, reference: str) -> str:
        """Sign a digest already in the registry (after reviewing it): `mlship deploy sign IMAGE`."""
        digest = self.resolve_image(reference)
        self._provenance(digest)  # an image `make image` built, nothing else
        with tempfile.TemporaryDirectory(prefix="mlship-sign-") as scratch:
            try:
                arguments = signing.signing_arguments(self.key, Path(scratch))
            except signing.SigningError as error:
                raise DeployError(f"sign refused: {error}") from None
            registry.sign(self.repository, digest, arguments)
        self._attach_signatures(digest)
        _say(f"sign: {self.repository}@{digest} signed by {arguments[0][1]}")
        return digest

    def verify(self, reference: str) -> str:
        """The key's fingerprint when podman accepts ``reference`` under the committed key's policy."""
        digest = self.resolve_image(reference)
        self._pull_verified(digest)
        return signing.fingerprint(self.key.public)

    def _policy(self) -> Path:
        return signing.write_policy(self.key.public, self.repository, self.runtime_dir / "signing")

    def _pull_verified(self, digest: str) -> Path | None:
        """Bring the digest's signatures from the registry into this machine's lookaside, then pull it under
        the committed key's policy (podman decides). The policy used, or None when signing is off."""
        if not self.signing_required:
            runner.pull(self.repository, digest)
            return None
        try:
            fingerprint = signing.fingerprint(self.key.public)
        except signing.SigningError as error:
            raise RefusalError(str(error)) from None
        with tempfile.TemporaryDirectory(prefix="mlship-sig-") as scratch:
            fetched = attachments.fetch(self.repository, digest, "sig", Path(scratch))
            if fetched:
                signing.install(self.repository, digest, list(fetched.values()))
        policy = self._policy()
        try:
            runner.pull(self.repository, digest, policy)
        except runner.RefusedError as error:
            raise RefusalError(
                f"{self.repository}@{digest} refused by the container runtime: {error} (the policy accepts "
                f"only images signed by key {fingerprint}, {self.key.public}); after reviewing it, sign it: "
                f"mlship deploy sign {self.repository}@{digest}"
            ) from None
        return policy

    def sbom(self, reference: str) -> bytes:
        digest = self.resolve_image(reference)
        return self._verified_attachment(digest, "sbom", provenance.SBOM_NAME)

    def provenance(self, reference: str) -> bytes:
        digest = self.resolve_image(reference)
        content = self._verified_attachment(digest, "att", provenance.STATEMENT_NAME)
        provenance.check_subject(content, self.repository, digest)
        return content

    def _verified_attachment(self, digest: str, kind: str, name: str) -> bytes:
        with tempfile.TemporaryDirectory(prefix="mlship-attach-") as scratch:
            files = attachments.fetch(self.repository, digest, kind, Path(scratch))
            if not files or name not in files:
                raise DeployError(f"{self.repository}@{digest} has no {name} beside it in the registry")
            content = files[name].read_bytes()
            signature = files.get(f"{name}.asc")
            if signature is None:
                raise DeployError(f"{name} of {digest} carries no signature")
            try:
                provenance.verify_detached(self.key.public, content, signature.read_bytes())
            except signing.SigningError as error:
                raise DeployError(f"{name} of {digest}: {error}") from None
        return content

    # --- deployments --------------------------------------------------------------------------------------
    def resolve_image(self, reference: str | None) -> str:
        """A digest in the registry for IMAGE: default this commit's ``sha-`` tag; ``sha256:...``, a tag, or
        ``repository@digest`` / ``repository:tag`` in the configured repository."""
        if reference is None:
            reference = f"sha-{gitops.build_commit(self.repo, 'HEAD')[:12]}"
        for separator in ("@", ":"):
            repository, sep, ref = reference.rpartition(separator)
            if sep and repository == self.repository:
                reference = ref
                break
        digest = registry.resolve(self.repository, reference)
        if digest is None:
            raise DeployError(
                f"{self.repository}:{reference} is not in the registry (build and push it: make image push)"
            )
        return digest

    def commit_digest(self, rev: str) -> str:
        """The digest pushed for ``rev``'s build commit (its ``sha-`` tag in the registry)."""
        return self.resolve_image(f"sha-{gitops.build_commit(self.repo, rev)[:12]}")

    def _provenance(self, digest: str) -> tuple[str, str]:
        labels = registry.labels(self.repository, digest)
        if LABEL_SHA not in labels or LABEL_VERSION not in labels:
            raise DeployError(
                f"{digest} has no {LABEL_SHA}/{LABEL_VERSION} labels: not built by `make image`"
            )
        return labels[LABEL_SHA], labels[LABEL_VERSION]

    def _live(self, environment: str) -> runner.Container | None:
        front = self.front(environment)
        if not front.running():
            return None
        port = front.backend_port()
        return next((c for c in runner.containers(self.runtime_dir, environment) if c.port == port), None)

    def _serving(self, environment: str, digest: str, git_sha: str, version: str) -> bool:
        live = self._live(environment)
        if live is None or live.digest != digest:
            return False
        url = f"http://127.0.0.1:{self.front(environment).port}"
        return health.check(url, git_sha, version, timeout_s=5).healthy

    def deploy(self, environment: str, digest: str, action: state.Action, release: str | None = None) -> bool:
        """Run ``digest`` in ``environment``; False when it already ran there healthy (no change)."""
        git_sha, version = self._provenance(digest)
        current = self.load(environment)
        same_release = current.current is not None and release in (None, current.current.release)
        if current.digest == digest and same_release and self._serving(environment, digest, git_sha, version):
            _say(f"{environment}: already serving {digest} (model {version}); nothing to do")
            return False
        policy = self._checked(
            environment, digest, action=action, release=release, git_sha=git_sha, version=version
        )
        front = self.front(environment)
        front.ensure()
        old = self._live(environment)
        new = runner.start(
            self.runtime_dir,
            environment,
            self.repository,
            digest,
            self.params.deploy.container_port,
            capture=(self.runtime_dir / environment / "capture", self.params.monitoring.directory),
            policy=policy,
        )
        _say(f"{environment}: started {new.name} on 127.0.0.1:{new.port}; checking it")
        timeout = self.params.deploy.ready_timeout_s
        verdict = health.check(
            f"http://127.0.0.1:{new.port}", git_sha, version, timeout, stopped=lambda: runner.exited(new)
        )
        if verdict.healthy:
            front.switch(new.port)
            verdict = health.check(f"http://127.0.0.1:{front.port}", git_sha, version, timeout)
            if not verdict.healthy and old is not None:
                front.switch(old.port)  # put the old one back before anything else
        entry = Entry(
            action=action,
            digest=digest,
            git_sha=git_sha,
            version=version,
            release=release,
            result="healthy" if verdict.healthy else "failed",
            at=state.now(),
            detail=verdict.detail,
        )
        self._record(environment, entry)
        if not verdict.healthy:
            runner.stop(new)
            kept = f"kept {old.digest}" if old else "nothing else was running"
            raise DeployError(
                f"{environment}: {digest} failed its health check ({verdict.detail}); rolled back: {kept}"
            )
        time.sleep(self.params.deploy.drain_s)
        for container in runner.containers(self.runtime_dir, environment):
            if container.name != new.name:
                runner.stop(container)
        _say(f"{environment}: serving {digest} on 127.0.0.1:{front.port} ({verdict.detail})")
        return True

    def _checked(
        self,
        environment: str,
        digest: str,
        *,
        action: state.Action,
        release: str | None,
        git_sha: str,
        version: str,
    ) -> Path | None:
        """Pull ``digest`` under the signature policy before anything changes; a refusal is recorded in the
        environment's history (nothing that runs is touched) and raised, naming the image and the reason."""
        try:
            return self._pull_verified(digest)
        except RefusalError as refusal:
            entry = Entry(
                action=action,
                digest=digest,
                git_sha=git_sha,
                version=version,
                release=release,
                result="refused",
                at=state.now(),
                detail=str(refusal),
            )
            self._record(environment, entry)
            raise DeployError(f"{environment}: {refusal}") from None

    def _record(self, environment: str, entry: Entry) -> None:
        updated = state.record(self.load(environment), entry, self.repository)
        state.save(self.repo / self.state_path(environment), updated)
        paths = [self.state_path(environment)]
        if updated.digest is not None:
            gitops.write_overlay(
                self.repo / self.overlay_path(environment), self.repository, updated.digest, environment
            )
            paths.append(self.overlay_path(environment))
        what = f"{entry.release or entry.version} ({entry.digest[:19]})"
        gitops.commit_state(self.repo, paths, f"deploy: {environment} {entry.action} {what}: {entry.result}")

    def staging(self, reference: str | None) -> bool:
        with self.lock():
            digest = self.resolve_image(reference)
            changed = self.deploy("staging", digest, "deploy")
            registry.tag(self.repository, digest, "staging")
            return changed

    def release(self, version: str) -> bool:
        if not VERSION.match(version):
            raise DeployError(f"release version must look like v1.2.3, got {version!r}")
        with self.lock():
            commit = gitops.build_commit(self.repo, version)
            digest = registry.resolve(self.repository, f"sha-{commit[:12]}")
            if digest is None:
                raise DeployError(
                    f"no image built for {version} (commit {commit[:12]}): build and push it first"
                )
            git_sha, model = self._provenance(digest)
            self._checked(
                "production", digest, action="release", release=version, git_sha=git_sha, version=model
            )
            production = self.load("production")
            state.check_promotable(digest, self.load("staging"), [production])
            existing = registry.resolve(self.repository, version)
            if existing is not None and existing != digest:
                raise DeployError(
                    f"{self.repository}:{version} already names {existing}; versions are immutable"
                )
            registry.tag(self.repository, digest, version)
            changed = self.deploy("production", digest, "release", release=version)
            self._production_tags(digest, version, commit)
            return changed

    def rollback(self, environment: str, to: str | None) -> bool:
        with self.lock():
            current = self.load(environment)
            target_digest = None
            if to is not None:
                target_digest = to if to.startswith("sha256:") else registry.resolve(self.repository, to)
                if target_digest is None:
                    raise DeployError(f"{to} is not in the registry {self.repository}")
            try:
                target = state.rollback_target(current, target_digest)
            except StateError as error:
                raise DeployError(str(error)) from None
            changed = self.deploy(environment, target.digest, "rollback", release=target.release)
            if environment == "production":
                self._production_tags(target.digest, target.release, target.git_sha)
            else:
                registry.tag(self.repository, target.digest, environment)
            return changed

    def _production_tags(self, digest: str, version: str | None, commit: str) -> None:
        """Registry: ``production`` and ``production-<N>``; git: ``name@version``, ``name#production#N``."""
        production = self.load("production")
        number = state.stage_assignments(production)
        registry.tag(self.repository, digest, "production")
        registry.tag(self.repository, digest, f"production-{number}")
        label = version or (production.current.version if production.current else digest)
        if version is not None:
            gitops.gto_version_tag(self.repo, self.name, version, commit)
        gitops.gto_assign(
            self.repo, self.name, "production", number=number, version=str(label), commit=commit
        )

    # --- reports ------------------------------------------------------------------------------------------
    def status(self) -> list[dict[str, Any]]:
        report = []
        for environment in self.params.deploy.environments:
            desired = self.load(environment)
            live = self._live(environment)
            tagged = registry.resolve(self.repository, environment) if desired.digest else None
            drift = []
            if desired.digest is not None and (live is None or live.digest != desired.digest):
                drift.append(f"runs {live.digest if live else 'nothing'}, git wants {desired.digest}")
            if desired.digest is not None and tagged != desired.digest:
                drift.append(f"registry tag {environment} = {tagged}, git wants {desired.digest}")
            current, previous = desired.current, desired.previous
            labels = registry.labels(self.repository, desired.digest) if desired.digest else {}
            report.append(
                {
                    "environment": environment,
                    "data_sha256": labels.get(LABEL_DATA),
                    "signatures": self._signatures_setting(),
                    "url": f"http://127.0.0.1:{self.front(environment).port}",
                    "digest": desired.digest,
                    "release": current.release if current else None,
                    "version": current.version if current else None,
                    "git_sha": current.git_sha if current else None,
                    "since": desired.since,
                    "previous": previous.digest if previous else None,
                    "running": live.digest if live else None,
                    "in_sync": not drift,
                    "drift": drift,
                }
            )
        return report

    def _signatures_setting(self) -> str:
        """What every deployment checks: the committed key's fingerprint, or that nothing is checked."""
        if not self.signing_required:
            return "OFF (deploy.signing.required: false): unsigned images run"
        try:
            return f"required: key {signing.fingerprint(self.key.public)}"
        except signing.SigningError as error:
            return f"required, but {error}"

    def history(self, environment: str) -> list[dict[str, Any]]:
        return [entry.model_dump(mode="json") for entry in self.load(environment).history]

    def down(self) -> None:
        for environment in self.params.deploy.environments:
            for container in runner.containers(self.runtime_dir, environment):
                runner.stop(container)
            self.front(environment).stop()
        runner.registry_down(self.runtime_dir)


# Build-time only: test suites of the installed packages, the installer, pip's bootstrap, caches.
SLIM = (
    "find /app/.venv /usr/lib/python3* -depth -type d \\( -name tests -o -name test \\) -prune"
    " -exec rm -rf {} +;"
    " rm -rf /usr/local/bin/uv /usr/lib/python3*/ensurepip /root/.cache"
)


#: CycloneDX's tool (cyclonedx-bom, from this environment, mounted read-only) run by the image's own Python on
#: the image's own environment: the SBOM lists what the image holds, written to provenance.SBOM_PATH.
SBOM_TOOL_DIR = "/opt/mlship-sbom-tool"
SBOM = (
    "import runpy, sys; "
    f"sys.argv = ['cyclonedx-py', 'environment', '--output-reproducible', '--of', 'JSON', "
    f"'-o', '{provenance.SBOM_PATH}', '/app/.venv']; "
    f"sys.path.append('{SBOM_TOOL_DIR}'); "
    "runpy.run_module('cyclonedx_py', run_name='__main__')"
)


def _sbom_tool() -> Path:
    spec = importlib.util.find_spec("cyclonedx_py")
    if spec is None or spec.origin is None:
        raise DeployError("cyclonedx-bom is not installed in this environment (make setup)")
    return Path(spec.origin).parent.parent


def _slim(image: str) -> None:
    """Drop what only the build needed, write the image's SBOM with CycloneDX's tool, and squash the layers
    (deleting in a later layer saves nothing)."""

    def buildah(*args: str) -> str:
        done = subprocess.run(["buildah", *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise DeployError(f"buildah {args[0]} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    container = buildah("from", "--quiet", "--pull-never", image)
    try:
        buildah("run", "--user", "root", container, "--", "sh", "-c", SLIM)
        tool = f"{_sbom_tool()}:{SBOM_TOOL_DIR}:ro"
        python = "/app/.venv/bin/python"
        buildah("run", "--user", "root", "--volume", tool, container, "--", python, "-c", SBOM)
        buildah("commit", "--quiet", "--squash", container, image)
    finally:
        subprocess.run(["buildah", "rm", container], capture_output=True, check=False)


def render_status(report: list[dict[str, Any]]) -> str:
    lines = []
    for row in report:
        sync = "in sync" if row["in_sync"] else "DRIFT: " + "; ".join(row["drift"])
        lines.append(
            f"{row['environment']:<11} {row['digest'] or '-'}  {row['release'] or ''} "
            f"model {row['version'] or '-'} git {(row['git_sha'] or '-')[:12]} "
            f"data {(row['data_sha256'] or '-')[:12]} since {row['since'] or '-'}  "
            f"previous {row['previous'] or '-'}  {row['url']}  {sync}"
        )
    if report:
        lines.append(f"signatures: {report[0]['signatures']}")
    return "\n".join(lines)


def render_history(rows: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{r['at']}  {r['action']:<8} {r['result']:<7} {r['digest']}  {r['release'] or ''} "
        f"model {r['version']}" + (f"  ({r['detail']})" if r["result"] in ("failed", "refused") else "")
        for r in rows
    )


def dumps(value: object) -> str:
    return json.dumps(value, indent=2)


def registry_port(params: Params) -> int:
    return int(os.environ.get("REGISTRY_PORT", params.deploy.registry_port))
