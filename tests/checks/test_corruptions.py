"""Every broken dataset in tests/corruptions.py is caught, by the expected check, naming the cause, while the
same check passes on the clean data. Suites run on a fixed sample of the real data (up to 8,000 train / 2,000
test rows) to keep the suite fast; the thresholds are the ones in params.yaml."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.corruptions import (
    DataCorruption,
    RawCorruption,
    SplitCorruption,
    data_corruptions,
    raw_corruptions,
    split_corruptions,
)
from tests.strategies import REPO_ROOT, project_schema

from mlship.checks.results import SuiteOutcome
from mlship.checks.suites import run_data_integrity, run_train_test
from mlship.checks.verdicts import check_verdicts
from mlship.config import Params, load_params
from mlship.data.schema import Schema
from mlship.data.validate import validate

_SCHEMA = project_schema()
_PARAMS = load_params(REPO_ROOT / "params.yaml")
RAW_CORRUPTIONS = raw_corruptions(_SCHEMA)
DATA_CORRUPTIONS = data_corruptions(_SCHEMA, _PARAMS.checks.data_integrity)
SPLIT_CORRUPTIONS = split_corruptions(_SCHEMA)


@pytest.fixture(scope="module")
def small_split(split_frames: tuple[pd.DataFrame, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    train, test = split_frames
    return (
        train.sample(n=min(8000, len(train)), random_state=3).reset_index(drop=True),
        test.sample(n=min(2000, len(test)), random_state=3).reset_index(drop=True),
    )


@pytest.fixture(scope="module")
def small_validated(small_split: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(small_split, ignore_index=True)


def _failing(outcome: SuiteOutcome) -> dict[str, str]:
    return {v.target: v.detail for v in check_verdicts(outcome) if not v.passed}


def _checks(outcome: SuiteOutcome) -> set[str]:
    return {check.check for check in outcome.checks}


@pytest.fixture(scope="module")
def clean_integrity(small_validated: pd.DataFrame, params: Params, schema: Schema) -> SuiteOutcome:
    return run_data_integrity(small_validated, params.checks.data_integrity, schema)


@pytest.fixture(scope="module")
def clean_train_test(
    small_split: tuple[pd.DataFrame, pd.DataFrame], params: Params, schema: Schema
) -> SuiteOutcome:
    train, test = small_split
    return run_train_test(train, test, config=params.checks.train_test, seed=params.split.seed, schema=schema)


def test_the_library_covers_every_level_of_the_pipeline() -> None:
    # then the schema yields corruptions for validation, data integrity and the train/test comparison,
    # always including a broken layout, a broken target, duplicated rows and label drift
    assert {"renamed column", "missing column"} <= {c.name for c in RAW_CORRUPTIONS}
    assert {c.column for c in RAW_CORRUPTIONS} >= {_SCHEMA.target.name}
    assert "duplicated rows" in {c.name for c in DATA_CORRUPTIONS}
    assert "label drift" in {c.name for c in SPLIT_CORRUPTIONS}


def test_the_clean_data_passes_the_checks_the_corruptions_target(
    clean_integrity: SuiteOutcome, clean_train_test: SuiteOutcome
) -> None:
    # given the clean sample / when both suites run / then every check a corruption must trip runs and passes
    # (otherwise the corruption tests below would prove nothing, and the threshold in params.yaml does not
    # fit the data)
    integrity_targets = {c.check for c in DATA_CORRUPTIONS}
    split_targets = {c.check for c in SPLIT_CORRUPTIONS}
    assert integrity_targets <= _checks(clean_integrity)
    assert split_targets <= _checks(clean_train_test)
    assert set(_failing(clean_integrity)) & integrity_targets == set(), _failing(clean_integrity)
    assert set(_failing(clean_train_test)) & split_targets == set(), _failing(clean_train_test)


@pytest.mark.parametrize("corruption", RAW_CORRUPTIONS, ids=lambda c: c.name)
def test_schema_validation_stops_raw_corruption(
    raw_frame: pd.DataFrame, schema: Schema, corruption: RawCorruption
) -> None:
    # given the real raw data, which is valid
    assert validate(raw_frame, schema).ok
    # when broken and validated
    result = validate(corruption.apply(raw_frame), schema)
    # then validation fails naming the expected column and rule
    found = {(v.column, v.rule) for v in result.violations}
    assert (corruption.column, corruption.rule) in found, found


@pytest.mark.parametrize("corruption", DATA_CORRUPTIONS, ids=lambda c: c.name)
def test_data_integrity_catches_corruption(
    small_validated: pd.DataFrame, params: Params, schema: Schema, corruption: DataCorruption
) -> None:
    # given validated data that passes the schema but is broken
    broken = corruption.apply(small_validated)
    assert validate_typed_ok(broken, schema)
    # when the check it targets runs (with its condition from params.yaml; the clean-data test above runs
    # every check of the suite)
    outcome = run_data_integrity(broken, params.checks.data_integrity, schema, checks=[corruption.check])
    failing = _failing(outcome)
    # then the expected check fails, naming the column
    assert corruption.check in failing, failing
    if corruption.column is not None:
        assert corruption.column in failing[corruption.check]


@pytest.mark.parametrize("corruption", SPLIT_CORRUPTIONS, ids=lambda c: c.name)
def test_train_test_validation_catches_corruption(
    small_split: tuple[pd.DataFrame, pd.DataFrame],
    params: Params,
    schema: Schema,
    corruption: SplitCorruption,
) -> None:
    # given a train/test split broken in a way each half alone cannot show
    train, test = corruption.apply(*small_split)
    # when the check it targets runs (with its condition from params.yaml)
    outcome = run_train_test(
        train,
        test,
        config=params.checks.train_test,
        seed=params.split.seed,
        schema=schema,
        checks=[corruption.check],
    )
    # then the expected check fails, naming the columns
    failing = _failing(outcome)
    assert corruption.check in failing, failing
    for column in corruption.columns:
        assert column in failing[corruption.check]


def validate_typed_ok(frame: pd.DataFrame, schema: Schema) -> bool:
    """The corruption is invisible to the schema: only the statistical checks can catch it."""
    as_raw = frame.astype(object).where(frame.notna(), None)
    as_raw = as_raw.map(lambda v: None if v is None else str(v))
    target = schema.target
    if target.is_classifier:
        as_raw[target.name] = frame[target.name].map(dict(enumerate(target.classes)))
    result = validate(as_raw, schema)
    return result.ok and len(result.frame) == len(frame)


def test_a_check_that_is_not_in_the_suite_is_refused(small_split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    # given a check name the suite does not have / when only that check is asked for / then it is an error
    # naming it (a misspelt corruption target must not pass on an empty suite)
    train, test = small_split
    with pytest.raises(ValueError, match="no check named Label Drfit"):
        run_train_test(
            train, test, config=_PARAMS.checks.train_test, seed=1, schema=_SCHEMA, checks=["Label Drfit"]
        )
