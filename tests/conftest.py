"""Shared fixtures: the project's declared data (whatever ``schema.yaml`` and ``data.source`` name) and small
models fitted on it once per session. Nothing here knows which dataset it is."""

from __future__ import annotations

from mlship import numerics

# Before anything loads numpy: the pipeline's floating-point kernels in the test process too, so in-process
# scores equal what `mlship` commands and the service compute, bit for bit (the monitor's skew check compares
# them so).
numerics.pin()

import os

# pytest-xdist runs one worker process per core. scikit-learn's OpenMP code (gradient boosting's fit and
# predict) would start one thread per core in each of them, and its threads spin-wait on a core the other
# worker holds: a property test scoring small frames ran 8 times slower with the other core busy (54 s
# against 7 s). One thread per worker, set before scikit-learn loads, for the worker and every tool it starts
# (the trees, and the model's bytes, are the same at any thread count: tests/test_train.py).
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, settings
from sklearn.pipeline import Pipeline
from tests.shared import (
    Reproduced,
    clone_working_tree,
    git,
    once,
    registered_services,
    run_root,
    tools_env,
    use_cache,
)

from mlship import telemetry
from mlship.config import ModelConfig, Params, load_params
from mlship.data.ingest import locate_source
from mlship.data.schema import Schema, load_schema, read_source, split_xy
from mlship.data.split import split
from mlship.data.validate import validate
from mlship.train import train

REPO_ROOT = Path(__file__).resolve().parent.parent


def pytest_configure() -> None:
    """A private BentoML home for the whole run (set before BentoML reads it): tests never touch ~/bentoml."""
    os.environ["BENTOML_HOME"] = tempfile.mkdtemp(prefix="mlship-bentoml-")
    os.environ["MLSHIP_PARAMS"] = str(REPO_ROOT / "params.yaml")
    # The service's capture of in-process and `bentoml serve` tests goes to a private directory too.
    os.environ["MLSHIP_CAPTURE_DIR"] = tempfile.mkdtemp(prefix="mlship-capture-")


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The controller (or the one process without pytest-xdist) stops what the run's workers shared."""
    if hasattr(session.config, "workerinput"):
        return
    factory: pytest.TempPathFactory = session.config._tmp_path_factory  # type: ignore[attr-defined]
    for service in registered_services(run_root(factory)):
        if service["kind"] == "registry":
            from mlship.deploy import runner  # noqa: PLC0415 -- only when a run started one

            runner.registry_down(Path(service["runtime"]))


