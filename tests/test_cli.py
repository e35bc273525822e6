"""The `mlship` command: one entry point, clear errors, exit codes the Makefile and CI can trust."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mlship.cli import main
from mlship.config import Params
from mlship.data.schema import Schema, schema_document


def test_config_schema_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "--schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "Params"


def test_config_prints_the_parsed_params(repo_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--params", str(repo_root / "params.yaml"), "config"]) == 0
    assert json.loads(capsys.readouterr().out)["split"]["seed"] == 42


def test_config_get_prints_one_setting(
    repo_root: Path, params: Params, capsys: pytest.CaptureFixture[str]
) -> None:
    # the Makefile reads the service name this way instead of repeating it
    assert main(["--params", str(repo_root / "params.yaml"), "config", "--get", "service.name"]) == 0
    assert capsys.readouterr().out == f"{params.service.name}\n"
    assert main(["--params", str(repo_root / "params.yaml"), "config", "--get", "service.nope"]) == 1
    assert "no setting 'service.nope'" in capsys.readouterr().err


def test_a_bad_params_file_exits_2_naming_the_key(
    repo_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given params.yaml with a misspelt key
    raw = yaml.safe_load((repo_root / "params.yaml").read_text())
    raw["split"]["seeds"] = 1
    bad = tmp_path / "params.yaml"
    bad.write_text(yaml.safe_dump(raw))
    # when any command runs / then it stops with exit 2 and names the key
    assert main(["--params", str(bad), "split"]) == 2
    assert "split.seeds: Extra inputs are not permitted" in capsys.readouterr().err


def test_a_failing_stage_exits_1_with_its_reason(
    repo_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a source whose hash does not match
    source = tmp_path / "source.csv"
    source.write_text("a\n1\n")
    raw = yaml.safe_load((repo_root / "params.yaml").read_text())
    raw["data"]["source"] = {"kind": "file", "path": str(source), "sha256": "0" * 64}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.chdir(tmp_path)
    # when ingesting / then exit 1 with the expected hash in the message, and no raw file
    assert main(["ingest"]) == 1
    assert "expected " + "0" * 64 in capsys.readouterr().err
    assert not (tmp_path / "data" / "raw").exists()


def test_validate_fails_with_a_report_naming_column_rule_and_count(
    repo_root: Path,
    tmp_path: Path,
    schema: Schema,
    raw_frame: pd.DataFrame,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given the first rows of the real data as a plain CSV, with one value above a bounded number's maximum
    bounded = next(c for c in schema.numeric if c.kind != "boolean" and c.maximum is not None)
    rows = raw_frame.head(20).copy()
    too_big = int(bounded.maximum) * 10 + 1 if bounded.maximum is not None else 0
    rows.loc[0, bounded.name] = str(too_big)
    raw_path = tmp_path / "data" / "raw" / "data.csv"
    raw_path.parent.mkdir(parents=True)
    rows.to_csv(raw_path, index=False)
    document = schema_document(schema)
    document["reader"] = {}  # the plain CSV just written, with canonical names
    (tmp_path / "schema.yaml").write_text(yaml.safe_dump(document))
    params = yaml.safe_load((repo_root / "params.yaml").read_text())
    params["paths"]["raw"] = "data/raw/data.csv"
    params["data"]["schema"] = "schema.yaml"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.chdir(tmp_path)
    # when validating / then it fails naming the column, the rule and the count
    assert main(["validate"]) == 1
    low = "-inf" if bounded.minimum is None else f"{bounded.minimum:g}"
    rule = f"out_of_range[{low}, {bounded.maximum:g}]"
    assert f"{bounded.name}: {rule}: 1 row(s) (e.g. {too_big})" in capsys.readouterr().err
    report = json.loads((tmp_path / "reports" / "validation.json").read_text())
    assert report["violations"] == [
        {"column": bounded.name, "rule": rule, "count": 1, "examples": [str(too_big)]}
    ]
    assert not (tmp_path / "data" / "processed" / "validated.csv").exists()


def test_importing_the_cli_loads_no_numerics_before_they_are_pinned() -> None:
    # numerics.pin() must run before numpy loads, or BLAS kernels (and model bytes) follow the machine
    code = (
        "import sys, mlship.cli; print(sorted(m for m in ('numpy', 'pandas', 'sklearn') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
