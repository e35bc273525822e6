"""split is a seeded, stratified partition: nothing lost, nothing shared, always the same."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlship.config import SplitConfig
from mlship.data.split import split


@pytest.fixture(scope="module")
def frame(census: pd.DataFrame) -> pd.DataFrame:
    return census.head(3000).assign(row_id=range(3000))


@given(test_size=st.floats(min_value=0.05, max_value=0.5), seed=st.integers(0, 2**31 - 1))
def test_the_split_is_a_partition_preserving_the_label_rate(
    frame: pd.DataFrame, test_size: float, seed: int
) -> None:
    # given any size and seed / when split
    train, test = split(frame, SplitConfig(test_size=test_size, seed=seed, stratify=True))
    # then every row lands in exactly one part
    assert len(train) + len(test) == len(frame)
    assert set(train["row_id"]).isdisjoint(test["row_id"])
    assert set(train["row_id"]) | set(test["row_id"]) == set(frame["row_id"])
    # and stratification keeps the positive rate within one row's worth
    assert abs(test["loan"].mean() - frame["loan"].mean()) <= 1.0 / len(test) + 1e-9


def test_the_same_seed_gives_the_same_split_and_another_seed_does_not(frame: pd.DataFrame) -> None:
    config = SplitConfig(test_size=0.2, seed=1, stratify=True)
    first, _ = split(frame, config)
    again, _ = split(frame, config)
    other, _ = split(frame, config.model_copy(update={"seed": 2}))
    assert first["row_id"].tolist() == again["row_id"].tolist()
    assert first["row_id"].tolist() != other["row_id"].tolist()


def test_an_unstratified_split_still_partitions(frame: pd.DataFrame) -> None:
    train, test = split(frame, SplitConfig(test_size=0.25, seed=0, stratify=False))
    assert len(test) == 750
    assert len(train) == 2250
