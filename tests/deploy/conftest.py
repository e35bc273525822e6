"""Real parts for the shipping tests, each made once per run and shared by every worker: the offline base
image, one registry, and one image — the working tree's reproduced pipeline committed in a source repository
and built there by `make image` (tests/deploy/shipping.py). Each test clones the source, pushes the image to
its own repository in the registry and runs its own environments on free loopback ports; a test that needs a
second image (another commit, a broken image) builds only that one.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock
from tests.deploy.shipping import Clone, Shipped, build_source, clone_source
from tests.shared import Reproduced, once, register_service, remember_images, run_root

from mlship.config import Params
from mlship.deploy import runner

BASE_IMAGE = "localhost/mlship-pybase:bookworm"


@pytest.fixture(scope="session")
def base_image(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The offline base image (cached by podman across runs); one worker builds it while the others wait."""
    with FileLock(str(run_root(tmp_path_factory) / "base-image.lock")):
        subprocess.run(
            [str(repo_root / "deploy/local/base-image.sh"), BASE_IMAGE], check=True, capture_output=True
        )
    return BASE_IMAGE


@pytest.fixture(scope="session")
def registry_port(tmp_path_factory: pytest.TempPathFactory) -> int:
    """The run's one registry (Debian's docker-registry on a free loopback port): started by the first
    worker that needs it, stopped by the controller when the run ends."""

    def start(directory: Path) -> int:
        port = runner.free_port()
        runner.registry_up(directory, port)
        register_service(tmp_path_factory, "registry", directory)
        return port

    _, port = once(tmp_path_factory, "registry", start)
    return int(port)


@pytest.fixture(scope="session")
def shipped(reproduced: Reproduced, base_image: str, tmp_path_factory: pytest.TempPathFactory) -> Shipped:
    """The working tree's image, built once per run (and published for `make bench-smoke`)."""

    def build(directory: Path) -> dict[str, str]:
        value = build_source(reproduced, directory, base_image)
        remember_images(directory, [value["image"]])
        return value

    directory, value = once(tmp_path_factory, "shipped", build, publish=True)
    return Shipped(
        source=directory / "source",
        cache=reproduced.cache,
        bentoml_home=Path(value["bentoml_home"]),
        signing_home=Path(value["signing_home"]),
        sha=value["sha"],
        image=value["image"],
    )


@pytest.fixture(scope="module")
def clone(
    request: pytest.FixtureRequest,
    shipped: Shipped,
    registry_port: int,
    base_image: str,
    params: Params,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Clone]:
    """A clone of the run's source for this module: HEAD is the image's commit; its own environments on
    free ports and its own repository in the run's registry."""
    module = request.module.__name__.rsplit(".", 2)
    repository = "-".join([params.service.name, *module[-2:]]).replace("_", "-").lower()
    target = tmp_path_factory.mktemp("ship") / "repo"
    repo = clone_source(shipped, target, params, registry_port, repository, base_image)
    yield repo
    repo.make("down", check=False)
