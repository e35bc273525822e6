"""The schema declaration: a wrong one stops with a message naming the key; a right one round-trips."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from mlship.data.schema import (
    Reader,
    Schema,
    SchemaError,
    load_schema,
    parse_schema,
    read_table,
    schema_document,
)


def _document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "target": {"name": "y", "task": "binary", "labels": ["no", "yes"], "positive": "yes"},
        "sensitive": ["group"],
        "features": [
            {"name": "x", "kind": "float", "min": 0.0, "max": 1.0},
            {"name": "n", "kind": "integer", "min": 0, "max": 9, "nullable": True},
            {"name": "flag", "kind": "boolean"},
            {"name": "group", "kind": "categorical", "categories": ["a", "b"]},
        ],
    }
    document.update(changes)
    return document


def test_the_projects_schema_loads(schema: Schema) -> None:
    assert schema.feature_names
    assert schema.target.name not in schema.feature_names


def test_a_declaration_round_trips(schema: Schema) -> None:
    assert parse_schema(schema_document(schema)) == schema


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"colour": 1}, "colour: Extra inputs are not permitted", id="unknown key"),
        pytest.param(
            {"target": {"name": "y", "task": "binary", "labels": ["a", "b", "c"], "positive": "a"}},
            "a binary target needs exactly 2 labels",
            id="binary with three labels",
        ),
        pytest.param(
            {"target": {"name": "y", "task": "binary", "labels": ["a", "b"], "positive": "c"}},
            "target.positive 'c' is not one of",
            id="positive not a label",
        ),
        pytest.param(
            {"target": {"name": "y", "task": "regression", "labels": ["a"]}},
            "a regression target takes no labels",
            id="labels on a regression target",
        ),
        pytest.param(
            {"sensitive": ["nope"]}, "sensitive attribute 'nope' is not a feature", id="unknown sensitive"
        ),
        pytest.param(
            {"sensitive": ["x"]}, "sensitive attribute 'x' must be categorical or boolean", id="numeric"
        ),
        pytest.param(
            {"features": [{"name": "x", "kind": "integer", "min": 0.5}]},
            "an integer column needs whole-number bounds",
            id="fractional integer bound",
        ),
        pytest.param(
            {"features": [{"name": "x", "kind": "float", "min": 2.0, "max": 1.0}], "sensitive": []},
            "min 2.0 > max 1.0",
            id="empty range",
        ),
        pytest.param(
            {"features": [{"name": "y", "kind": "float"}], "sensitive": []},
            "target 'y' is also declared as a feature",
            id="target as a feature",
        ),
        pytest.param({"features": []}, "features", id="no features"),
    ],
)
def test_a_wrong_declaration_names_the_problem(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaError, match="invalid declaration") as caught:
        parse_schema(_document(**changes))
    assert message in str(caught.value)


def test_an_unreadable_or_invalid_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="cannot read the data schema"):
        load_schema(tmp_path / "missing.yaml")
    broken = tmp_path / "schema.yaml"
    broken.write_text("features: [unclosed")
    with pytest.raises(SchemaError, match="not valid YAML"):
        load_schema(broken)
    broken.write_text("- a list")
    with pytest.raises(SchemaError, match="expected a mapping"):
        load_schema(broken)


@given(
    st.lists(st.text(alphabet="abcdefgh", min_size=1, max_size=6), min_size=2, max_size=6, unique=True),
    st.sampled_from([",", ";", "\t", "|"]),
)
def test_the_reader_drops_renames_and_keeps_every_value_as_text(
    tmp_path_factory: pytest.TempPathFactory, names: list[str], separator: str
) -> None:
    # given a file with some columns to drop and one to rename, written with any separator
    path = tmp_path_factory.mktemp("reader") / "data.csv"
    frame = pd.DataFrame({name: [f"{name}{i}" for i in range(3)] for name in names})
    frame.to_csv(path, sep=separator, index=False)
    reader = Reader(separator=separator, drop=(names[0],), rename={names[1]: "renamed"})
    # when read / then the dropped column is gone, the renamed one carries the new name, values are text
    read = read_table(path, reader)
    assert list(read.columns) == ["renamed", *names[2:]]
    assert read["renamed"].tolist() == [f"{names[1]}{i}" for i in range(3)]


def test_dropping_a_column_the_file_lacks_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(SchemaError, match=r"reader\.drop names column"):
        read_table(path, Reader(drop=("c",)))


def test_a_schema_file_written_as_yaml_loads(tmp_path: Path) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text(yaml.safe_dump(_document()))
    loaded = load_schema(path)
    assert loaded.numeric_names == ["x", "n", "flag"]
    assert loaded.categorical_names == ["group"]
    assert loaded.target.classes == ("no", "yes")
