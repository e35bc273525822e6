"""The shipping tests' one world: the working tree's reproduced pipeline committed in a source repository, its
image built once per run by the real `make image`, and clones of that source driven through the real
commands.

A clone made with ``git clone`` keeps the source's commit ids, so the image built for the source's HEAD is
the image of every clone's HEAD: each test pushes it to its own repository in the run's one registry and
deploys it to its own environments (free loopback ports, written into the clone's ``params.yaml`` as a
local, uncommitted setting, so HEAD stays the commit the image was built from).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from tests.shared import Reproduced, git, use_cache

from mlship.config import Params, load_params
from mlship.deploy import runner

VENV = Path(sys.executable).parent.parent
#: A developer's own signing passphrase never reaches the tests (the run's key has its passphrase file).
SIGNING_SECRETS = ("MLSHIP_SIGNING_PASSPHRASE", "MLSHIP_SIGNING_PASSPHRASE_FILE")
IDENTITY = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t",
}


@dataclass(frozen=True)
class Clone:
    path: Path
    env: dict[str, str]
    repository: str
    name: str

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            list(args), cwd=self.path, env=self.env, capture_output=True, text=True, check=False
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def make(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """A make target of the clone, run with this test run's environment (``STAMP=``: no re-sync of it)."""
        return self.run("make", "--no-print-directory", f"VENV={VENV}", "STAMP=", *args, check=check)

    def mlship(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("mlship", *args, check=check)

    def git(self, *args: str) -> str:
        return self.run("git", *args).stdout.strip()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def build_image(self) -> str:
        """`make image` for HEAD: the model into the store, the bento, the OCI image. Returns the sha."""
        os.utime(self.path / "requirements" / "serving.txt")  # this environment's tools: nothing to export
        self.make("image")
        return self.head()

    def commit(self, message: str) -> str:
        self.git("commit", "--quiet", "--allow-empty", "-am", message)
        return self.head()


@dataclass(frozen=True)
class Shipped:
    """The run's source repository and the image of its HEAD (``localhost/<name>:sha-<sha12>``)."""

    source: Path
    #: The DVC cache the source's outputs are in (the run's reproduced pipeline's).
    cache: Path
    #: The BentoML home the image's bento was built in (a clone that builds another commit uses it too).
    bentoml_home: Path
    #: The run's signing key (private half; its public half is committed in the source): `make keys`'s.
    signing_home: Path
    sha: str
    image: str


def build_source(reproduced: Reproduced, directory: Path, base_image: str) -> dict[str, str]:
    """The reproduced working tree with the run's own signing key (`make keys`: a key the repository
    already names is replaced, as a rotation would), committed with the outputs `dvc repro` wrote (when the
    working tree's own ``dvc.lock`` was stale, the reproduced one), and `make image` run there. Returns
    what :class:`Shipped` needs beyond the directory."""
    source = reproduced.copy_to(directory / "source")
    home, signing_home = directory / "bentoml", directory / "signing"
    env = {
        **os.environ,
        **IDENTITY,
        "BENTOML_HOME": str(home),
        "MLSHIP_BASE_IMAGE": base_image,
        "MLSHIP_SIGNING_HOME": str(signing_home),
    }
    for name in ("MLSHIP_PARAMS", "GITHUB_ACTIONS", *SIGNING_SECRETS):
        env.pop(name, None)
    clone = Clone(source, env, "", "")
    public_key = source / load_params(source / "params.yaml").deploy.signing.public_key
    public_key.unlink(missing_ok=True)
    clone.make("keys")
    if git(source, "status", "--porcelain"):
        git(source, "add", "-A")
        git(source, "commit", "-q", "-m", "the run's signing key; the pipeline's outputs from dvc repro")
    sha = clone.build_image()
    name = clone.mlship("config", "--get", "service.name").stdout.strip()
    return {
        "sha": sha,
        "image": f"localhost/{name}:sha-{sha[:12]}",
        "bentoml_home": str(home),
        "signing_home": str(signing_home),
    }


def clone_source(
    shipped: Shipped, target: Path, params: Params, registry_port: int, repository: str, base_image: str
) -> Clone:
    """A clone of the source (same commits) with its own environment ports, DVC cache and registry
    repository ``127.0.0.1:<port>/<repository>``."""
    git(target.parent, "clone", "--quiet", "--no-local", str(shipped.source), str(target))
    use_cache(target, shipped.cache)
    settings = target / "params.yaml"
    text = settings.read_text(encoding="utf-8")
    for environment, config in params.deploy.environments.items():
        text = re.sub(
            rf"(\n    {environment}:\n      port: ){config.port}", rf"\g<1>{runner.free_port()}", text
        )
    settings.write_text(text, encoding="utf-8")
    env = {
        **os.environ,
        **IDENTITY,
        "MLSHIP_REGISTRY": f"127.0.0.1:{registry_port}/{repository}",
        "MLSHIP_BASE_IMAGE": base_image,
        "MLSHIP_PARAMS": str(settings),
        "BENTOML_HOME": str(shipped.bentoml_home),
        "MLSHIP_SIGNING_HOME": str(shipped.signing_home),
    }
    for name in SIGNING_SECRETS:
        env.pop(name, None)
    env.pop("GITHUB_ACTIONS", None)
    name = params.service.name
    return Clone(path=target, env=env, repository=env["MLSHIP_REGISTRY"], name=name)


def working_container(repository: str, digest: str) -> str:
    """A buildah working container made from ``repository@digest`` (pulled from the run's registry first):
    what a test changes to make another image from a pushed one (a broken one, a tampered one)."""
    image = f"{repository}@{digest}"
    subprocess.run(
        ["podman", "pull", "--quiet", "--tls-verify=false", image], check=True, capture_output=True
    )
    return subprocess.run(
        ["buildah", "from", "--quiet", image], check=True, capture_output=True, text=True
    ).stdout.strip()


def environments(clone: Clone) -> dict[str, dict[str, Any]]:
    """`mlship deploy status --json` of the clone, by environment."""
    rows = json.loads(clone.mlship("deploy", "status", "--json", check=False).stdout)
    return {row["environment"]: row for row in rows}


class Poller:
    """A client asking ``url``'s ``/readyz`` every 0.1 s in the background, each time on a new connection
    (what the front door promises to answer throughout a switch; a connection kept alive across it may lose
    the request in flight when the old container stops, docs/runbook.md); it keeps every failure."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.failures: list[str] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=5, limits=httpx.Limits(max_keepalive_connections=0)) as client:
            while not self.done.is_set():
                try:
                    code = client.get(f"{self.url}/readyz").status_code
                    if code != 200:
                        self.failures.append(f"status {code}")
                except httpx.HTTPError as error:
                    self.failures.append(repr(error))
                time.sleep(0.1)

    def stop(self) -> list[str]:
        self.done.set()
        self.thread.join()
        return self.failures


def poll_in_background(url: str) -> Poller:
    return Poller(url)
