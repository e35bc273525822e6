"""split is a seeded partition, stratified by class for classifiers: nothing lost, nothing shared, always
the same. Runs on a sample of the declared data and on rows generated from the schema."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import raw_rows

from mlship.config import Params, SplitConfig
from mlship.data.schema import Schema
from mlship.data.split import split
from mlship.data.validate import validate

_ROW_ID = "_row_id"


@pytest.fixture(scope="module")
def frame(dataset: pd.DataFrame) -> pd.DataFrame:
    """Up to 3,000 rows of the real data, each tagged with an id the schema does not know."""
    rows = dataset.sample(n=min(3000, len(dataset)), random_state=0).reset_index(drop=True)
    return rows.assign(**{_ROW_ID: range(len(rows))})


def _assert_partition(frame: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame) -> None:
    assert len(train) + len(test) == len(frame)
    assert set(train[_ROW_ID]).isdisjoint(test[_ROW_ID])
    assert set(train[_ROW_ID]) | set(test[_ROW_ID]) == set(frame[_ROW_ID])
    # and every row arrives intact
    merged = pd.concat([train, test]).sort_values(_ROW_ID).reset_index(drop=True)
    pd.testing.assert_frame_equal(merged, frame.sort_values(_ROW_ID).reset_index(drop=True))


@given(test_size=st.floats(min_value=0.05, max_value=0.5), seed=st.integers(0, 2**31 - 1))
def test_the_split_is_a_partition_preserving_the_class_shares(
    frame: pd.DataFrame, schema: Schema, test_size: float, seed: int
) -> None:
    # given any size and seed / when split with stratification
    train, test = split(frame, SplitConfig(test_size=test_size, seed=seed, stratify=True), schema)
    # then every row lands in exactly one part
    _assert_partition(frame, train, test)
    assert len(test) == math.ceil(test_size * len(frame))
    target = schema.target.name
    if schema.target.is_classifier:
        # and stratification keeps each class's share of the test set within one row's worth
        shares = frame[target].value_counts(normalize=True)
        test_shares = test[target].value_counts(normalize=True).reindex(shares.index, fill_value=0.0)
        assert ((test_shares - shares).abs() <= 1.0 / len(test) + 1e-9).all()
    else:
        # and a continuous target is not stratified: the split is the unstratified one
        plain, _ = split(frame, SplitConfig(test_size=test_size, seed=seed, stratify=False), schema)
        assert train[_ROW_ID].tolist() == plain[_ROW_ID].tolist()


@given(rows=raw_rows(max_rows=40).filter(lambda rows: len(rows) >= 2), seed=st.integers(0, 2**31 - 1))
def test_any_valid_rows_split_without_loss(schema: Schema, rows: pd.DataFrame, seed: int) -> None:
    # given any two or more valid rows (typed by validation), unstratified (a class may be too rare)
    typed = validate(rows, schema).frame
    typed = typed.assign(**{_ROW_ID: range(len(typed))})
    # when split / then it is a partition of the rows, values untouched
    train, test = split(typed, SplitConfig(test_size=0.5, seed=seed, stratify=False), schema)
    _assert_partition(typed, train, test)
    assert list(train.columns) == list(typed.columns)


def test_the_same_seed_gives_the_same_split_and_another_seed_does_not(
    frame: pd.DataFrame, schema: Schema
) -> None:
    config = SplitConfig(test_size=0.2, seed=1, stratify=True)
    first, _ = split(frame, config, schema)
    again, _ = split(frame, config, schema)
    other, _ = split(frame, config.model_copy(update={"seed": 2}), schema)
    assert first[_ROW_ID].tolist() == again[_ROW_ID].tolist()
    assert first[_ROW_ID].tolist() != other[_ROW_ID].tolist()


def test_an_unstratified_split_still_partitions(frame: pd.DataFrame, schema: Schema) -> None:
    train, test = split(frame, SplitConfig(test_size=0.25, seed=0, stratify=False), schema)
    _assert_partition(frame, train, test)
    assert len(test) == math.ceil(0.25 * len(frame))
    assert len(train) == len(frame) - len(test)


def test_the_project_split_puts_every_class_on_both_sides(
    split_frames: tuple[pd.DataFrame, pd.DataFrame], dataset: pd.DataFrame, params: Params, schema: Schema
) -> None:
    # given the split the pipeline makes with the project's params
    train, test = split_frames
    # then nothing is lost and the test share is the configured one
    assert len(train) + len(test) == len(dataset)
    assert len(test) == math.ceil(params.split.test_size * len(dataset))
    if schema.target.is_classifier and params.split.stratify:
        # and every class common enough to fall on both sides (two test rows' worth) is on both sides
        counts = dataset[schema.target.name].value_counts()
        classes = set(counts[counts >= 2 / params.split.test_size].index)
        assert classes
        assert classes <= set(train[schema.target.name])
        assert classes <= set(test[schema.target.name])
