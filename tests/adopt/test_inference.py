"""Schema inference: any frame of text values gives a schema that the same frame validates against, with
kinds, ranges, categories and nullability that describe it; the target's task and labels follow the
documented rules; what cannot be adopted is refused, naming the column."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlship.adopt.errors import AdoptError
from mlship.adopt.inference import (
    MAX_CATEGORIES,
    MAX_CLASSES,
    MAX_WHOLE,
    infer_feature,
    infer_schema,
    infer_target,
    positive_label,
)
from mlship.adopt.writing import render_schema
from mlship.data.schema import FALSE_TEXT, TRUE_TEXT, CategoricalColumn, NumericColumn, Reader
from mlship.data.validate import validate

TARGET = "outcome"

_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=0, max_size=6)
_BOOLEAN_WORDS = st.sampled_from(["yes", "No", "TRUE", "false", "1", "0", "y", "N", " t ", "F"])
_INTEGERS = st.integers(min_value=-(10**12), max_value=10**12).map(str)
_FLOATS = st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr)
_CATEGORIES = st.sampled_from(["red", "green", "blue", "Yes?", "n/a", " padded", "12a"])


def _column(rows: int) -> st.SearchStrategy[list[str | None]]:
    """One column of raw text: homogeneous (one kind of value) or mixed, with or without missing values."""
    value = st.one_of(
        st.just(_BOOLEAN_WORDS),
        st.just(_INTEGERS),
        st.just(_FLOATS),
        st.just(_CATEGORIES),
        st.just(st.one_of(_INTEGERS, _FLOATS, _CATEGORIES, _TEXT)),
    )
    return value.flatmap(
        lambda values: st.lists(st.one_of(values, st.none()), min_size=rows, max_size=rows).filter(
            lambda column: any(v is not None for v in column)
        )
    )


def _target(rows: int) -> st.SearchStrategy[list[str]]:
    """A target every task accepts: each value twice (a stratified split needs two rows per label)."""
    labels = st.one_of(st.sampled_from(["Yes", "No", "maybe", "3", "7"]), _FLOATS)
    half = rows // 2
    return (
        st.lists(labels, min_size=half, max_size=half).filter(lambda v: len(set(v)) >= 2).map(lambda v: v + v)
    )


@st.composite
def raw_frames(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(min_value=2, max_value=20).map(lambda n: 2 * n))
    names = draw(
        st.lists(
            st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=8),
            min_size=1,
            max_size=5,
            unique=True,
        ).filter(lambda names: TARGET not in names)
    )
    columns: dict[str, Any] = {name: draw(_column(rows)) for name in names}
    columns[TARGET] = draw(_target(rows))
    frame = pd.DataFrame(columns, dtype=object)
    return frame.where(frame.notna(), np.nan)


def _present(values: pd.Series) -> list[str]:
    return [str(v) for v in values if isinstance(v, str)]


@given(raw_frames())
def test_any_frame_validates_against_its_inferred_schema(frame: pd.DataFrame) -> None:
    # given a frame of raw text values (missing as NaN)
    # when its schema is inferred
    schema = infer_schema(frame, Reader(), TARGET, [], None).schema
    # then the frame passes validation against it, and the schema survives schema.yaml's round trip
    result = validate(frame, schema)
    assert result.ok, result.violations
    render_schema(schema, ["header"])
    for column in schema.features:
        values = frame[column.name]
        present = _present(values)
        assert column.nullable == bool(values.isna().any())
        if isinstance(column, CategoricalColumn):
            assert list(column.categories) == sorted(set(present))
        elif column.kind == "boolean":
            assert all(v.strip().lower() in TRUE_TEXT | FALSE_TEXT for v in present)
        else:
            numbers = [float(v.strip()) for v in present]
            assert column.minimum == min(numbers)
            assert column.maximum == max(numbers)
            whole = all(n.is_integer() and abs(n) <= MAX_WHOLE for n in numbers)
            assert (column.kind == "integer") == whole


@given(raw_frames())
def test_kinds_follow_the_documented_order(frame: pd.DataFrame) -> None:
    # given any column of text
    for name in frame.columns.drop(TARGET):
        present = _present(frame[name])
        # when its kind is inferred
        column = infer_feature(str(name), frame[name])
        # then it is boolean if all is true/false-like, else a number if all parses, else categorical
        truthy = all(v.strip().lower() in TRUE_TEXT | FALSE_TEXT for v in present)
        parsed = pd.to_numeric(pd.Series(present), errors="coerce")
        numeric = bool(parsed.notna().all() and np.isfinite(parsed.astype(float)).all())
        expected = "boolean" if truthy else ("number" if numeric else "categorical")
        actual = column.kind if column.kind in {"boolean", "categorical"} else "number"
        assert actual == expected


@pytest.mark.parametrize(
    ("values", "kind", "low", "high"),
    [
        (["0", "1", "1", None], "boolean", None, None),
        (["yes", "No", "Y"], "boolean", None, None),
        (["3", "3.0", "-2"], "integer", -2, 3),
        (["0.5", "2", "1e3"], "float", 0.5, 1000.0),
        (["1", "two", "3"], "categorical", None, None),
        (["inf", "1"], "categorical", None, None),
    ],
)
def test_feature_kind_examples(
    values: list[str | None], kind: str, low: float | None, high: float | None
) -> None:
    # given a column of raw text
    series = pd.Series(values, dtype=object)
    # when its kind is inferred
    column = infer_feature("x", series)
    # then it has the documented kind and the observed range
    assert column.kind == kind
    if isinstance(column, NumericColumn) and kind in {"integer", "float"}:
        assert (column.minimum, column.maximum) == (low, high)
    assert column.nullable == (None in values)


def test_every_value_missing_is_refused() -> None:
    # given a column with no value at all
    series = pd.Series([None, None], dtype=object)
    # when its kind is inferred, then the refusal names the column
    with pytest.raises(AdoptError, match=r"'empty': every value is missing"):
        infer_feature("empty", series)


def test_too_many_categories_is_refused() -> None:
    # given a text column with more distinct values than a categorical feature holds (an identifier)
    series = pd.Series([f"id-{i}" for i in range(MAX_CATEGORIES + 1)], dtype=object)
    # when its kind is inferred, then the refusal names the column and the count
    with pytest.raises(AdoptError, match=rf"'customer': {MAX_CATEGORIES + 1} distinct text values"):
        infer_feature("customer", series)


@pytest.mark.parametrize(
    ("labels", "task"),
    [
        (["Yes", "No"], "binary"),
        (["0", "1"], "binary"),
        (["a", "b", "c"], "multiclass"),
        ([str(i) for i in range(MAX_CLASSES)], "multiclass"),
        ([str(i) for i in range(MAX_CLASSES + 1)], "regression"),
        (["0.5", "1.5"], "regression"),
    ],
)
def test_task_inferred_from_the_target(labels: list[str], task: str) -> None:
    # given a target whose every label occurs twice
    series = pd.Series(labels * 2, dtype=object)
    # when its task is inferred
    target, _ = infer_target("y", series, None)
    # then it follows the documented rule, labels sorted as strings
    assert target.task == task
    if target.is_classifier:
        assert list(target.labels) == sorted(set(labels))


@pytest.mark.parametrize(
    ("counts", "positive"),
    [
        ({"No": 90, "Yes": 10}, "Yes"),
        ({"No": 10, "Yes": 90}, "Yes"),  # true-like wins over rarity
        ({"0": 5, "1": 50}, "1"),
        ({"False": 3, "True": 3}, "True"),
        ({"<=50K": 75, ">50K": 25}, ">50K"),  # neither true-like: the rarer
        ({"cat": 60, "dog": 40}, "dog"),
        ({"cat": 50, "dog": 50}, "dog"),  # a tie: the later in sorted order
    ],
)
def test_positive_label_rule(counts: dict[str, int], positive: str) -> None:
    # given a binary target's rows per label
    # when the positive label is chosen
    chosen, reason = positive_label(pd.Series(counts))
    # then it is the true-like label, else the rarer one, and the reason says which rule applied
    assert chosen == positive
    assert reason


@pytest.mark.parametrize(
    ("values", "task", "message"),
    [
        (["a", "a", "a"], None, r"'y' is constant \('a' in every row\)"),
        (["a", None, "b", "b", "a"], None, r"'y': 1 row\(s\) have no value"),
        (
            ["Yes", "No", "Yes", "No"],
            "regression",
            r"task regression needs numbers, but it holds text such as 'No'",
        ),
        (["a", "b", "c", "a", "b", "c"], "binary", r"task binary needs exactly 2 labels, it has 3"),
        (["a", "b", "a", "b"], "multiclass", r"task multiclass needs 3 or more labels, it has 2"),
        (["a", "b", "a", "b", "c"], None, r"label\(s\) 'c' occur in one row only"),
    ],
)
def test_targets_that_do_not_fit_are_refused(values: list[str | None], task: Any, message: str) -> None:
    # given a target that cannot be learned as asked
    series = pd.Series(values, dtype=object)
    # when it is adopted, then the refusal names the target and the problem
    with pytest.raises(AdoptError, match=message):
        infer_target("y", series, task)


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": ["30", "41", "52", "63"],
            "score": ["0.5", "1.5", "2.5", "3.5"],
            "band": ["1", "2", "1", "2"],
            "region": ["n", "s", "n", "s"],
            TARGET: ["Yes", "No", "Yes", "No"],
        },
        dtype=object,
    )


@pytest.mark.parametrize(
    ("target", "sensitive", "message"),
    [
        ("churn", [], r"target 'churn' is not a column \(columns: age, score, band, region, outcome\)"),
        (TARGET, ["gender"], r"sensitive column 'gender' is not a column"),
        (TARGET, [TARGET], r"sensitive column 'outcome' is the target"),
        (TARGET, ["score"], r"sensitive column 'score' is a float column with 4 distinct values"),
    ],
)
def test_arguments_that_do_not_fit_the_file_are_refused(
    target: str, sensitive: list[str], message: str
) -> None:
    # given a file and arguments naming something it does not have (or cannot slice by)
    # when the schema is inferred, then the refusal names the column
    with pytest.raises(AdoptError, match=message):
        infer_schema(_frame(), Reader(), target, sensitive, None)


def test_sensitive_whole_number_codes_become_categories() -> None:
    # given a sensitive attribute coded as small whole numbers
    # when the schema is inferred
    inferred = infer_schema(_frame(), Reader(), TARGET, ["band", "region", "band"], None)
    # then it is declared categorical (its codes as text), once, and said so
    band = inferred.schema.column("band")
    assert isinstance(band, CategoricalColumn)
    assert band.categories == ("1", "2")
    assert inferred.schema.sensitive == ("band", "region")
    assert any("band" in note for note in inferred.notes)
    # and the other columns keep their inferred kinds, in file order, the target left out
    assert [(c.name, c.kind) for c in inferred.schema.features] == [
        ("age", "integer"),
        ("score", "float"),
        ("band", "categorical"),
        ("region", "categorical"),
    ]
    assert not math.isnan(inferred.schema.numeric[1].maximum or math.nan)


def test_identifier_and_empty_columns_are_left_out_and_said_so() -> None:
    # given a file with an identifier column and a column with no value at all
    rows = MAX_CATEGORIES + 6
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i:05d}" for i in range(rows)],
            "notes": [None] * rows,
            "age": [str(20 + i % 50) for i in range(rows)],
            TARGET: ["Yes", "No"] * (rows // 2),
        },
        dtype=object,
    )
    # when the schema is inferred
    inferred = infer_schema(frame, Reader(), TARGET, [], None)
    # then both are listed under reader.drop (the reader removes them), noted, and not features
    assert inferred.schema.reader.drop == ("customer_id", "notes")
    assert inferred.schema.feature_names == ["age"]
    assert sum("left out" in note for note in inferred.notes) == 2
    assert validate(frame.drop(columns=["customer_id", "notes"]), inferred.schema).ok


def test_a_sensitive_identifier_is_refused() -> None:
    # given a sensitive column that is an identifier (nothing to slice by)
    frame = pd.DataFrame(
        {"who": [f"p{i}" for i in range(MAX_CATEGORIES + 2)], TARGET: ["a", "b"] * (MAX_CATEGORIES // 2 + 1)},
        dtype=object,
    )
    # when the schema is inferred, then the refusal names it
    with pytest.raises(AdoptError, match=r"sensitive column 'who': 256 distinct text values"):
        infer_schema(frame, Reader(), TARGET, ["who"], None)
