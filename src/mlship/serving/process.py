"""Run ``bentoml serve`` as a child process: start on a free loopback port, wait until ready, stop cleanly.

Used by the service tests and the serving benchmark. The server's output goes to a log file, never to an
undrained pipe (a full pipe blocks the server's next log write, and with it every request). BentoML's
workers run in sessions of their own, so stopping the process group is not enough: ``stop`` ends the whole
process tree, the workers included.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil


class ServerError(RuntimeError):
    """The server exited or did not become ready; the message carries the tail of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running ``bentoml serve``; ``url`` answers once ``wait_ready`` returns."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path
    tree: list[psutil.Process] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        """Everything the server has logged so far."""
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_text()[-chars:]

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise ServerError(f"bentoml serve exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == httpx.codes.OK:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise ServerError(f"bentoml serve not ready within {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.2)
        self.tree = self.processes()

    def processes(self) -> list[psutil.Process]:
        """The server process and every descendant (the workers)."""
        try:
            root = psutil.Process(self.process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM to the server (it stops its workers gracefully), then SIGKILL whatever is left."""
        tree = {p.pid: p for p in [*self.tree, *self.processes()]}.values()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        _, alive = psutil.wait_procs(list(tree), timeout=timeout)
        for process in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        psutil.wait_procs(alive, timeout=5)
        self.process.wait(timeout=5)


@contextmanager
def running(
    command: Sequence[str],
    port: int,
    cwd: Path,
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 90.0,
) -> Iterator[Server]:
    """``command`` (a server that will listen on ``port``) in its own session with its log in a file; ready
    when entered, stopped with its whole process tree on exit."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env if env is not None else os.environ),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process=process, port=port, log=log)
    try:
        server.wait_ready(timeout)
        yield server
    finally:
        server.stop()


@contextmanager
def serve(
    target: str,
    cwd: Path,
    log: Path,
    *,
    bentoml: Path | str = "bentoml",
    env: Mapping[str, str] | None = None,
    timeout: float = 90.0,
) -> Iterator[Server]:
    """``bentoml serve TARGET`` on a free loopback port, ready when entered, stopped (whole tree) on exit."""
    port = free_port()
    command = [str(bentoml), "serve", target, "--host", "127.0.0.1", "--port", str(port)]
    with running(command, port, cwd, log, env=env, timeout=timeout) as server:
        yield server
