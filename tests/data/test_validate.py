"""validate accepts every valid row and names column, rule and count for every violation.

Columns, ranges, categories and labels all come from the declared schema: each rule is exercised on every
column it applies to, whatever the dataset.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.corruptions import range_rule
from tests.strategies import project_schema, raw_rows, unseen_categories

from mlship.data.schema import CategoricalColumn, NumericColumn, Schema
from mlship.data.validate import Violation, exact_numbers, validate

_SCHEMA = project_schema()
#: A validated number is exactly the one written in the file (no tolerance).
_PARSE_RTOL = 0.0
_NUMERIC = [c for c in _SCHEMA.numeric if c.kind != "boolean"]
_INTEGER = [
    c
    for c in _NUMERIC
    if c.kind == "integer" and (c.minimum is None or c.maximum is None or c.maximum > c.minimum)
]
_BOUNDED = [c for c in _NUMERIC if c.minimum is not None or c.maximum is not None]
_REQUIRED = [c for c in _SCHEMA.features if not c.nullable]
_NULLABLE = [c for c in _SCHEMA.features if c.nullable]


def _ids(column: NumericColumn | CategoricalColumn) -> str:
    return column.name


def _violations(frame: pd.DataFrame, schema: Schema) -> dict[tuple[str, str], int]:
    result = validate(frame, schema)
    assert not result.ok
    return {(v.column, v.rule): v.count for v in result.violations}


def _text(value: float, column: NumericColumn) -> str:
    return str(int(value)) if column.kind == "integer" else repr(float(value))


def test_the_declared_data_is_valid(raw_frame: pd.DataFrame, schema: Schema) -> None:
    # given the real data / when validated
    result = validate(raw_frame, schema)
    # then it passes, and the typed frame has the canonical layout and dtypes, with no row lost
    assert result.ok, [str(v) for v in result.violations]
    frame = result.frame
    assert list(frame.columns) == schema.columns
    assert len(frame) == len(raw_frame) == result.rows
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == schema.pandas_dtypes()
    # and missing values stay missing, where the schema allows them and nowhere else
    for column in schema.features:
        assert frame[column.name].isna().sum() == raw_frame[column.name].isna().sum()
        if not column.nullable:
            assert frame[column.name].notna().all()
    # and the target is encoded for the task
    target = frame[schema.target.name]
    if schema.target.is_classifier:
        assert set(target.unique()) <= set(range(len(schema.target.classes)))
        expected = raw_frame[schema.target.name].map(
            {label: i for i, label in enumerate(schema.target.classes)}
        )
        assert target.tolist() == expected.tolist()
    else:
        assert np.isfinite(target).all()


@given(raw_rows())
def test_any_valid_rows_pass_and_keep_their_values(frame: pd.DataFrame) -> None:
    schema = _SCHEMA
    # given any rows the schema allows / when validated
    result = validate(frame, schema)
    # then they pass, and every value survives typing
    assert result.ok, [str(v) for v in result.violations]
    for column in schema.numeric:
        raw = frame[column.name]
        if column.kind == "boolean":
            expected = [np.nan if v is None else float(v == "true") for v in raw]
        else:
            expected = [np.nan if v is None else float(v) for v in raw]
        np.testing.assert_allclose(
            result.frame[column.name].to_numpy(dtype=float), expected, rtol=_PARSE_RTOL, atol=0
        )
    for column in schema.categorical:
        assert result.frame[column.name].tolist() == frame[column.name].tolist()
    target = frame[schema.target.name]
    if schema.target.is_classifier:
        assert result.frame[schema.target.name].tolist() == [schema.target.classes.index(v) for v in target]
    else:
        np.testing.assert_allclose(
            result.frame[schema.target.name], [float(v) for v in target], rtol=_PARSE_RTOL, atol=0
        )


@pytest.fixture
def sample_raw(raw_frame: pd.DataFrame) -> pd.DataFrame:
    return raw_frame.head(200).copy()


def test_a_missing_column_is_named(sample_raw: pd.DataFrame, schema: Schema) -> None:
    # given the data without its first feature
    first = schema.feature_names[0]
    # when validated / then the column is named as missing, for every row
    assert _violations(sample_raw.drop(columns=[first]), schema) == {
        (first, "missing_column"): len(sample_raw)
    }


def test_a_missing_target_is_named(sample_raw: pd.DataFrame, schema: Schema) -> None:
    name = schema.target.name
    assert _violations(sample_raw.drop(columns=[name]), schema) == {(name, "missing_column"): len(sample_raw)}


def test_a_renamed_column_is_reported_as_missing_and_unexpected(
    sample_raw: pd.DataFrame, schema: Schema
) -> None:
    # given the last feature renamed upstream
    last = schema.feature_names[-1]
    renamed = f"{last}_renamed"
    # when validated / then the old name is missing and the new one unexpected
    found = _violations(sample_raw.rename(columns={last: renamed}), schema)
    assert found == {
        (last, "missing_column"): len(sample_raw),
        (renamed, "unexpected_column"): len(sample_raw),
    }


@pytest.mark.parametrize("column", _SCHEMA.numeric, ids=_ids)
def test_non_numeric_values_are_counted(
    sample_raw: pd.DataFrame, schema: Schema, column: NumericColumn
) -> None:
    # given five values that are not numbers in a number column
    sample_raw.loc[:4, column.name] = "lots"
    # when validated / then exactly those are counted, under the column's rule
    rule = "not_boolean" if column.kind == "boolean" else "not_numeric"
    assert _violations(sample_raw, schema) == {(column.name, rule): 5}


@pytest.mark.parametrize("column", _INTEGER, ids=_ids)
def test_fractional_values_in_an_integer_column_are_counted(
    sample_raw: pd.DataFrame, schema: Schema, column: NumericColumn
) -> None:
    # given three in-range values with a fraction in an integer column
    base = (
        column.minimum
        if column.minimum is not None
        else (column.maximum - 1 if column.maximum is not None else 0)
    )
    sample_raw.loc[:2, column.name] = repr(float(base) + 0.5)
    # when validated / then they are counted as not integers (and nothing else)
    assert _violations(sample_raw, schema) == {(column.name, "not_integer"): 3}


@pytest.mark.parametrize("column", _BOUNDED, ids=_ids)
def test_out_of_range_values_are_counted_with_the_range(
    sample_raw: pd.DataFrame, schema: Schema, column: NumericColumn
) -> None:
    # given values beyond each declared bound
    outside = []
    if column.maximum is not None:
        outside.append(column.maximum + max(abs(column.maximum), 1) * 4)
    if column.minimum is not None:
        outside.append(column.minimum - 1)
    sample_raw.loc[:6, column.name] = _text(outside[0], column)
    sample_raw.loc[7, column.name] = _text(outside[-1], column)
    # when validated / then they are counted under a rule that shows the range
    assert _violations(sample_raw, schema) == {(column.name, range_rule(column)): 8}


@pytest.mark.parametrize("column", _BOUNDED, ids=_ids)
def test_the_bounds_themselves_are_valid(
    sample_raw: pd.DataFrame, schema: Schema, column: NumericColumn
) -> None:
    # given a value exactly on each declared bound (the range is inclusive)
    bounds = [b for b in (column.minimum, column.maximum) if b is not None]
    for row, bound in enumerate(bounds):
        sample_raw.loc[row, column.name] = _text(bound, column)
    # when validated / then nothing is reported
    result = validate(sample_raw, schema)
    assert result.ok, [str(v) for v in result.violations]


@given(data=st.data())
def test_any_value_outside_a_declared_range_is_caught(raw_frame: pd.DataFrame, data: st.DataObject) -> None:
    schema = _SCHEMA
    if not _BOUNDED:
        # a schema without a bounded number has no range to break: every number is accepted
        assert all(c.minimum is None and c.maximum is None for c in _NUMERIC)
        return
    # given one value just outside or far outside a declared bound of any bounded column
    column = data.draw(st.sampled_from(_BOUNDED), label="column")
    sides = [s for s, b in (("high", column.maximum), ("low", column.minimum)) if b is not None]
    side = data.draw(st.sampled_from(sides), label="side")
    step = data.draw(
        st.integers(1, 10**6) if column.kind == "integer" else st.floats(1e-6, 1e6, allow_nan=False),
        label="step",
    )
    value = column.maximum + step if side == "high" else column.minimum - step  # type: ignore[operator]
    frame = raw_frame.head(20).copy()
    row = data.draw(st.integers(0, len(frame) - 1), label="row")
    frame.loc[row, column.name] = _text(value, column)
    # when validated / then that one value is reported, with the range
    assert _violations(frame, schema) == {(column.name, range_rule(column)): 1}


@pytest.mark.parametrize("column", _SCHEMA.categorical, ids=_ids)
@given(data=st.data())
def test_unknown_categories_are_counted_with_examples(
    raw_frame: pd.DataFrame, column: CategoricalColumn, data: st.DataObject
) -> None:
    # given ten rows holding a category the schema does not know
    unknown = data.draw(unseen_categories(column))
    frame = raw_frame.head(50).copy()
    frame.loc[:9, column.name] = unknown
    # when validated / then exactly those rows are reported, with the value as an example
    result = validate(frame, _SCHEMA)
    assert result.violations == (Violation(column.name, "unknown_category", 10, (unknown,)),)


def test_missing_values_in_required_columns_are_counted(sample_raw: pd.DataFrame, schema: Schema) -> None:
    if not _REQUIRED:
        # every feature is nullable: a missing value is never a violation
        assert validate(sample_raw.assign(**dict.fromkeys(schema.feature_names)), schema).ok
        return
    # given a different number of missing values in each required column
    for i, column in enumerate(_REQUIRED):
        sample_raw.loc[: i % 5, column.name] = None
    # when validated / then each is counted under its own column
    expected = {(column.name, "missing_value"): i % 5 + 1 for i, column in enumerate(_REQUIRED)}
    assert _violations(sample_raw, schema) == expected


@pytest.mark.parametrize("column", _NULLABLE, ids=_ids)
def test_missing_values_in_a_nullable_column_are_allowed(
    sample_raw: pd.DataFrame, schema: Schema, column: NumericColumn | CategoricalColumn
) -> None:
    # given a quarter of a nullable column missing / when validated / then it passes, the gaps kept
    sample_raw.loc[:50, column.name] = None
    result = validate(sample_raw, schema)
    assert result.ok, [str(v) for v in result.violations]
    assert result.frame[column.name].iloc[:51].isna().all()


def test_an_invalid_target_is_counted(sample_raw: pd.DataFrame, schema: Schema) -> None:
    name = schema.target.name
    if schema.target.is_classifier:
        # given two rows with a label the schema does not declare (a near miss of a real one)
        bad = f"{schema.target.classes[-1]}."
        rule = "unknown_label"
    else:
        # given two rows whose target is not a number
        bad = "n/a-value"
        rule = "not_numeric_target"
    sample_raw.loc[:1, name] = bad
    # when validated / then both are counted under the target's name
    result = validate(sample_raw, schema)
    assert result.violations == (Violation(name, rule, 2, (bad,)),)


def test_a_missing_target_value_is_counted(sample_raw: pd.DataFrame, schema: Schema) -> None:
    sample_raw.loc[:2, schema.target.name] = None
    rule = "unknown_label" if schema.target.is_classifier else "not_numeric_target"
    assert _violations(sample_raw, schema) == {(schema.target.name, rule): 3}


def test_every_violation_is_reported_at_once(sample_raw: pd.DataFrame, schema: Schema) -> None:
    # given several problems in different columns, and a column the schema does not know
    expected: dict[tuple[str, str], int] = {}
    if schema.numeric:
        number = schema.numeric[0]
        sample_raw.loc[:1, number.name] = "x"
        expected[(number.name, "not_boolean" if number.kind == "boolean" else "not_numeric")] = 2
    if schema.categorical:
        category = schema.categorical[-1]
        sample_raw.loc[:2, category.name] = "".join(category.categories) + "?"
        expected[(category.name, "unknown_category")] = 3
    extra = "_".join(schema.columns) + "_extra"
    sample_raw[extra] = "1"
    expected[(extra, "unexpected_column")] = len(sample_raw)
    # when validated / then all of them are reported together
    assert _violations(sample_raw, schema) == expected


def test_an_invalid_frame_is_returned_unchanged(sample_raw: pd.DataFrame, schema: Schema) -> None:
    # given broken data / when validated / then nothing is typed or dropped: the caller gets its input back
    first = schema.feature_names[0]
    broken = sample_raw.drop(columns=[first])
    result = validate(broken, schema)
    assert not result.ok
    pd.testing.assert_frame_equal(result.frame, broken)
    assert result.rows == len(broken)


def test_violations_read_as_column_rule_count() -> None:
    text = str(Violation("some_column", "out_of_range[16, 100]", 7, ("500",)))
    assert text == "some_column: out_of_range[16, 100]: 7 row(s) (e.g. 500)"


def test_the_range_rule_formats_fractional_and_open_bounds() -> None:
    column = NumericColumn(name="x", kind="float", min=0.5)
    assert range_rule(column) == "out_of_range[0.5, inf]"
    frame = pd.DataFrame({"x": ["0.25"], "y": ["a"]})
    schema = Schema.model_validate(
        {
            "target": {"name": "y", "task": "binary", "labels": ["a", "b"], "positive": "b"},
            "features": [{"name": "x", "kind": "float", "min": 0.5}],
        }
    )
    assert {v.rule for v in validate(frame, schema).violations} == {"out_of_range[0.5, inf]"}


@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_any_written_float_is_read_back_exactly(value: float) -> None:
    # pandas' fast parser alone is off in the last bits for some decimal texts
    parsed = exact_numbers(pd.Series([repr(value), f" {value!r} "]))
    assert parsed.tolist() == [value, value]
