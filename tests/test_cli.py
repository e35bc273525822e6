"""The `mlship` command: one entry point, clear errors, exit codes the Makefile and CI can trust."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mlship.cli import main


def test_config_schema_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "--schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "Params"


def test_config_prints_the_parsed_params(repo_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--params", str(repo_root / "params.yaml"), "config"]) == 0
    assert json.loads(capsys.readouterr().out)["split"]["seed"] == 42


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
    assert not (tmp_path / "data" / "raw" / "census.csv").exists()


def test_validate_fails_with_a_report_naming_column_rule_and_count(
    repo_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given raw data with out-of-range ages
    lines = (repo_root / "tests" / "fixtures" / "census_head.csv").read_text().splitlines()
    header, rows = lines[0], lines[1:]
    rows[0] = rows[0].replace(",39,", ",390,", 1)
    raw_path = tmp_path / "data" / "raw" / "census.csv"
    raw_path.parent.mkdir(parents=True)
    raw_path.write_text("\n".join([header, *rows]) + "\n")
    (tmp_path / "params.yaml").write_text((repo_root / "params.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    # when validating / then it fails naming the column, the rule and the count
    assert main(["validate"]) == 1
    assert "age: out_of_range[16, 100]: 1 row(s) (e.g. 390)" in capsys.readouterr().err
    report = json.loads((tmp_path / "reports" / "validation.json").read_text())
    assert report["violations"] == [
        {"column": "age", "rule": "out_of_range[16, 100]", "count": 1, "examples": ["390"]}
    ]
    assert not (tmp_path / "data" / "processed" / "validated.csv").exists()
