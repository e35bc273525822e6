"""The one measuring code path: the service's predict path timed interleaved, and each model's footprint."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlship.config import CostMeasurement, Params
from mlship.data.schema import Schema, split_xy
from mlship.serving import cost
from mlship.serving.contract import record_model
from mlship.stats.ratio import mark
from mlship.train import save_model, train

QUICK = CostMeasurement(rounds=6, calls_per_block=10, batch_records=200, batch_rounds=2)


def test_two_models_are_timed_a_b_b_a_then_b_a_a_b_on_the_same_calls() -> None:
    # given two sides of three calls each that record when they ran
    ran: list[str] = []
    calls = [[(lambda s=side, i=i: ran.append(f"{s}{i}")) for i in range(3)] for side in "AB"]
    # when two rounds are timed
    timings = cost.interleaved(calls, rounds=2)
    # then each round times every call of each side, in two blocks per side, mirrored in the next round
    first, second = ran[:6], ran[6:]
    assert first == ["A0", "A1", "B0", "B1", "B2", "A2"]
    assert second == ["B0", "B1", "A0", "A1", "A2", "B2"]
    assert [len(side) for side in timings] == [2, 2]
    assert all(len(round_) == 3 and min(round_) > 0 for side in timings for round_ in side)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 50), st.integers(0, 2**32 - 1))
def test_records_drawn_from_the_test_split_are_valid_requests_and_seeded(
    sample: pd.DataFrame, schema: Schema, n: int, seed: int
) -> None:
    # when records are drawn twice with the same seed
    drawn = cost.sample_records(sample, schema, n, seed)
    # then there are n of them, the same both times, and the service's contract accepts each
    assert len(drawn) == n
    assert drawn == cost.sample_records(sample, schema, n, seed)
    model = record_model(schema)
    for record in drawn:
        model.model_validate(record)


def test_an_empty_test_split_is_a_clear_error(sample: pd.DataFrame, schema: Schema) -> None:
    with pytest.raises(cost.CostError, match="test split is empty"):
        cost.sample_records(sample.head(0), schema, 5, seed=0)


@pytest.fixture(scope="module")
def two_models(
    sample: pd.DataFrame, params: Params, schema: Schema, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """Gradient boosting with 10 trees and with 200, on disk: full-grown trees whatever the data (no early
    stopping, small leaves), so the second does twenty times the work on any dataset a fork adopts."""
    features, target = split_xy(sample, schema)
    folder = tmp_path_factory.mktemp("models")
    paths = []
    for trees in (10, 200):
        hgb = params.model.hist_gradient_boosting.model_copy(
            update={"max_iter": trees, "early_stopping": False, "min_samples_leaf": 5, "max_leaf_nodes": 31}
        )
        config = params.model.model_copy(
            update={"estimator": "hist_gradient_boosting", "hist_gradient_boosting": hgb}
        )
        save_model(train(features, target, config, schema), folder / f"{trees}.joblib")
        paths.append(folder / f"{trees}.joblib")
    return paths[0], paths[1]


def test_a_model_with_twenty_times_the_trees_measures_slower_and_larger(
    two_models: tuple[Path, Path], sample: pd.DataFrame, params: Params, schema: Schema, repo_root: Path
) -> None:
    # given the small model as the base and the bigger one as the pull request's
    small, bigger = two_models
    records = cost.sample_records(sample, schema, QUICK.calls_per_block * 2, seed=0)
    # when both are measured side by side
    measured = cost.measure(
        {"base": small, "pr": bigger},
        repo_root / params.data.schema_path,
        records,
        QUICK,
        resamples=200,
        seed=0,
        confidence=0.95,
    )
    # then the bigger one is slower per record and per batch (the whole interval above x1), and larger on disk
    assert measured.base is not None
    assert measured.ratios is not None
    for ratio in (measured.ratios.p50, measured.ratios.batch):
        assert ratio.interval.low > 1.0, ratio
        assert mark(ratio.interval, ratio.ratio, resolution=0.0) == "slower"
    assert measured.pr.footprint.model_bytes > measured.base.footprint.model_bytes
    assert measured.pr.footprint.load_s > 0
    assert measured.pr.p50_ms > measured.base.p50_ms
    # and the figures name the settings they were measured with
    assert measured.settings == QUICK.model_dump()


def test_one_model_alone_has_its_own_figures_and_no_ratio(
    two_models: tuple[Path, Path], sample: pd.DataFrame, params: Params, schema: Schema, repo_root: Path
) -> None:
    records = cost.sample_records(sample, schema, QUICK.calls_per_block * 2, seed=0)
    options = {"resamples": 200, "seed": 0, "confidence": 0.95}
    measured = cost.measure(
        {"pr": two_models[0]}, repo_root / params.data.schema_path, records, QUICK, **options
    )
    assert (measured.base, measured.ratios) == (None, None)
    assert 0 < measured.pr.p50_ms <= measured.pr.p99_ms
    assert measured.pr.records_per_s > 0
