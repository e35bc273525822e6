"""The dataset facts in ``tests/facts.yaml`` hold for the file the pipeline reads.

``tests/facts.yaml`` is the one place that states facts about the current dataset (rows, columns, missing
values, labels, sha256); ``mlship init`` rewrites it when a fork adopts its data. These tests read the
configured source through the pipeline's own reader, so a changed file, a changed reader option or a
stale facts file fails here, naming the fact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from mlship.config import Params
from mlship.data.ingest import sha256_of
from mlship.data.schema import Schema
from mlship.data.validate import exact_numbers

FACTS = Path(__file__).parent / "facts.yaml"


@pytest.fixture(scope="module")
def facts() -> dict[str, Any]:
    document = yaml.safe_load(FACTS.read_text(encoding="utf-8"))
    assert isinstance(document, dict), f"{FACTS} must hold a mapping"
    return document


def test_facts_describe_the_configured_source(facts: dict[str, Any], params: Params) -> None:
    # given the configured data source
    source = params.data.source
    # when it is compared with the source the facts were taken from
    expected = (
        {"kind": "file", "path": source.path.as_posix()}
        if source.kind == "file"
        else {"kind": "package", "package": source.package, "path": source.path}
    )
    # then they are the same file, with the same declared hash
    assert facts["source"] == expected, "tests/facts.yaml describes another data source: re-run `mlship init`"
    assert facts["sha256"] == source.sha256


def test_the_file_has_the_recorded_sha256(facts: dict[str, Any], raw_path: Path) -> None:
    # given the file the pipeline ingests
    # when it is hashed
    digest = sha256_of(raw_path)
    # then it is byte for byte the file the facts describe
    assert digest == facts["sha256"]


def test_rows_and_columns(facts: dict[str, Any], raw_frame: pd.DataFrame) -> None:
    # given the raw file as the pipeline reads it (canonical column names)
    # when its shape is taken
    columns = [str(name) for name in raw_frame.columns]
    # then it has the recorded rows and columns, in order
    assert len(raw_frame) == facts["rows"]
    assert columns == facts["columns"]


def test_missing_values_per_column(facts: dict[str, Any], raw_frame: pd.DataFrame) -> None:
    # given the raw file as the pipeline reads it (its reader's missing-value markers applied)
    # when missing values are counted per column
    missing = {str(name): int(count) for name, count in raw_frame.isna().sum().items()}
    # then every column has exactly the recorded number
    assert missing == facts["missing"]


def test_target_matches_the_schema_and_the_data(
    facts: dict[str, Any], raw_frame: pd.DataFrame, schema: Schema
) -> None:
    # given the declared target and the recorded one
    target = facts["target"]
    assert target["name"] == schema.target.name
    assert target["task"] == schema.task
    values = raw_frame[schema.target.name]
    if schema.target.is_classifier:
        # when the labels are counted
        counts = {str(label): int(n) for label, n in values.dropna().astype(str).value_counts().items()}
        # then each label has the recorded rows, and the labels are exactly the declared ones
        assert counts == target["labels"]
        assert sorted(target["labels"]) == sorted(schema.target.labels)
    else:
        # when the target's range is taken
        numbers = exact_numbers(values)
        # then it is the recorded one
        assert (float(numbers.min()), float(numbers.max())) == (target["min"], target["max"])
