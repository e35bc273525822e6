"""Local environments: podman containers behind a stable loopback port, and the local registry process.

Blue/green on one machine: the new container starts beside the old one on a free loopback port, is checked
there, then the environment's relay (mlship.deploy.proxy) is pointed at it and the old one is stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from mlship.deploy import proxy
from mlship.deploy.registry import is_local

LABEL = "io.mlship.environment"
SCOPE = "io.mlship.scope"  # the runtime directory: one checkout's environments never touch another's


class RunnerError(RuntimeError):
    """A container or process could not be started, found or stopped."""


@dataclass(frozen=True)
class Container:
    name: str
    digest: str
    port: int


def _podman(*args: str, check: bool = True) -> str:
    try:
        result = subprocess.run(["podman", *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise RunnerError("podman is not installed (make machine)") from None
    if check and result.returncode != 0:
        raise RunnerError(f"podman {args[0]} failed: {result.stderr.strip()}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class RefusedError(RunnerError):
    """The container runtime refused to pull an image under the signature policy (the message is its own)."""


def pull(repository: str, digest: str, policy: Path | None = None) -> str:
    """Pull ``repository@digest``; with ``policy``, under that signature policy (podman checks it on every
    pull, even of an image it already has), raising :class:`RefusedError` with podman's reason."""
    image = f"{repository}@{digest}"
    tls = ["--tls-verify=false"] if is_local(repository) else []
    checked = ["--signature-policy", str(policy)] if policy is not None else []
    try:
        result = subprocess.run(
            ["podman", "pull", "--quiet", *tls, *checked, image], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise RunnerError("podman is not installed (make machine)") from None
    if result.returncode != 0:
        reason = result.stderr.strip().removeprefix("Error: ")
        if policy is not None and "rejected" in reason.lower():
            raise RefusedError(reason)
        raise RunnerError(f"podman pull failed: {reason}")
    return image


def start(
    scope: Path,
    environment: str,
    repository: str,
    digest: str,
    container_port: int,
    *,
    capture: tuple[Path, Path] | None = None,
    policy: Path | None = None,
) -> Container:
    """Start the image beside whatever runs (pulled from the registry by digest) on a free loopback port.

    ``capture`` is (host directory, directory in the container): the service's capture is written to the
    host, so it outlives a container switch or a rollback. ``:U`` hands the host directory to the image's
    non-root user (kept 0700: its files are readable by that user and root only). ``policy``: the image is
    pulled under that signature policy first (:func:`pull`), and run by digest as pulled."""
    image = pull(repository, digest, policy)
    port = free_port()
    name = f"mlship-{environment}-{digest[7:19]}-{port}"
    volume: list[str] = []
    if capture is not None:
        host, inside = capture
        host.mkdir(parents=True, exist_ok=True, mode=0o700)
        volume = ["--volume", f"{host.resolve()}:{inside.as_posix()}:U"]
    _podman(
        "run",
        "--detach",
        "--pull",
        "never",  # what was just pulled (under the policy, when there is one), by digest
        "--name",
        name,
        "--label",
        f"{LABEL}={environment}",
        "--label",
        f"io.mlship.digest={digest}",
        "--label",
        f"{SCOPE}={scope.resolve()}",
        "--publish",
        f"127.0.0.1:{port}:{container_port}",
        *volume,
        image,
    )
    return Container(name=name, digest=digest, port=port)


def containers(scope: Path, environment: str) -> list[Container]:
    filters = ["--filter", f"label={LABEL}={environment}", "--filter", f"label={SCOPE}={scope.resolve()}"]
    out = _podman("ps", "--all", *filters, "--format", "json")
    found = []
    for item in json.loads(out or "[]"):
        ports = item.get("Ports") or [{}]
        found.append(
            Container(
                name=item["Names"][0],
                digest=(item.get("Labels") or {}).get("io.mlship.digest", ""),
                port=int(ports[0].get("host_port", 0)),
            )
        )
    return found


def exited(container: Container) -> str | None:
    """None while the container runs (or is starting); once it has stopped, why: its exit code and the
    last lines it wrote (a server that crashed at start, a missing file, a bad entrypoint)."""
    state = _podman(
        "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", container.name, check=False
    ).split()
    if not state:
        return f"container {container.name} is gone"
    status, code = state[0], state[1] if len(state) > 1 else "?"
    if status in {"created", "configured", "initialized", "running", "paused"}:
        return None
    logs = subprocess.run(
        ["podman", "logs", "--tail", "3", container.name], capture_output=True, text=True, check=False
    )
    tail = " | ".join(line.strip() for line in (logs.stdout + logs.stderr).splitlines() if line.strip())
    return f"container {container.name} {status} with code {code}" + (f": {tail[-400:]}" if tail else "")


def stop(container: Container) -> None:
    _podman("rm", "--force", "--time", "5", container.name, check=False)


@dataclass(frozen=True)
class Front:
    """The environment's stable port and the relay process behind it."""

    environment: str
    port: int
    runtime_dir: Path

    @property
    def backend_file(self) -> Path:
        return self.runtime_dir / f"{self.environment}.backend"

    @property
    def pid_file(self) -> Path:
        return self.runtime_dir / f"{self.environment}.proxy.pid"

    def backend_port(self) -> int | None:
        backend = proxy.read_backend(self.backend_file)
        return backend[1] if backend else None

    def running(self) -> bool:
        pid = _read_pid(self.pid_file)
        return pid is not None and _alive(pid) and port_open(self.port)

    def ensure(self) -> None:
        """Start the relay if it is not running (idempotent)."""
        if self.running():
            return
        self.runtime_dir.mkdir(parents=True, exist_ok=True)
        if port_open(self.port):
            raise RunnerError(f"port {self.port} ({self.environment}) is taken by another program")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mlship.deploy.proxy",
                "--listen",
                f"127.0.0.1:{self.port}",
                "--backend-file",
                str(self.backend_file),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.pid_file.write_text(str(process.pid), encoding="utf-8")
        deadline = time.monotonic() + 10
        while not port_open(self.port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RunnerError(f"the relay for {self.environment} did not start on port {self.port}")
            time.sleep(0.05)

    def switch(self, port: int) -> None:
        proxy.write_backend(self.backend_file, f"127.0.0.1:{port}")

    def stop(self) -> None:
        pid = _read_pid(self.pid_file)
        if pid is not None and _alive(pid):
            os.kill(pid, signal.SIGTERM)
        self.pid_file.unlink(missing_ok=True)


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


# --- the local registry (Debian's docker-registry) ---------------------------------------------------------

REGISTRY_CONFIG = """version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
"""


def registry_up(runtime_dir: Path, port: int) -> bool:
    """Run the registry on 127.0.0.1:``port``, data under ``runtime_dir/registry``; False if it ran."""
    if _registry_ready(port):
        return False
    if port_open(port):
        raise RunnerError(f"port {port} is taken by something that is not an OCI registry")
    root = (runtime_dir / "registry").resolve()
    root.mkdir(parents=True, exist_ok=True)
    config = runtime_dir / "registry.yml"
    config.write_text(REGISTRY_CONFIG.format(root=root, port=port), encoding="utf-8")
    log = (runtime_dir / "registry.log").open("ab")
    try:
        process = subprocess.Popen(
            ["docker-registry", "serve", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise RunnerError("docker-registry is not installed (make machine)") from None
    finally:
        log.close()
    (runtime_dir / "registry.pid").write_text(str(process.pid), encoding="utf-8")
    deadline = time.monotonic() + 15
    while not _registry_ready(port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RunnerError(
                f"the registry did not start on 127.0.0.1:{port} (see {runtime_dir}/registry.log)"
            )
        time.sleep(0.05)
    return True


def registry_down(runtime_dir: Path) -> None:
    pid_file = runtime_dir / "registry.pid"
    pid = _read_pid(pid_file)
    if pid is not None and _alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while _alive(pid) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.05)
    pid_file.unlink(missing_ok=True)


def _registry_ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False
