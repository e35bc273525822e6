"""validate accepts every valid row and names column, rule and count for every violation."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from tests.strategies import raw_rows

from mlship.data.schema import CENSUS
from mlship.data.validate import Violation, validate


def _violations(frame: pd.DataFrame) -> dict[tuple[str, str], int]:
    result = validate(frame)
    assert not result.ok
    return {(v.column, v.rule): v.count for v in result.violations}


def test_the_default_data_is_valid(raw_frame: pd.DataFrame) -> None:
    # given the real data / when validated
    result = validate(raw_frame)
    # then it passes, and the typed frame has the canonical layout and dtypes
    assert result.ok
    assert list(result.frame.columns) == CENSUS.columns
    assert len(result.frame) == 32_561
    assert result.frame["age"].dtype == "int64"
    assert set(result.frame["loan"].unique()) == {0, 1}
    assert result.frame["workclass"].isna().sum() == 1836


@given(raw_rows())
def test_any_valid_rows_pass_and_keep_their_values(frame: pd.DataFrame) -> None:
    result = validate(frame)
    assert result.ok, [str(v) for v in result.violations]
    assert result.frame["age"].tolist() == [int(v) for v in frame["age"]]
    expected_labels = (frame["loan"] == CENSUS.target.positive).astype(int).tolist()
    assert result.frame["loan"].tolist() == expected_labels


@pytest.fixture
def sample_raw(raw_frame: pd.DataFrame) -> pd.DataFrame:
    return raw_frame.head(200).copy()


def test_a_missing_column_is_named(sample_raw: pd.DataFrame) -> None:
    assert _violations(sample_raw.drop(columns=["age"])) == {("age", "missing_column"): 200}


def test_a_renamed_column_is_reported_as_missing_and_unexpected(sample_raw: pd.DataFrame) -> None:
    found = _violations(sample_raw.rename(columns={"hours_per_week": "hours"}))
    assert found == {("hours_per_week", "missing_column"): 200, ("hours", "unexpected_column"): 200}


def test_non_numeric_values_are_counted(sample_raw: pd.DataFrame) -> None:
    sample_raw.loc[:4, "capital_gain"] = "lots"
    assert _violations(sample_raw) == {("capital_gain", "not_numeric"): 5}


def test_fractional_values_in_an_integer_column_are_counted(sample_raw: pd.DataFrame) -> None:
    sample_raw.loc[:2, "age"] = "39.5"
    assert _violations(sample_raw) == {("age", "not_integer"): 3}


def test_out_of_range_values_are_counted_with_the_range(sample_raw: pd.DataFrame) -> None:
    sample_raw.loc[:6, "age"] = "500"
    sample_raw.loc[7, "age"] = "3"
    assert _violations(sample_raw) == {("age", "out_of_range[16, 100]"): 8}


def test_unknown_categories_are_counted_with_examples(sample_raw: pd.DataFrame) -> None:
    sample_raw.loc[:9, "gender"] = "Robot"
    result = validate(sample_raw)
    assert result.violations == (Violation("gender", "unknown_category", 10, ("Robot",)),)


def test_missing_values_in_a_required_column_are_counted(sample_raw: pd.DataFrame) -> None:
    sample_raw.loc[:3, "education"] = None
    sample_raw.loc[:1, "age"] = None
    assert _violations(sample_raw) == {("education", "missing_value"): 4, ("age", "missing_value"): 2}


def test_missing_values_in_a_nullable_column_are_allowed(sample_raw: pd.DataFrame) -> None:
    sample_raw.loc[:50, "occupation"] = None
    assert validate(sample_raw).ok


def test_an_unknown_label_is_counted(sample_raw: pd.DataFrame) -> None:
    sample_raw.loc[:1, "loan"] = ">50K."
    assert _violations(sample_raw) == {("loan", "unknown_label"): 2}


def test_every_violation_is_reported_at_once(sample_raw: pd.DataFrame) -> None:
    sample_raw.loc[:1, "age"] = "x"
    sample_raw.loc[:2, "ethnicity"] = "Martian"
    sample_raw["extra"] = "1"
    found = _violations(sample_raw)
    assert found == {
        ("extra", "unexpected_column"): 200,
        ("age", "not_numeric"): 2,
        ("ethnicity", "unknown_category"): 3,
    }


def test_violations_read_as_column_rule_count() -> None:
    text = str(Violation("age", "out_of_range[16, 100]", 7, ("500",)))
    assert text == "age: out_of_range[16, 100]: 7 row(s) (e.g. 500)"
