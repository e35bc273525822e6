"""params.yaml is parsed once into frozen, strict models; mistakes name the key."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml

from mlship.config import ConfigError, Params, load_params, params_json_schema, parse_params


@pytest.fixture
def raw_params(repo_root: Path) -> dict[str, Any]:
    loaded = yaml.safe_load((repo_root / "params.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_the_shipped_params_file_is_valid(repo_root: Path) -> None:
    # given the repository's params.yaml / when it is loaded
    params = load_params(repo_root / "params.yaml")
    # then every section is typed
    assert params.model.estimator in {"hist_gradient_boosting", "logistic_regression"}
    assert 0 < params.split.test_size < 1
    assert params.paths.model.suffix == ".joblib"


def test_an_unknown_key_is_rejected_naming_its_full_path(raw_params: dict[str, Any]) -> None:
    # given a typo in a nested key
    broken = copy.deepcopy(raw_params)
    broken["model"]["hist_gradient_boosting"]["learning_rat"] = 0.1
    # when / then
    with pytest.raises(ConfigError, match=r"model\.hist_gradient_boosting\.learning_rat"):
        parse_params(broken)


def test_a_wrong_type_is_rejected_naming_the_key(raw_params: dict[str, Any]) -> None:
    broken = copy.deepcopy(raw_params)
    broken["split"]["seed"] = "forty-two"
    with pytest.raises(ConfigError, match=r"split\.seed"):
        parse_params(broken)


def test_an_out_of_range_value_is_rejected(raw_params: dict[str, Any]) -> None:
    broken = copy.deepcopy(raw_params)
    broken["split"]["test_size"] = 1.5
    with pytest.raises(ConfigError, match=r"split\.test_size"):
        parse_params(broken)


def test_a_missing_section_is_rejected(raw_params: dict[str, Any]) -> None:
    broken = copy.deepcopy(raw_params)
    del broken["evaluate"]
    with pytest.raises(ConfigError, match=r"evaluate: Field required"):
        parse_params(broken)


def test_an_unknown_estimator_is_rejected(raw_params: dict[str, Any]) -> None:
    broken = copy.deepcopy(raw_params)
    broken["model"]["estimator"] = "random_forest"
    with pytest.raises(ConfigError, match=r"model\.estimator"):
        parse_params(broken)


def test_a_bad_source_hash_is_rejected(raw_params: dict[str, Any]) -> None:
    broken = copy.deepcopy(raw_params)
    broken["data"]["source"]["sha256"] = "not-a-hash"
    kind = broken["data"]["source"]["kind"]  # the error names the source's kind: package or file
    with pytest.raises(ConfigError, match=rf"data\.source\.{kind}\.sha256"):
        parse_params(broken)


def test_invalid_yaml_and_missing_files_are_reported(tmp_path: Path) -> None:
    bad = tmp_path / "params.yaml"
    bad.write_text("model: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_params(bad)
    with pytest.raises(ConfigError, match="cannot read parameters"):
        load_params(tmp_path / "absent.yaml")
    bad.write_text("- a list\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_params(bad)


def test_params_are_frozen(params: Params) -> None:
    with pytest.raises(pydantic.ValidationError):
        params.split.seed = 7  # type: ignore[misc]


def test_the_json_schema_describes_every_section() -> None:
    schema = params_json_schema()
    assert set(schema["required"]) == {
        "paths",
        "data",
        "split",
        "model",
        "evaluate",
        "checks",
        "gates",
        "service",
    }
    assert schema["additionalProperties"] is False
    json.dumps(schema)  # serializable
