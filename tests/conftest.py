"""Shared fixtures: the project's declared data (whatever ``schema.yaml`` and ``data.source`` name) and small
models fitted on it once per session. Nothing here knows which dataset it is."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, settings
from sklearn.pipeline import Pipeline

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


telemetry.disable()
settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("dev", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


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