telemetry.disable()
settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("dev", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The fork proof (tests/test_fork.py) re-runs this suite on other datasets: every property and every
# assertion, on fewer examples each (the full search runs on the template's own data in the same CI run, and
# on a team's own data in its fork's CI, where this profile is never chosen).
settings.register_profile(
    "fork", max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(scope="session", autouse=True)
def _project_tools_on_path() -> Iterator[None]:
    """Subprocesses (dvc, mlship, bentoml) resolve to this environment's tools, as under `make`."""
    bin_dir = str(Path(sys.executable).parent)
    previous = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join([bin_dir, previous])
    yield
    os.environ["PATH"] = previous


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def params() -> Params:
    return load_params(REPO_ROOT / "params.yaml")


@pytest.fixture(scope="session")
def schema(params: Params) -> Schema:
    """The declared data contract."""
    return load_schema(REPO_ROOT / params.data.schema_path)


@pytest.fixture(scope="session")
def raw_path(params: Params) -> Path:
    """The configured raw data source (a file in the repository or inside an installed package)."""
    source = params.data.source
    if source.kind == "file" and not source.path.is_absolute():
        source = source.model_copy(update={"path": REPO_ROOT / source.path})
    return locate_source(source)


@pytest.fixture(scope="session")
def raw_frame(raw_path: Path, schema: Schema) -> pd.DataFrame:
    """The real data, as strings with canonical column names (read-only: copy before changing)."""
    return read_source(raw_path, schema)


@pytest.fixture(scope="session")
def dataset(raw_frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The real data, validated and typed."""
    result = validate(raw_frame, schema)
    assert result.ok, result.violations
    return result.frame


@pytest.fixture(scope="session")
def sample(dataset: pd.DataFrame) -> pd.DataFrame:
    """Up to 4,000 rows: enough to fit a meaningful model quickly."""
    return dataset.sample(n=min(4000, len(dataset)), random_state=0).reset_index(drop=True)


def _small_config(params: Params, estimator: str) -> ModelConfig:
    hgb = params.model.hist_gradient_boosting.model_copy(update={"max_iter": 30})
    monotonic = params.model.monotonic if estimator == "hist_gradient_boosting" else {}
    return params.model.model_copy(
        update={"estimator": estimator, "hist_gradient_boosting": hgb, "monotonic": monotonic}
    )


@pytest.fixture(scope="session", params=["hist_gradient_boosting", "linear"])
def fitted_model(
    request: pytest.FixtureRequest, params: Params, schema: Schema, sample: pd.DataFrame
) -> Pipeline:
    """Each supported estimator, fitted on the sample."""
    features, target = split_xy(sample, schema)
    return train(features, target, _small_config(params, request.param), schema)


@pytest.fixture(scope="session")
def hgb_model(params: Params, schema: Schema, sample: pd.DataFrame) -> Pipeline:
    features, target = split_xy(sample, schema)
    return train(features, target, _small_config(params, "hist_gradient_boosting"), schema)


@pytest.fixture(scope="session")
def split_frames(dataset: pd.DataFrame, params: Params, schema: Schema) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The real train/test split, made exactly as the pipeline makes it."""
    return split(dataset, params.split, schema)


@pytest.fixture(scope="session")
def production_model(
    split_frames: tuple[pd.DataFrame, pd.DataFrame], params: Params, schema: Schema
) -> Pipeline:
    """The model with the project's params, trained on the real training split (as `dvc repro` does)."""
    features, target = split_xy(split_frames[0], schema)
    return train(features, target, params.model, schema)


@pytest.fixture(scope="session")
def reproduced(tmp_path_factory: pytest.TempPathFactory) -> Reproduced:
    """The pipeline reproduced once for the whole run (whichever worker needs it first builds it)."""

    def build(directory: Path) -> dict[str, str]:
        clone = clone_working_tree(directory / "repo")
        use_cache(clone, directory / "cache")
        env = {k: v for k, v in tools_env().items() if k != "MLSHIP_PARAMS"}
        result = subprocess.run(
            ["dvc", "repro"], cwd=clone, env=env, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"dvc repro failed:\n{result.stdout}\n{result.stderr}"
        return {"output": result.stdout, "status": git(clone, "status", "--porcelain")}

    directory, value = once(tmp_path_factory, "reproduced", build, publish=True)
    return Reproduced(directory / "repo", directory / "cache", value["output"], value["status"])


#: The run's longest chains, started first and at the machine's normal priority: in `make test` the cold
#: `dvc repro`, then the image built from it, then the shipping end to end (alone on an idle machine 4.5 min,
#: most of `make test`'s wall time); in `make bench-smoke` the serving benchmark. Meanwhile the other workers
#: run the unit tests, which need neither, at a lower priority (:data:`LOWER`): they fill the CPU the chain
#: leaves while it waits on containers, instead of stretching it. The other integration tests come last, when
#: the reproduced pipeline and the image they share are ready. (Entries: a test module, or a test's node id.)
STARTS_FIRST = (
    "tests/deploy/test_e2e.py",
    "tests/bench/test_bench_smoke.py::test_quick_mode_runs_and_prints_its_table[serving.py]",
)
#: The niceness of a worker once it runs anything else (inherited by every tool and container it starts).
LOWER = 10


def _starts_first(item: pytest.Item) -> bool:
    return item.nodeid.split("::", 1)[0] in STARTS_FIRST or item.nodeid.split("@", 1)[0] in STARTS_FIRST


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Under pytest-xdist, a worker runs everything but :data:`STARTS_FIRST` at a lower CPU priority."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1 and not _starts_first(item) and os.nice(0) < LOWER:
        os.nice(LOWER - os.nice(0))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """pytest-xdist (``--dist loadgroup``): keep each test class, or each module's plain test functions,
    on one worker, so their class- and module-scoped fixtures are built once; a test that shares a costly
    machine resource across modules names its group itself (``@pytest.mark.xdist_group("containers")``).

    Then the order the groups are handed out in (the Makefile turns off xdist's own reordering by group
    size, which handed the two-test shipping group out last): :data:`STARTS_FIRST`, the unit tests, the
    other integration tests."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            scope = item.cls.__qualname__ if item.cls is not None else ""
            item.add_marker(pytest.mark.xdist_group(f"{item.nodeid.split('::', 1)[0]}::{scope}"))

    def turn(item: pytest.Item) -> int:
        if _starts_first(item):
            return 0
        return 2 if item.get_closest_marker("integration") else 1

    items.sort(key=turn)  # stable: within each turn, the collection order
