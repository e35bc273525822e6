"""``mlship deploy ...``: build, push, deploy, release, roll back, report — each idempotent, under one lock.

Order of every deployment (crash-safe: a re-run finishes what an interrupted one started):
  start the new container beside the old one → health check it on its own port → point the environment's
  stable port at it → check again through that port → stop the old one → record the state in git →
  move the registry tags and write the GTO tags. A failed check keeps (or puts back) the old container,
  records the failure, and exits non-zero.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlship.config import Params
from mlship.deploy import gitops, health, registry, runner, state
from mlship.deploy.state import VERSION, Entry, EnvironmentState, StateError

LABEL_SHA = "org.opencontainers.image.revision"
LABEL_VERSION = "org.opencontainers.image.version"
LABEL_DATA = "io.mlship.data-sha256"


class DeployError(RuntimeError):
    """A deployment step failed; the message says which and what state was kept."""


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
        sha = gitops.build_commit(self.repo, "HEAD")
        digest = registry.push(self.local_image(sha), self.repository, f"sha-{sha[:12]}")
        _say(f"push: {self.repository}:sha-{sha[:12]} = {digest}")
        return digest

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
            report.append(
                {
                    "environment": environment,
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


def _slim(image: str) -> None:
    """Drop what only the build needed and squash the layers (deleting in a later layer saves nothing)."""

    def buildah(*args: str) -> str:
        done = subprocess.run(["buildah", *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise DeployError(f"buildah {args[0]} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    container = buildah("from", "--quiet", "--pull-never", image)
    try:
        buildah("run", "--user", "root", container, "--", "sh", "-c", SLIM)
        buildah("commit", "--quiet", "--squash", container, image)
    finally:
        subprocess.run(["buildah", "rm", container], capture_output=True, check=False)


def render_status(report: list[dict[str, Any]]) -> str:
    lines = []
    for row in report:
        sync = "in sync" if row["in_sync"] else "DRIFT: " + "; ".join(row["drift"])
        lines.append(
            f"{row['environment']:<11} {row['digest'] or '-'}  {row['release'] or ''} "
            f"model {row['version'] or '-'} git {(row['git_sha'] or '-')[:12]} since {row['since'] or '-'}  "
            f"previous {row['previous'] or '-'}  {row['url']}  {sync}"
        )
    return "\n".join(lines)


def render_history(rows: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{r['at']}  {r['action']:<8} {r['result']:<7} {r['digest']}  {r['release'] or ''} "
        f"model {r['version']}" + (f"  ({r['detail']})" if r["result"] == "failed" else "")
        for r in rows
    )


def dumps(value: object) -> str:
    return json.dumps(value, indent=2)


def registry_port(params: Params) -> int:
    return int(os.environ.get("REGISTRY_PORT", params.deploy.registry_port))
