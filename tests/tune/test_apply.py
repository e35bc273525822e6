"""``mlship tune --apply``: the chosen values, and only they, written into params.yaml; nothing for noise."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest
from tests.tune.records import recorded

from mlship.config import Params, load_params
from mlship.tune.apply import StaleRecordError, apply

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def params_file(tmp_path: Path) -> Path:
    path = tmp_path / "params.yaml"
    shutil.copy(REPO_ROOT / "params.yaml", path)
    return path


def test_apply_changes_only_the_chosen_values_and_keeps_comments_and_order(
    params: Params, params_file: Path
) -> None:
    # given a record whose chosen learning rate and leaves beat the current ones beyond noise
    block = params.model.estimator
    chosen = {"learning_rate": 0.0421} if block == "hist_gradient_boosting" else {"C": 0.42}
    doc = recorded(params, chosen, current=[0.90, 0.91, 0.92], best=[0.93, 0.94, 0.95])
    before = params_file.read_text(encoding="utf-8")
    # when it is applied
    applied = apply(doc, params, params_file)
    # then exactly one line changed, the value's comment (if any) and every other line kept
    after = params_file.read_text(encoding="utf-8")
    changed = [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    (name, value) = next(iter(chosen.items()))
    assert len(changed) == 2, changed
    assert changed[1][1:].strip().startswith(f"{name}: {value}")
    assert getattr(getattr(load_params(params_file).model, block), name) == value
    assert list(applied.changed) == [f"model.{block}.{name}"]


def test_a_gain_within_noise_leaves_the_file_byte_for_byte(params: Params, params_file: Path) -> None:
    block = params.model.estimator
    chosen = {"learning_rate": 0.0421} if block == "hist_gradient_boosting" else {"C": 0.42}
    doc = recorded(params, chosen, current=[0.90, 0.92, 0.94], best=[0.905, 0.925, 0.945])
    before = params_file.read_bytes()
    applied = apply(doc, params, params_file)
    assert params_file.read_bytes() == before
    assert not applied.changed
    assert "noise" in applied.render(params_file)


def test_a_record_measured_against_other_parameters_is_refused(params: Params, params_file: Path) -> None:
    # given a record of a search, then params.yaml changed by hand before --apply
    block = params.model.estimator
    name = "learning_rate" if block == "hist_gradient_boosting" else "C"
    doc = recorded(params, {name: 0.0421}, current=[0.90, 0.91, 0.92], best=[0.93, 0.94, 0.95])
    doc["current"]["params"][name] = 0.777
    # then nothing is written: the record no longer says what the change is worth
    before = params_file.read_bytes()
    with pytest.raises(StaleRecordError, match="run `make tune` again"):
        apply(doc, params, params_file)
    assert params_file.read_bytes() == before
