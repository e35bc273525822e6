"""The request contract: every valid record is accepted; every kind of invalid record is refused, naming
the field. Pure pydantic, so it runs in milliseconds; tests/test_service.py checks the same over HTTP."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from tests.strategies import project_schema, records, unseen_categories

from mlship.data.schema import CategoricalColumn, NumericColumn
from mlship.serving.contract import example_record, record_model, schema_description

SCHEMA = project_schema()
Record = record_model(SCHEMA)
BOUNDED = [
    c for c in SCHEMA.numeric if c.kind != "boolean" and (c.minimum is not None or c.maximum is not None)
]


def _error_fields(data: dict[str, Any]) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        Record.model_validate(data)
    return {str(error["loc"][0]) for error in caught.value.errors()}


@given(records())
def test_every_valid_record_is_accepted_unchanged(record: dict[str, Any]) -> None:
    model: BaseModel = Record.model_validate(record)
    assert model.model_dump() == record


@given(records(), st.sampled_from([c for c in SCHEMA.features if c.nullable] or [None]))
def test_nullable_features_may_be_omitted(record: dict[str, Any], column: CategoricalColumn | None) -> None:
    if column is None:  # the schema declares no nullable feature: every field is required
        assert _error_fields({}) == set(SCHEMA.feature_names)
        return
    del record[column.name]
    assert getattr(Record.model_validate(record), column.name) is None


@given(records(), st.sampled_from(SCHEMA.feature_names))
def test_a_missing_required_field_is_named(record: dict[str, Any], name: str) -> None:
    column = SCHEMA.column(name)
    del record[name]
    if getattr(column, "nullable", False):
        Record.model_validate(record)
    else:
        assert _error_fields(record) == {name}


def _outside(column: NumericColumn) -> st.SearchStrategy[Any]:
    """Numbers of the column's kind just outside (or far outside) its declared range."""
    sides: list[st.SearchStrategy[Any]] = []
    if column.kind == "integer":
        if column.minimum is not None:
            sides.append(st.integers(max_value=math.ceil(column.minimum) - 1))
        if column.maximum is not None:
            sides.append(st.integers(min_value=math.floor(column.maximum) + 1))
    else:
        if column.minimum is not None:
            sides.append(
                st.floats(max_value=column.minimum, exclude_max=True, allow_nan=False, allow_infinity=False)
            )
        if column.maximum is not None:
            sides.append(
                st.floats(min_value=column.maximum, exclude_min=True, allow_nan=False, allow_infinity=False)
            )
    return st.one_of(*sides)


@given(records(), st.sampled_from(BOUNDED or [None]), st.data())
def test_out_of_range_numbers_are_refused_naming_the_field(
    record: dict[str, Any], column: NumericColumn | None, data: st.DataObject
) -> None:
    if column is None:  # no bounded number in this schema: any finite number is in range
        return
    record[column.name] = data.draw(_outside(column))
    assert _error_fields(record) == {column.name}


def _not_of_kind(column: NumericColumn) -> st.SearchStrategy[Any]:
    """Values JSON could carry that are not this column's kind: text, lists, and the other number types."""
    others: list[st.SearchStrategy[Any]] = [st.text(max_size=5), st.lists(st.integers(), max_size=2)]
    if column.kind == "integer":
        others += [st.floats().filter(lambda v: not float(v).is_integer()), st.booleans()]
    elif column.kind == "float":
        others += [st.booleans(), st.sampled_from([float("nan"), float("inf"), float("-inf")])]
    else:
        others += [st.integers(), st.floats()]
    return st.one_of(*others)


@given(records(), st.sampled_from(SCHEMA.numeric or [None]), st.data())
def test_values_of_another_type_are_refused_not_coerced(
    record: dict[str, Any], column: NumericColumn | None, data: st.DataObject
) -> None:
    if column is None:
        return
    record[column.name] = data.draw(_not_of_kind(column))
    assert _error_fields(record) == {column.name}


@given(records(), st.sampled_from(SCHEMA.categorical or [None]), st.data())
def test_unknown_categories_are_refused_naming_the_field(
    record: dict[str, Any], column: CategoricalColumn | None, data: st.DataObject
) -> None:
    if column is None:
        return
    record[column.name] = data.draw(unseen_categories(column))
    assert _error_fields(record) == {column.name}


@given(records(), st.text(min_size=1, max_size=12).filter(lambda name: name not in SCHEMA.feature_names))
def test_unknown_fields_are_refused_naming_them(record: dict[str, Any], extra: str) -> None:
    record[extra] = 1
    assert _error_fields(record) == {extra}


def test_the_served_schema_describes_every_feature() -> None:
    described = schema_description(SCHEMA)
    assert set(described["numeric"]) | set(described["categorical"]) == set(SCHEMA.feature_names)
    assert described["target"]["name"] == SCHEMA.target.name
    assert described["target"]["task"] == SCHEMA.task
    if SCHEMA.task == "binary":
        assert described["target"]["positive"] == SCHEMA.target.positive


def test_the_example_record_is_valid() -> None:
    record = example_record(SCHEMA)
    assert Record.model_validate(record).model_dump() == record
