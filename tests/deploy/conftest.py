"""Real parts for the shipping tests: a registry in a temp dir, a clone of this repository, images built
from its bentos with podman/buildah, environments on free loopback ports.

The model inside the images is the session's default model (trained on the real split like `dvc repro`'s
train stage); everything after it is what `make image` runs: `mlship store-model`, `bentoml build`,
`mlship deploy image`.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock
from sklearn.pipeline import Pipeline
from tests.deploy.shipping import Clone
from tests.shared import run_root

from mlship.config import Params
from mlship.deploy import runner
from mlship.train import save_model

BASE_IMAGE = "localhost/mlship-pybase:bookworm"


@pytest.fixture(scope="session")
def base_image(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The offline base image (cached by podman across runs); one worker builds it while the others wait."""
    with FileLock(str(run_root(tmp_path_factory) / "base-image.lock")):
        subprocess.run(
            [str(repo_root / "deploy/local/base-image.sh"), BASE_IMAGE], check=True, capture_output=True
        )
    return BASE_IMAGE


@pytest.fixture(scope="module")
def registry_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    runtime = tmp_path_factory.mktemp("registry")
    port = runner.free_port()
    runner.registry_up(runtime, port)
    yield port
    runner.registry_down(runtime)


@pytest.fixture(scope="module")
def clone(
    repo_root: Path,
    registry_port: int,
    base_image: str,
    production_model: Pipeline,
    params: Params,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Clone]:
    """A clone of this repository's HEAD whose environments listen on free ports, with its model trained."""
    path = tmp_path_factory.mktemp("ship") / "repo"
    subprocess.run(["git", "clone", "--quiet", str(repo_root), str(path)], check=True)
    text = (path / "params.yaml").read_text(encoding="utf-8")
    for environment, config in params.deploy.environments.items():
        text = re.sub(
            rf"(\n    {environment}:\n      port: ){config.port}", rf"\g<1>{runner.free_port()}", text
        )
    (path / "params.yaml").write_text(text, encoding="utf-8")
    save_model(production_model, path / params.paths.model)
    env = {
        **os.environ,
        "MLSHIP_REGISTRY": f"127.0.0.1:{registry_port}/{params.service.name}",
        "MLSHIP_BASE_IMAGE": base_image,
        "MLSHIP_PARAMS": str(path / "params.yaml"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    env.pop("GITHUB_ACTIONS", None)
    repo = Clone(path=path, env=env, repository=env["MLSHIP_REGISTRY"], name=params.service.name)
    repo.commit("environments on free ports for this test")
    yield repo
    repo.make("down", check=False)
