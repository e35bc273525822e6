"""Hypothesis strategies derived from the schema, so every property test speaks the data contract."""

from __future__ import annotations

from typing import Any

import pandas as pd
from hypothesis import strategies as st

from mlship.data.schema import CENSUS, CategoricalColumn, NumericColumn, Schema


def numeric_values(column: NumericColumn) -> st.SearchStrategy[int]:
    return st.integers(min_value=column.minimum, max_value=column.maximum)


def category_values(
    column: CategoricalColumn, *, allow_missing: bool = True
) -> st.SearchStrategy[str | None]:
    known: st.SearchStrategy[str | None] = st.sampled_from(column.categories)
    if column.nullable and allow_missing:
        return st.one_of(known, st.none())
    return known


def records(schema: Schema = CENSUS) -> st.SearchStrategy[dict[str, Any]]:
    """One valid record (features only); nullable categoricals are sometimes missing."""
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for column in schema.features:
        if isinstance(column, NumericColumn):
            fields[column.name] = numeric_values(column)
        else:
            fields[column.name] = category_values(column)
    return st.fixed_dictionaries(fields)


def unseen_categories(column: CategoricalColumn) -> st.SearchStrategy[str]:
    """Text that is not one of the column's categories."""
    return st.text(min_size=1, max_size=20).filter(lambda value: value not in column.categories)


def feature_frames(
    schema: Schema = CENSUS, min_rows: int = 1, max_rows: int = 30
) -> st.SearchStrategy[pd.DataFrame]:
    """A frame of valid records with the schema's dtypes."""
    return st.lists(records(schema), min_size=min_rows, max_size=max_rows).map(
        lambda rows: to_frame(rows, schema)
    )


def to_frame(rows: list[dict[str, Any]], schema: Schema = CENSUS) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=schema.feature_names)
    for column in schema.numeric:
        frame[column.name] = frame[column.name].astype("int64")
    for column in schema.categorical:
        frame[column.name] = frame[column.name].astype(object)
    return frame


def request_records(frame: pd.DataFrame, schema: Schema = CENSUS) -> list[dict[str, Any]]:
    """The inverse of ``to_frame``: a frame's features as JSON-ready request records (a missing value is
    ``None``, a number a Python ``int``)."""
    rows = frame[schema.feature_names].to_dict("records")
    return [
        {
            name: None if pd.isna(value) else int(value) if name in schema.numeric_names else value
            for name, value in row.items()
        }
        for row in rows
    ]


def column_permutations(schema: Schema = CENSUS) -> st.SearchStrategy[list[str]]:
    return st.permutations(schema.feature_names)


def raw_rows(schema: Schema = CENSUS, max_rows: int = 20) -> st.SearchStrategy[pd.DataFrame]:
    """Valid rows as the raw file holds them: every value a string (or missing), target included."""
    label = st.sampled_from([schema.target.positive, schema.target.negative])

    def as_raw(rows: list[dict[str, Any]], labels: list[str]) -> pd.DataFrame:
        frame = pd.DataFrame(
            [{k: (None if v is None else str(v)) for k, v in row.items()} for row in rows],
            columns=schema.feature_names,
            dtype=object,
        )
        frame[schema.target.name] = labels
        return frame

    return st.integers(min_value=1, max_value=max_rows).flatmap(
        lambda n: st.builds(
            as_raw,
            st.lists(records(schema), min_size=n, max_size=n),
            st.lists(label, min_size=n, max_size=n),
        )
    )
