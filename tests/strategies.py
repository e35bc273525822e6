"""Hypothesis strategies derived from the declared schema, so every property test speaks the data contract
of whatever dataset the project is set up for (``schema.yaml``)."""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

import pandas as pd
from hypothesis import strategies as st

from mlship.config import load_params
from mlship.data.schema import CategoricalColumn, NumericColumn, Schema, load_schema

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Bounds used for a float feature the schema leaves unbounded (keeps generated values representable).
UNBOUNDED = 1e9


@functools.cache
def project_schema() -> Schema:
    """The project's declared schema (read once, when a strategy is first drawn from)."""
    params = load_params(REPO_ROOT / "params.yaml")
    return load_schema(REPO_ROOT / params.data.schema_path)


def _schema(schema: Schema | None) -> Schema:
    return project_schema() if schema is None else schema


def numeric_values(column: NumericColumn) -> st.SearchStrategy[Any]:
    """Valid values of a number column: integers, finite floats or booleans within the declared range."""
    if column.kind == "boolean":
        return st.booleans()
    if column.kind == "integer":
        low = None if column.minimum is None else math.ceil(column.minimum)
        high = None if column.maximum is None else math.floor(column.maximum)
        return st.integers(min_value=low, max_value=high)
    low_f = -UNBOUNDED if column.minimum is None else column.minimum
    high_f = UNBOUNDED if column.maximum is None else column.maximum
    return st.floats(min_value=low_f, max_value=high_f, allow_nan=False, allow_infinity=False)


def category_values(
    column: CategoricalColumn, *, allow_missing: bool = True
) -> st.SearchStrategy[str | None]:
    known: st.SearchStrategy[str | None] = st.sampled_from(column.categories)
    if column.nullable and allow_missing:
        return st.one_of(known, st.none())
    return known


def feature_values(column: NumericColumn | CategoricalColumn) -> st.SearchStrategy[Any]:
    """Any valid value of a feature, ``None`` included when the feature is nullable."""
    if isinstance(column, CategoricalColumn):
        return category_values(column)
    values = numeric_values(column)
    return st.one_of(values, st.none()) if column.nullable else values


def records(schema: Schema | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """One valid record (features only); nullable features are sometimes missing."""

    def build(resolved: Schema) -> st.SearchStrategy[dict[str, Any]]:
        return st.fixed_dictionaries({column.name: feature_values(column) for column in resolved.features})

    if schema is None:
        return st.deferred(lambda: build(project_schema()))
    return build(schema)


def unseen_categories(column: CategoricalColumn) -> st.SearchStrategy[str]:
    """Text that is not one of the column's categories."""
    return st.text(min_size=1, max_size=20).filter(lambda value: value not in column.categories)


def feature_frames(
    schema: Schema | None = None, min_rows: int = 1, max_rows: int = 30
) -> st.SearchStrategy[pd.DataFrame]:
    """A frame of valid records with the schema's dtypes."""
    return st.lists(records(schema), min_size=min_rows, max_size=max_rows).map(
        lambda rows: to_frame(rows, schema)
    )


def to_frame(rows: list[dict[str, Any]], schema: Schema | None = None) -> pd.DataFrame:
    """Records → a frame with the processed files' dtypes (missing numbers as NaN, categories as objects)."""
    resolved = _schema(schema)
    frame = pd.DataFrame(rows, columns=resolved.feature_names)
    dtypes = resolved.pandas_dtypes()
    for column in resolved.numeric:
        frame[column.name] = frame[column.name].astype(object).astype(dtypes[column.name])  # type: ignore[call-overload]
    for column in resolved.categorical:
        values = frame[column.name].astype(object)
        frame[column.name] = values.where(values.notna(), None)
    return frame


def _json_value(column: NumericColumn | CategoricalColumn, value: Any) -> Any:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(column, CategoricalColumn):
        return value
    if column.kind == "boolean":
        return bool(value)
    return int(value) if column.kind == "integer" else float(value)


def request_records(frame: pd.DataFrame, schema: Schema | None = None) -> list[dict[str, Any]]:
    """The inverse of ``to_frame``: a frame's features as JSON-ready request records (a missing value is
    ``None``; integers, floats and booleans as the matching Python type)."""
    resolved = _schema(schema)
    rows = frame[resolved.feature_names].to_dict("records")
    columns = {column.name: column for column in resolved.features}
    return [{name: _json_value(columns[name], value) for name, value in row.items()} for row in rows]


def column_permutations(schema: Schema | None = None) -> st.SearchStrategy[list[str]]:
    if schema is None:
        return st.deferred(lambda: st.permutations(project_schema().feature_names))
    return st.permutations(schema.feature_names)


def _raw_text(column: NumericColumn | CategoricalColumn, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(column, NumericColumn) and column.kind == "boolean":
        return "true" if value else "false"
    return str(value)


def target_values(schema: Schema | None = None) -> st.SearchStrategy[Any]:
    """Valid raw target values: a declared label (classifiers) or a finite number (regression)."""
    resolved = _schema(schema)
    if resolved.target.is_classifier:
        return st.sampled_from(resolved.target.classes)
    return st.floats(min_value=-UNBOUNDED, max_value=UNBOUNDED, allow_nan=False).map(repr)


def raw_rows(schema: Schema | None = None, max_rows: int = 20) -> st.SearchStrategy[pd.DataFrame]:
    """Valid rows as the raw file holds them: every value a string (or missing), target included."""

    def build(resolved: Schema) -> st.SearchStrategy[pd.DataFrame]:
        columns = {column.name: column for column in resolved.features}

        def as_raw(rows: list[dict[str, Any]], labels: list[str]) -> pd.DataFrame:
            frame = pd.DataFrame(
                [{k: _raw_text(columns[k], v) for k, v in row.items()} for row in rows],
                columns=resolved.feature_names,
                dtype=object,
            )
            frame[resolved.target.name] = labels
            return frame

        return st.integers(min_value=1, max_value=max_rows).flatmap(
            lambda n: st.builds(
                as_raw,
                st.lists(records(resolved), min_size=n, max_size=n),
                st.lists(target_values(resolved), min_size=n, max_size=n),
            )
        )

    if schema is None:
        return st.deferred(lambda: build(project_schema()))
    return build(schema)
