"""A library of broken datasets, each generated from the declared schema and the real data, and the check
expected to catch it.

Raw-level corruptions act on the raw frame (strings, as read from the source) and must be stopped by the
schema validation; data-level corruptions act on the validated frame and split-level ones on the train/test
frames, and must be caught by the Deepchecks suites. Every corruption picks its columns from the schema
("the first bounded number", "the first nullable column", ...); a corruption whose kind of column the schema
does not have is simply not generated, so the library fits any dataset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlship.config import DataIntegrityChecks
from mlship.data.schema import CategoricalColumn, NumericColumn, Schema

Frames = tuple[pd.DataFrame, pd.DataFrame]


@dataclass(frozen=True)
class RawCorruption:
    """Acts on the raw strings; schema validation must stop it with ``rule`` on ``column``."""

    name: str
    apply: Callable[[pd.DataFrame], pd.DataFrame]
    column: str
    rule: str


@dataclass(frozen=True)
class DataCorruption:
    """Acts on the validated data; the data-integrity suite's ``check`` must catch it."""

    name: str
    apply: Callable[[pd.DataFrame], pd.DataFrame]
    check: str
    column: str | None


@dataclass(frozen=True)
class SplitCorruption:
    """Acts on the train/test split; the train-test suite's ``check`` must catch it."""

    name: str
    apply: Callable[[pd.DataFrame, pd.DataFrame], Frames]
    check: str
    columns: tuple[str, ...] = ()


def _rng() -> np.random.Generator:
    return np.random.default_rng(20261122)


def _rows(frame: pd.DataFrame, share: float) -> np.ndarray:
    """A fixed random choice of about ``share`` of the rows (at least one)."""
    size = max(1, round(len(frame) * share))
    return _rng().choice(len(frame), size=size, replace=False)


def range_rule(column: NumericColumn) -> str:
    """The rule validation reports for a value outside the declared range: ``out_of_range[min, max]``."""

    def show(bound: float | None, missing: str) -> str:
        if bound is None:
            return missing
        return str(int(bound)) if float(bound).is_integer() else repr(float(bound))

    return f"out_of_range[{show(column.minimum, '-inf')}, {show(column.maximum, 'inf')}]"


def _numbers(schema: Schema) -> list[NumericColumn]:
    """Numeric features that are not booleans."""
    return [c for c in schema.numeric if c.kind != "boolean"]


def _span(column: NumericColumn) -> float:
    if column.minimum is None or column.maximum is None:
        return float("inf")
    return column.maximum - column.minimum


def _as_kind(values: np.ndarray, column: NumericColumn) -> np.ndarray:
    return np.round(values) if column.kind == "integer" else values


# --- raw-level: schema validation must stop these ------------------------------------------------------


