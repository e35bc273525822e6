"""``mlship tune`` end to end on 600 training rows (``--quick``): the test split absent, the same
seed twice, the record's choice, then ``--apply``; and an invalid space stopped before anything runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mlship.adopt.defaults import Section, Setting
from mlship.adopt.writing import update_params
from mlship.cli import main
from mlship.config import Params, load_params
from mlship.data.schema import Schema, write_processed

REPO_ROOT = Path(__file__).resolve().parents[2]


def _project(root: Path, params: Params, sample: pd.DataFrame, **tune: Any) -> Path:
    """params.yaml (the repository's, comments and all) pointing at 600 training rows (a rare class still has
    rows in each fold of the quick search's first round) and a test split that does not exist, writing its
    reports under ``root``."""
    write_processed(sample.head(600), root / "train.csv")
    updates = Section(
        {
            "paths": Section(
                {
                    "train": Setting(str(root / "train.csv")),
                    "test": Setting(str(root / "absent" / "test.csv")),
                    "reports": Setting(str(root / "reports")),
                }
            ),
            "data": Section({"schema": Setting(str(REPO_ROOT / params.data.schema_path))}),
            "tune": Section({key: Setting(value) for key, value in tune.items()}),
        }
    )
    path = root / "params.yaml"
    text = (REPO_ROOT / "params.yaml").read_text(encoding="utf-8")
    path.write_text(update_params(text, updates), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def searched(
    tmp_path_factory: pytest.TempPathFactory, params: Params, sample: pd.DataFrame
) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """Two quick searches with the same seed, the test split absent; the records of both."""
    root = tmp_path_factory.mktemp("tune")
    path = _project(root, params, sample)
    records = []
    for _ in range(2):
        assert main(["--params", str(path), "tune", "--quick", "--jobs", "1"]) == 0
        records.append(json.loads((root / "reports" / "tune.json").read_text(encoding="utf-8")))
    return path, records[0], records[1]


def test_the_search_reads_the_training_split_only_and_chooses_the_best_by_cv(
    searched: tuple[Path, dict[str, Any], dict[str, Any]], schema: Schema
) -> None:
    # given two searches with the test split absent
    path, first, _ = searched
    assert not load_params(path).paths.test.exists()
    # then each recorded every trial with its parameters, CV mean and spread and fit time
    assert first["selected_on"].startswith("training split only")
    assert len(first["trials"]) == 4
    assert first["folds"] == 2
    assert first["stratified"] is schema.target.is_classifier
    assert all({"params", "mean", "std", "fit_seconds", "round"} <= set(t) for t in first["trials"])
    # and the chosen trial is the best by cross-validated score among those of the last round
    last = max(t["round"] for t in first["trials"])
    finalists = [t for t in first["trials"] if t["round"] == last]
    sign = 1 if first["higher_is_better"] else -1
    best = max(finalists, key=lambda t: sign * t["mean"])
    assert first["chosen"]["trial"] == best["trial"]
    assert first["chosen"]["params"] == best["params"]
    # and the reviewer's table was written beside it
    assert "## mlship tune" in (path.parent / "reports" / "tune.md").read_text(encoding="utf-8")


def test_the_same_seed_gives_the_same_trials_and_the_same_choice(
    searched: tuple[Path, dict[str, Any], dict[str, Any]],
) -> None:
    _, first, second = searched
    assert [t["params"] for t in first["trials"]] == [t["params"] for t in second["trials"]]
    assert [t["mean"] for t in first["trials"]] == [t["mean"] for t in second["trials"]]
    assert first["chosen"] == second["chosen"]
    assert first["gain"] == second["gain"]


def test_apply_writes_the_recorded_choice_or_nothing_when_it_is_noise(
    searched: tuple[Path, dict[str, Any], dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    # given the record of the search
    path, doc, _ = searched
    before = path.read_text(encoding="utf-8")
    estimator = doc["estimator"]
    # when it is applied
    assert main(["--params", str(path), "tune", "--apply"]) == 0
    # then params.yaml holds the chosen values exactly when the gain was beyond noise, else it is unchanged
    block = getattr(load_params(path).model, estimator)
    if doc["gain"]["apply"]:
        assert {k: getattr(block, k) for k in doc["chosen"]["params"]} == doc["chosen"]["params"]
    else:
        assert path.read_text(encoding="utf-8") == before
        assert "unchanged" in capsys.readouterr().out


def test_an_invalid_space_is_one_line_naming_the_key_before_anything_runs(
    tmp_path: Path, params: Params, sample: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a space with a negative learning rate
    space = {"hist_gradient_boosting": {"learning_rate": {"low": -0.1, "high": 0.3, "scale": "linear"}}}
    path = _project(tmp_path, params, sample, space=space)
    # when the search is asked for / then it stops with a configuration error naming the key, and wrote
    # nothing
    assert main(["--params", str(path), "tune", "--quick", "--jobs", "1"]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if "tune.space" in line]
    assert len(lines) == 1
    assert "tune.space.hist_gradient_boosting.learning_rate:" in lines[0]
    assert "greater than 0" in lines[0]
    assert not (tmp_path / "reports").exists()
