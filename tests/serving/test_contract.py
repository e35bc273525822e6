"""The request contract: every valid record is accepted; every kind of invalid record is refused, naming
the field. Pure pydantic, so it runs in milliseconds; tests/test_service.py checks the same over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from tests.strategies import records, unseen_categories

from mlship.data.schema import CENSUS, CategoricalColumn, NumericColumn
from mlship.serving.contract import record_model, schema_description

Record = record_model(CENSUS)


def _error_fields(data: dict[str, Any]) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        Record.model_validate(data)
    return {str(error["loc"][0]) for error in caught.value.errors()}


@given(records())
def test_every_valid_record_is_accepted_unchanged(record: dict[str, Any]) -> None:
    model: BaseModel = Record.model_validate(record)
    assert model.model_dump() == record


@given(records(), st.sampled_from([c for c in CENSUS.categorical if c.nullable]))
def test_nullable_categories_may_be_omitted(record: dict[str, Any], column: CategoricalColumn) -> None:
    del record[column.name]
    assert getattr(Record.model_validate(record), column.name) is None


@given(records(), st.sampled_from(CENSUS.feature_names))
def test_a_missing_required_field_is_named(record: dict[str, Any], name: str) -> None:
    column = CENSUS.column(name)
    del record[name]
    if getattr(column, "nullable", False):
        Record.model_validate(record)
    else:
        assert _error_fields(record) == {name}


@given(records(), st.sampled_from(CENSUS.numeric), st.data())
def test_out_of_range_numbers_are_refused_naming_the_field(
    record: dict[str, Any], column: NumericColumn, data: st.DataObject
) -> None:
    record[column.name] = data.draw(
        st.one_of(st.integers(max_value=column.minimum - 1), st.integers(min_value=column.maximum + 1))
    )
    assert _error_fields(record) == {column.name}


@given(
    records(),
    st.sampled_from(CENSUS.numeric),
    st.one_of(
        st.text(max_size=5), st.floats(allow_nan=True), st.booleans(), st.lists(st.integers(), max_size=2)
    ),
)
def test_non_integers_are_refused_not_coerced(
    record: dict[str, Any], column: NumericColumn, value: object
) -> None:
    record[column.name] = value
    assert _error_fields(record) == {column.name}


@given(records(), st.sampled_from(CENSUS.categorical), st.data())
def test_unknown_categories_are_refused_naming_the_field(
    record: dict[str, Any], column: CategoricalColumn, data: st.DataObject
) -> None:
    record[column.name] = data.draw(unseen_categories(column))
    assert _error_fields(record) == {column.name}


@given(records(), st.text(min_size=1, max_size=12).filter(lambda name: name not in CENSUS.feature_names))
def test_unknown_fields_are_refused_naming_them(record: dict[str, Any], extra: str) -> None:
    record[extra] = 1
    assert _error_fields(record) == {extra}


def test_the_served_schema_describes_every_feature() -> None:
    described = schema_description(CENSUS)
    assert set(described["numeric"]) | set(described["categorical"]) == set(CENSUS.feature_names)
    assert described["target"]["positive"] == ">50K"