def raw_corruptions(schema: Schema) -> tuple[RawCorruption, ...]:
    """Every raw corruption the schema has columns for."""
    found: list[RawCorruption] = []
    first = schema.feature_names[0]
    renamed = f"{first}_renamed"
    found.append(
        RawCorruption(
            "renamed column", lambda raw: raw.rename(columns={first: renamed}), first, "missing_column"
        )
    )

    dropped = (_numbers(schema) or list(schema.features))[-1].name
    found.append(
        RawCorruption("missing column", lambda raw: raw.drop(columns=[dropped]), dropped, "missing_column")
    )

    if schema.numeric:
        number = (_numbers(schema) or list(schema.numeric))[0]

        def change_dtype(raw: pd.DataFrame) -> pd.DataFrame:
            """An upstream export now writes the numbers as text with a unit."""
            out = raw.copy()
            present = out[number.name].notna()
            out.loc[present, number.name] = out.loc[present, number.name] + " units"
            return out

        rule = "not_boolean" if number.kind == "boolean" else "not_numeric"
        found.append(RawCorruption("dtype change", change_dtype, number.name, rule))

    bounded = [c for c in _numbers(schema) if c.maximum is not None or c.minimum is not None]
    if bounded:
        column = bounded[0]

        def out_of_range(raw: pd.DataFrame) -> pd.DataFrame:
            """A unit bug: some values recorded in a unit twelve times smaller (months for years)."""
            out = raw.copy()
            rows = _rows(out, 0.01)
            outside = (
                column.maximum + max(abs(column.maximum), 1.0) * 11
                if column.maximum is not None
                else column.minimum - max(abs(column.minimum or 0.0), 1.0) * 11  # type: ignore[operator]
            )
            text = str(int(outside)) if column.kind == "integer" else repr(float(outside))
            out.loc[out.index[rows], column.name] = text
            return out

        found.append(RawCorruption("out-of-range values", out_of_range, column.name, range_rule(column)))

    if schema.categorical:
        category = schema.categorical[0]
        unknown = "-".join(category.categories) + "-new"

        def unknown_category(raw: pd.DataFrame) -> pd.DataFrame:
            """A new category appears upstream that the schema (and the model) never heard of."""
            out = raw.copy()
            out.loc[out.index[_rows(out, 0.01)], category.name] = unknown
            return out

        found.append(RawCorruption("unknown category", unknown_category, category.name, "unknown_category"))

    required = [c for c in schema.features if not c.nullable]
    if required:
        needed = (required[-1]).name

        def missing_required_values(raw: pd.DataFrame) -> pd.DataFrame:
            out = raw.copy()
            out.loc[out.index[_rows(out, 0.015)], needed] = np.nan
            return out

        found.append(
            RawCorruption("missing required values", missing_required_values, needed, "missing_value")
        )

    target = schema.target
    if target.is_classifier:
        bad_label = f"{target.classes[-1]}."

        def unknown_label(raw: pd.DataFrame) -> pd.DataFrame:
            """Another export spells a label differently (a trailing full stop)."""
            out = raw.copy()
            out.loc[out.index[_rows(out, 0.01)], target.name] = bad_label
            return out

        found.append(RawCorruption("unknown label", unknown_label, target.name, "unknown_label"))
    else:

        def text_target(raw: pd.DataFrame) -> pd.DataFrame:
            """Some targets arrive as text."""
            out = raw.copy()
            out.loc[out.index[_rows(out, 0.01)], target.name] = "unknown"
            return out

        found.append(RawCorruption("non-numeric target", text_target, target.name, "not_numeric_target"))
    return tuple(found)


# --- data-level: the data-integrity suite must catch these ----------------------------------------------


def data_corruptions(schema: Schema, config: DataIntegrityChecks) -> tuple[DataCorruption, ...]:
    """Corruptions the schema allows (so only the statistical checks can see them)."""
    found: list[DataCorruption] = []
    nullable = [c for c in schema.features if c.nullable]
    if nullable:
        flooded = nullable[-1].name
        share = config.max_null_ratio + (1 - config.max_null_ratio) / 2

        def flood_with_nan(frame: pd.DataFrame) -> pd.DataFrame:
            """A join went wrong: most values of a nullable column are missing (the schema allows it)."""
            out = frame.copy()
            out.loc[_rng().random(len(out)) < share, flooded] = np.nan
            return out

        found.append(DataCorruption("column flooded with NaN", flood_with_nan, "PercentOfNulls", flooded))

    excess = 2 * config.max_duplicate_ratio / (1 - config.max_duplicate_ratio) + 0.05

    def duplicate_rows(frame: pd.DataFrame) -> pd.DataFrame:
        """An ingestion job ran twice on part of the data."""
        copies = frame.sample(n=min(len(frame), round(len(frame) * excess)), random_state=1)
        return pd.concat([frame, copies], ignore_index=True)

    found.append(DataCorruption("duplicated rows", duplicate_rows, "Data Duplicates", None))

    numbers = _numbers(schema)
    if numbers:
        leaky = max(numbers, key=_span)  # the widest range has room for a value per class
        target = schema.target

        def leak_label(frame: pd.DataFrame) -> pd.DataFrame:
            """A feature computed after the fact: it encodes the label, within its declared range."""
            out = frame.copy()
            low, high = float(out[leaky.name].min()), float(out[leaky.name].max())
            label = out[target.name].to_numpy()
            if target.is_classifier:
                levels = np.linspace(low, high, len(target.classes))
                values = levels[label]
            else:
                ranks = pd.Series(label).rank(pct=True).to_numpy()
                values = low + (high - low) * ranks
            out[leaky.name] = _as_kind(values, leaky).astype(out[leaky.name].dtype)
            return out

        found.append(DataCorruption("leaked label", leak_label, "Feature Label Correlation", leaky.name))
    return tuple(found)


