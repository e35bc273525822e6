"""The generic defaults ``mlship init`` writes: valid ``params.yaml`` settings that fit the adopted data
for every task, limits derived from the data that mean what their comments say, and rounding that never
tightens a limit."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import brier_score_loss, log_loss, mean_squared_error

from mlship.adopt.defaults import (
    SMALL_DATA_ROWS,
    ceil_significant,
    ceil_to,
    min_slice_size,
    params_updates,
    profile,
    repeated_test_share,
    sampling_drift,
    serving,
    with_headroom,
)
from mlship.adopt.inference import infer_schema
from mlship.adopt.writing import update_params
from mlship.config import mismatches, parse_params
from mlship.data.schema import Reader
from mlship.data.split import split
from mlship.tasks import METRICS, higher_is_better, metric_names

REPO_ROOT = Path(__file__).resolve().parents[2]
_RNG = np.random.default_rng(0)
_ROWS = 200


def _frame(task: str) -> pd.DataFrame:
    x = _RNG.normal(size=_ROWS)
    targets = {
        "binary": np.where(x + _RNG.normal(size=_ROWS) > 0.8, "Yes", "No"),
        "multiclass": np.array(["a", "b", "c"])[np.digitize(x, [-0.5, 0.5])],
        "regression": (3 * x + _RNG.normal(size=_ROWS)).round(3).astype(str),
    }
    frame = pd.DataFrame(
        {
            "x": x.round(4).astype(str),
            "group": _RNG.choice(["p", "q"], size=_ROWS),
            "flag": _RNG.choice(["true", "false"], size=_ROWS),
            "y": targets[task],
        },
        dtype=object,
    )
    frame.loc[:9, "x"] = np.nan
    return frame


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_defaults_are_valid_params_that_fit_the_data(task: str) -> None:
    # given a dataset of the task, its inferred schema, and the project's params.yaml
    frame = _frame(task)
    schema = infer_schema(frame, Reader(), "y", ["group", "flag"], None).schema
    assert schema.task == task
    original = (REPO_ROOT / "params.yaml").read_text(encoding="utf-8")
    # when the defaults are applied to params.yaml
    updates = params_updates(
        profile(frame, schema),
        source="data/x.csv",
        sha256="0" * 64,
        raw="data/raw/x.csv",
        service_name="x-model",
        test_size=0.2,
    )
    params = parse_params(yaml.safe_load(update_params(original, updates)))
    # then the result is valid, and every gate names a metric of the task and a declared attribute
    assert mismatches(params, metric_names(task), schema.numeric_names, schema.sensitive) == []
    gates = params.gates
    assert all(higher_is_better(m) for m in gates.floors)
    assert not any(higher_is_better(m) for m in gates.ceilings)
    assert set(gates.max_regression) <= set(metric_names(task))
    assert set(gates.slice_gap.max_gap) == {"group", "flag"}
    assert gates.simple_model.metric == METRICS[task][0].name
    # and the candidate may trail the simple model by the test split's noise at most (40 test rows)
    assert -0.5 / math.sqrt(40) - 0.01 <= gates.simple_model.min_margin < -0.5 / math.sqrt(40) + 0.01
    assert params.model.monotonic == {}
    # and a file this small gets gradient boosting that stops early, on small trees
    assert _ROWS < SMALL_DATA_ROWS
    assert params.model.hist_gradient_boosting.early_stopping
    assert params.model.hist_gradient_boosting.max_leaf_nodes < 31
    # and the search selects on the task's primary metric, over small trees too
    assert params.tune.metric == METRICS[task][0].name
    leaves = params.tune.space.hist_gradient_boosting.max_leaf_nodes
    assert leaves is not None
    assert leaves.high is not None
    assert leaves.high <= 31
    assert params.split.stratify == (task != "regression")
    assert params.data.source.kind == "file"
    assert params.service.name == "x-model"
    # and serving limits with room above what a model of that size costs (the census model: 0.93 MB, 0.31 s)
    serving = params.gates.serving
    assert serving.max_latency_ratio == 1.5
    assert serving.max_model_mb >= 5.0
    assert serving.max_load_s >= 2.0


def test_serving_limits_grow_with_the_trees_the_model_will_grow() -> None:
    # given a large file of each classifier task (full-size trees), one of them with 40 classes
    classes = 40
    labels = np.array([f"c{i}" for i in range(classes)])
    big = pd.DataFrame(
        {"x": _RNG.normal(size=30_000).round(4).astype(str), "y": labels[np.arange(30_000) % classes]}
    )
    binary = _frame("binary")
    limits = {}
    for name, frame in {"binary": binary, "many classes": big}.items():
        schema = infer_schema(frame, Reader(), "y", [], None).schema
        data = profile(frame, schema)
        section = serving(replace(data, rows=30_000))
        limits[name] = {key: setting.value for key, setting in section.entries.items()}  # type: ignore[union-attr]
    # then a model of 40 trees per round gets more room than a binary one, never less than the floors
    assert limits["many classes"]["max_model_mb"] > limits["binary"]["max_model_mb"] >= 5.0
    assert limits["many classes"]["max_load_s"] > limits["binary"]["max_load_s"] >= 2.0


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_ceilings_are_what_guessing_scores(task: str) -> None:
    # given a dataset and its defaults
    frame = _frame(task)
    schema = infer_schema(frame, Reader(), "y", [], None).schema
    data = profile(frame, schema)
    params = parse_params(
        yaml.safe_load(
            update_params(
                (REPO_ROOT / "params.yaml").read_text(encoding="utf-8"),
                params_updates(
                    data,
                    source="d.csv",
                    sha256="0" * 64,
                    raw="data/raw/d.csv",
                    service_name="d-model",
                    test_size=0.2,
                ),
            )
        )
    )
    ceilings = params.gates.ceilings
    # when a model that always predicts the label shares (or the mean) is scored on the same data
    target = frame["y"].astype(str)
    if task == "regression":
        values = target.astype(float).to_numpy()
        guess_rmse = math.sqrt(mean_squared_error(values, np.full_like(values, values.mean())))
        # then it sits exactly at the ceiling (rounded up to 3 significant digits), no lower
        assert guess_rmse <= ceilings["rmse"] < guess_rmse * 1.01
        return
    labels = list(schema.target.classes)
    encoded = target.map({label: i for i, label in enumerate(labels)}).to_numpy()
    shares = np.bincount(encoded, minlength=len(labels)) / len(encoded)
    guess = np.tile(shares, (len(encoded), 1))
    loss = log_loss(encoded, guess, labels=list(range(len(labels))))
    assert loss <= ceilings["log_loss"] < loss + 1e-4
    if task == "binary":
        brier = brier_score_loss(encoded, guess[:, 1])
        assert brier <= ceilings["brier"] < brier + 1e-4


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False), st.integers(min_value=0, max_value=6))
def test_ceil_to_rounds_up_never_down(value: float, places: int) -> None:
    rounded = ceil_to(value, places)
    assert value - 1e-6 * 10.0**-places <= rounded <= value + 10.0**-places + 1e-9 * max(1.0, value)


@given(st.floats(min_value=1e-6, max_value=1e9, allow_nan=False))
def test_ceil_significant_keeps_three_digits_and_never_tightens(value: float) -> None:
    rounded = ceil_significant(value)
    assert value * (1 - 1e-9) <= rounded <= value * 1.01 + 1e-12


@given(
    st.floats(min_value=0, max_value=1, allow_nan=False), st.floats(min_value=0, max_value=1, allow_nan=False)
)
def test_headroom_is_above_the_data_and_a_valid_ratio(observed: float, floor: float) -> None:
    limit = with_headroom(observed, floor)
    assert floor <= limit <= 1.0 or limit == 1.0
    assert limit >= min(1.0, observed + 0.05 - 1e-9)


@given(st.integers(min_value=10, max_value=10**7), st.floats(min_value=0.05, max_value=0.5))
def test_sampling_drift_shrinks_as_the_data_grows(rows: int, test_size: float) -> None:
    assert sampling_drift(rows * 2, test_size) < sampling_drift(rows, test_size)


@pytest.mark.parametrize("task", ["binary", "regression"])
@pytest.mark.parametrize("levels", [2, 3, 50])
def test_the_samples_mix_estimate_is_what_the_split_stage_produces(task: str, levels: int) -> None:
    # given discrete data that repeats rows (few levels) or hardly does (many levels)
    rng = np.random.default_rng(levels)
    rows = 300
    frame = pd.DataFrame(
        {
            "a": rng.integers(0, levels, size=rows).astype(str),
            "b": rng.choice(["p", "q"], size=rows),
            "y": rng.choice(["yes", "no"], size=rows)
            if task == "binary"
            else rng.integers(0, levels * 100, size=rows).astype(str),
        },
        dtype=object,
    )
    schema = infer_schema(frame, Reader(), "y", [], task).schema
    params = parse_params(yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8")))
    config = params.split.model_copy(update={"stratify": schema.target.is_classifier})
    # when the share of test rows that repeat a train row is estimated, and the split stage splits
    estimate = repeated_test_share(frame, schema, config.test_size, config.seed)
    train, test = split(frame, config, schema)
    # then the estimate is the share Deepchecks' Train Test Samples Mix will find (features and target)
    seen = set(train.itertuples(index=False, name=None))
    actual = float(np.mean([row in seen for row in test.itertuples(index=False, name=None)]))
    assert estimate == pytest.approx(actual)
    # and the limit init writes (Deepchecks' condition: at most the limit) lets the adopted data pass
    limit = params_updates(
        profile(frame, schema, config.test_size, config.seed),
        source="data/x.csv",
        sha256="0" * 64,
        raw="data/raw/x.csv",
        service_name="x-model",
        test_size=config.test_size,
    )
    mix = limit.entries["checks"].entries["train_test"].entries["max_test_rows_in_train"]  # type: ignore[union-attr]
    assert min(actual + 0.05, 1.0) <= mix.value <= 1.0  # type: ignore[union-attr]


@given(
    spread=st.floats(min_value=0.01, max_value=100.0),
    gap=st.floats(min_value=0.001, max_value=10.0),
    share=st.floats(min_value=0.01, max_value=1.0),
)
def test_a_slice_of_the_minimum_size_can_show_the_allowed_gap_beyond_noise(
    spread: float, gap: float, share: float
) -> None:
    # given a metric's spread, the allowed gap and the share of rows its standard error counts
    rows = min_slice_size(spread, gap, share)
    # then at that size two slices' difference has a 95 % noise band within the gap (or the floor applies)
    noise = 1.96 * math.sqrt(2) * spread / math.sqrt(rows * share)
    assert noise <= gap * (1 + 1e-9) or rows == 30
    # and one row fewer would not be enough, unless the floor decided
    if rows > 30:
        assert 1.96 * math.sqrt(2) * spread / math.sqrt((rows - 1) * share) > gap * (1 - 1e-9)
