"""Every broken dataset in tests/corruptions.py is caught, by the expected check, naming the cause; the
clean data passes. Suites run on a fixed sample of the real data (8,000 train / 2,000 test rows) to keep
the suite fast; the thresholds are the ones in params.yaml."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.corruptions import (
    DATA_CORRUPTIONS,
    RAW_CORRUPTIONS,
    SPLIT_CORRUPTIONS,
    DataCorruption,
    RawCorruption,
    SplitCorruption,
)

from mlship.checks.results import SuiteOutcome
from mlship.checks.suites import run_data_integrity, run_train_test
from mlship.checks.verdicts import check_verdicts
from mlship.config import Params
from mlship.data.validate import validate


@pytest.fixture(scope="module")
def small_split(split_frames: tuple[pd.DataFrame, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    train, test = split_frames
    return (
        train.sample(n=8000, random_state=3).reset_index(drop=True),
        test.sample(n=2000, random_state=3).reset_index(drop=True),
    )


@pytest.fixture(scope="module")
def small_validated(small_split: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(small_split, ignore_index=True)


def _failing(outcome: SuiteOutcome) -> dict[str, str]:
    return {v.target: v.detail for v in check_verdicts(outcome) if not v.passed}


def test_the_clean_data_passes_every_check(
    small_validated: pd.DataFrame, small_split: tuple[pd.DataFrame, pd.DataFrame], params: Params
) -> None:
    assert _failing(run_data_integrity(small_validated, params.checks.data_integrity)) == {}
    train, test = small_split
    assert _failing(run_train_test(train, test, params.checks.train_test, params.split.seed)) == {}


@pytest.mark.parametrize("corruption", RAW_CORRUPTIONS, ids=lambda c: c.name)
def test_schema_validation_stops_raw_corruption(raw_frame: pd.DataFrame, corruption: RawCorruption) -> None:
    # given the real raw data, broken / when validated
    result = validate(corruption.apply(raw_frame))
    # then validation fails naming the expected column and rule
    found = {(v.column, v.rule) for v in result.violations}
    assert (corruption.column, corruption.rule) in found


@pytest.mark.parametrize("corruption", DATA_CORRUPTIONS, ids=lambda c: c.name)
def test_data_integrity_catches_corruption(
    small_validated: pd.DataFrame, params: Params, corruption: DataCorruption
) -> None:
    # given validated data that passes the schema but is broken
    broken = corruption.apply(small_validated)
    assert validate_typed_ok(broken)
    # when the data-integrity suite runs / then the expected check fails, naming the column
    failing = _failing(run_data_integrity(broken, params.checks.data_integrity))
    assert corruption.check in failing, failing
    if corruption.column is not None:
        assert corruption.column in failing[corruption.check]


@pytest.mark.parametrize("corruption", SPLIT_CORRUPTIONS, ids=lambda c: c.name)
def test_train_test_validation_catches_corruption(
    small_split: tuple[pd.DataFrame, pd.DataFrame], params: Params, corruption: SplitCorruption
) -> None:
    train, test = corruption.apply(*small_split)
    failing = _failing(run_train_test(train, test, params.checks.train_test, params.split.seed))
    assert corruption.check in failing, failing
    if corruption.column is not None:
        assert corruption.column in failing[corruption.check]


def validate_typed_ok(frame: pd.DataFrame) -> bool:
    """The corruption is invisible to the schema: only the statistical checks can catch it."""
    as_raw = frame.astype(object).where(frame.notna(), None)
    as_raw = as_raw.map(lambda v: None if v is None else str(v))
    as_raw["loan"] = frame["loan"].map({1: ">50K", 0: "<=50K"})
    return validate(as_raw).ok