# --- split-level: the train-test suite must catch these -------------------------------------------------


def split_corruptions(schema: Schema) -> tuple[SplitCorruption, ...]:
    found: list[SplitCorruption] = []
    numbers = _numbers(schema)
    if len(numbers) >= 2:
        first = numbers[0]
        # the partner: the first other number declared with a different range (else simply the next one)
        other = next((c for c in numbers[1:] if _span(c) != _span(first)), numbers[1])

        def swap_numeric_columns(train: pd.DataFrame, test: pd.DataFrame) -> Frames:
            """The silent feature-order bug: test values of two numeric columns swapped under their names."""
            out = test.copy()
            out[[first.name, other.name]] = test[[other.name, first.name]].to_numpy()
            return train, out

        found.append(
            SplitCorruption("numeric columns swapped", swap_numeric_columns, "Feature Drift", (first.name,))
        )

    if numbers:
        drifting = numbers[0]

        def covariate_drift(train: pd.DataFrame, test: pd.DataFrame) -> Frames:
            """The test population moved: a number shifted up by half its observed spread (within range)."""
            out = test.copy()
            values = train[drifting.name]
            shift = (values.max() - values.min()) / 2
            upper = np.inf if drifting.maximum is None else drifting.maximum
            out[drifting.name] = _as_kind(np.minimum(out[drifting.name] + shift, upper), drifting).astype(
                out[drifting.name].dtype
            )
            return train, out

        found.append(SplitCorruption("covariate drift", covariate_drift, "Feature Drift", (drifting.name,)))

    target = schema.target.name
    if schema.target.is_classifier:

        def label_drift(train: pd.DataFrame, test: pd.DataFrame) -> Frames:
            """The test set over-represents the rarest class (60 % of the rows)."""
            rare = train[target].value_counts().idxmin()
            chosen = test[test[target] == rare]
            rest = test[test[target] != rare]
            n_rest = min(len(rest), int(len(chosen) * 0.4 / 0.6))
            return train, pd.concat([chosen, rest.sample(n=n_rest, random_state=1)], ignore_index=True)

        def new_label_in_test(train: pd.DataFrame, test: pd.DataFrame) -> Frames:
            """Training lost a whole class (a filter upstream), the test set still has it."""
            rare = train[target].value_counts().idxmin()
            return train[train[target] != rare], test

        found.append(SplitCorruption("new label in test", new_label_in_test, "New Label Train Test"))
    else:

        def label_drift(train: pd.DataFrame, test: pd.DataFrame) -> Frames:
            """The test set holds only the top third of the target values."""
            return train, test[test[target] >= test[target].quantile(2 / 3)].reset_index(drop=True)

    found.append(SplitCorruption("label drift", label_drift, "Label Drift"))

    categorical = [c for c in schema.categorical if len(c.categories) >= 2]
    if categorical:
        column: CategoricalColumn = categorical[0]

        def new_category_in_test(train: pd.DataFrame, test: pd.DataFrame) -> Frames:
            """A category training never contained shows up in test (valid for the schema, unseen by the
            model): the rarest category seen in training is filtered out of it and spreads in test."""
            rarest = train[column.name].value_counts().idxmin()
            out = test.copy()
            out.loc[_rng().random(len(out)) < 0.05, column.name] = rarest
            return train[train[column.name] != rarest], out

        found.append(
            SplitCorruption(
                "new category in test", new_category_in_test, "New Category Train Test", (column.name,)
            )
        )
    return tuple(found)
