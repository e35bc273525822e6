"""A library of broken datasets, each generated from the real data, and the check expected to catch it.

Raw-level corruptions act on the raw frame (strings, as read from the source) and must be stopped by the
schema validation; split-level corruptions act on the validated train/test frames and must be caught by
the Deepchecks suites. A clean dataset must pass everything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlship.data.schema import CENSUS

Frames = tuple[pd.DataFrame, pd.DataFrame]


@dataclass(frozen=True)
class RawCorruption:
    """Acts on the raw strings; schema validation must stop it."""

    name: str
    apply: Callable[[pd.DataFrame], pd.DataFrame]
    column: str
    rule: str


@dataclass(frozen=True)
class DataCorruption:
    """Acts on the validated data; the data-integrity suite must catch it."""

    name: str
    apply: Callable[[pd.DataFrame], pd.DataFrame]
    check: str
    column: str | None


@dataclass(frozen=True)
class SplitCorruption:
    """Acts on the train/test split; the train-test suite must catch it."""

    name: str
    apply: Callable[[pd.DataFrame, pd.DataFrame], Frames]
    check: str
    column: str | None


def _rng() -> np.random.Generator:
    return np.random.default_rng(20261122)


def rename_column(raw: pd.DataFrame) -> pd.DataFrame:
    return raw.rename(columns={"hours_per_week": "hours"})


def drop_column(raw: pd.DataFrame) -> pd.DataFrame:
    return raw.drop(columns=["education_num"])


def change_dtype(raw: pd.DataFrame) -> pd.DataFrame:
    """An upstream export now writes ages as text with a unit."""
    out = raw.copy()
    out["age"] = out["age"] + " years"
    return out


def unknown_category(raw: pd.DataFrame) -> pd.DataFrame:
    out = raw.copy()
    rows = _rng().choice(len(out), size=300, replace=False)
    out.loc[out.index[rows], "workclass"] = "Gig-economy"
    return out


def out_of_range(raw: pd.DataFrame) -> pd.DataFrame:
    """A unit bug: some ages recorded in months."""
    out = raw.copy()
    rows = _rng().choice(len(out), size=200, replace=False)
    out.loc[out.index[rows], "age"] = (out["age"].iloc[rows].astype(int) * 12).astype(str).to_numpy()
    return out


def missing_required_values(raw: pd.DataFrame) -> pd.DataFrame:
    out = raw.copy()
    out.loc[out.index[:500], "education"] = np.nan
    return out


RAW_CORRUPTIONS = (
    RawCorruption("renamed column", rename_column, "hours_per_week", "missing_column"),
    RawCorruption("missing column", drop_column, "education_num", "missing_column"),
    RawCorruption("dtype change", change_dtype, "age", "not_numeric"),
    RawCorruption("unknown category", unknown_category, "workclass", "unknown_category"),
    RawCorruption("out-of-range values", out_of_range, "age", "out_of_range[16, 100]"),
    RawCorruption("missing required values", missing_required_values, "education", "missing_value"),
)


def swap_numeric_columns(train: pd.DataFrame, test: pd.DataFrame) -> Frames:
    """The silent feature-order bug: test values of two numeric columns swapped under the original names."""
    out = test.copy()
    out[["age", "hours_per_week"]] = test[["hours_per_week", "age"]].to_numpy()
    return train, out


def flood_with_nan(frame: pd.DataFrame) -> pd.DataFrame:
    """A join went wrong: most occupations are missing (the column is nullable, so the schema allows it)."""
    out = frame.copy()
    out.loc[_rng().random(len(out)) < 0.6, "occupation"] = np.nan
    return out


def duplicate_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """An ingestion job ran twice on part of the data."""
    return pd.concat([frame, frame.sample(frac=0.3, random_state=1)], ignore_index=True)


def leak_label(frame: pd.DataFrame) -> pd.DataFrame:
    """A feature computed after the fact: capital gains recorded only for the high earners."""
    out = frame.copy()
    out["capital_gain"] = np.where(out[CENSUS.target.name] == 1, 15_024, 0)
    return out


DATA_CORRUPTIONS = (
    DataCorruption("column flooded with NaN", flood_with_nan, "PercentOfNulls", "occupation"),
    DataCorruption("duplicated rows", duplicate_rows, "Data Duplicates", None),
    DataCorruption("leaked label", leak_label, "Feature Label Correlation", "capital_gain"),
)


def covariate_drift(train: pd.DataFrame, test: pd.DataFrame) -> Frames:
    """The test population is much older than the training one."""
    out = test.copy()
    out["age"] = np.minimum(out["age"] + 20, 100)
    return train, out


def label_drift(train: pd.DataFrame, test: pd.DataFrame) -> Frames:
    """The test set over-represents high earners (60 % instead of 24 %)."""
    positives = test[test[CENSUS.target.name] == 1]
    negatives = test[test[CENSUS.target.name] == 0]
    n_neg = int(len(positives) * 0.4 / 0.6)
    return train, pd.concat([positives, negatives.sample(n=n_neg, random_state=1)], ignore_index=True)


def new_category_in_test(train: pd.DataFrame, test: pd.DataFrame) -> Frames:
    """A category training never contained shows up in test (valid for the schema, unseen by the model)."""
    out = test.copy()
    rows = _rng().random(len(out)) < 0.05
    out.loc[rows, "workclass"] = "Never-worked"
    return train[train["workclass"] != "Never-worked"], out


SPLIT_CORRUPTIONS = (
    SplitCorruption("numeric columns swapped", swap_numeric_columns, "Feature Drift", "age"),
    SplitCorruption("covariate drift", covariate_drift, "Feature Drift", "age"),
    SplitCorruption("label drift", label_drift, "Label Drift", None),
    SplitCorruption("new category in test", new_category_in_test, "New Category Train Test", "workclass"),
)
