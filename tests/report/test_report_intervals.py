"""`mlship report` tells signal from noise on real two-commit repositories (git, DVC's cache layout): paired
intervals and churn when the base's predictions are in the DVC cache, unpaired ones when the base scored
other rows, and a stated fallback when the base's predictions cannot be found.

Each commit carries metrics computed by ``evaluate``'s own functions from the predictions it caches, so the
point values and the intervals describe the same model.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.report.repos import (
    Revision,
    binary_plots,
    cache_predictions,
    commit,
    fixture_params,
    fixture_schema,
    mlship,
    new_repo,
    run,
    with_param,
    write_revision,
)

from mlship import predictions
from mlship.config import load_params
from mlship.evaluate import slice_metrics, task_metrics

pytestmark = pytest.mark.integration

GOLDEN = Path(__file__).parent / "golden" / "binary_paired.md"
SCHEMA = fixture_schema()
THRESHOLD = 0.5


def rows_frame(n: int, seed: int) -> pd.DataFrame:
    """Test rows of the fixture schema: a label and the two sensitive attributes."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "size": rng.integers(0, 100, n),
            "region": rng.choice(["east", "west"], n),
            "band": rng.choice(["low", "high"], n, p=[0.8, 0.2]),
            SCHEMA.target.name: rng.integers(0, 2, n),
        }
    )


def scores(frame: pd.DataFrame, noise: float, seed: int) -> np.ndarray:
    """A model's probabilities: the label plus noise (more noise, a worse model)."""
    label = frame[SCHEMA.target.name].to_numpy()
    logit = 2.0 * (2 * label - 1) + np.random.default_rng(seed).normal(scale=noise, size=len(label))
    return 1 / (1 + np.exp(-logit))


def metrics_of(frame: pd.DataFrame, output: np.ndarray) -> dict[str, Any]:
    """What ``evaluate`` writes for these predictions."""
    target = frame[SCHEMA.target.name].to_numpy()
    overall = task_metrics("binary", target, output, THRESHOLD)
    slices = slice_metrics(frame, target, output, THRESHOLD, SCHEMA)
    return {"overall": overall, "slices": slices, "simple_model": {"overall": dict(overall)}}


def commit_model(
    root: Path, params: dict[str, Any], frame: pd.DataFrame, output: np.ndarray, message: str
) -> None:
    parsed = write_revision(root, Revision(params, None, {}))
    preds = predictions.from_output("binary", frame[SCHEMA.target.name].to_numpy(), output, THRESHOLD)
    md5 = cache_predictions(root, parsed, predictions.dumps(preds))
    test = root / parsed.paths.test
    test.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(test, index=False)
    plots = binary_plots(0.0, 3, SCHEMA.target.classes)
    write_revision(root, Revision(params, metrics_of(frame, output), plots, predictions_md5=md5))
    commit(root, message)


def two_models(root: Path, base: tuple[pd.DataFrame, np.ndarray], pr: tuple[pd.DataFrame, np.ndarray]) -> str:
    """``main`` with the base model, branch ``pr`` with the PR's; the report's text."""
    new_repo(root)
    params = fixture_params()
    commit_model(root, params, *base, "base")
    run(root, "git", "checkout", "-q", "-b", "pr")
    commit_model(root, with_param(params, "model.seed", 7), *pr, "pr")
    result = mlship(root, "report")
    assert result.returncode == 0, result.stderr
    return (root / "reports" / "report.md").read_text(encoding="utf-8")


def _row(report: str, label: str) -> list[str]:
    for line in report.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells and cells[0] == label:
            return cells
    raise AssertionError(f"no row {label!r} in:\n{report}")


INTERVAL = re.compile(r"^([+-]\d\.\d{4}) \[([+-]\d\.\d{4}), ([+-]\d\.\d{4})\]$")


@pytest.fixture(scope="module")
def paired(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Same 600 test rows; the PR's model has a third of the base's noise (clearly better)."""
    root = tmp_path_factory.mktemp("paired")
    frame = rows_frame(600, 1)
    report = two_models(root, (frame, scores(frame, 3.0, 2)), (frame, scores(frame, 1.0, 3)))
    return root, report


def test_paired_intervals_mark_a_clear_improvement_better_and_show_churn(paired: tuple[Path, str]) -> None:
    _, report = paired
    # then the intervals are paired over the same rows, and the section leads with what moved beyond noise
    assert "paired bootstrap: both models scored on the same 600 test rows" in report
    assert "**Beyond noise**: `roc_auc` better" in report
    # and roc_auc's delta interval lies above zero, its mark follows it
    cells = _row(report, "`roc_auc`")
    match = INTERVAL.match(cells[3])
    assert match is not None, cells
    assert float(match.group(2)) > 0
    assert cells[4] == "🟢 better"
    # and churn counts the rows whose label changed, overall and per slice
    assert re.search(
        r"Prediction churn: [\d,]+ \(\d+\.\d%\) of the 600 test rows get another label\.", report
    )
    assert "| churn |" in report


def test_the_paired_layout_matches_the_golden_file(paired: tuple[Path, str]) -> None:
    # then the layout is what the golden file shows (commits masked); UPDATE_GOLDEN=1 rewrites it
    root, report = paired
    actual = re.sub(r"@[0-9a-f]{8}", "@<commit>", re.sub(r"`[0-9a-f]{8}`", "`<commit>`", report))
    actual = re.sub(r"md5 [0-9a-f]{12}", "md5 <md5>", actual).replace(str(root), "<repo>")
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(actual, encoding="utf-8")
    assert actual == GOLDEN.read_text(encoding="utf-8")


def test_other_test_rows_give_unpaired_intervals_and_no_churn(tmp_path: Path) -> None:
    # given a PR whose test split holds other rows (another split of the data)
    base, pr = rows_frame(500, 1), rows_frame(450, 9)
    report = two_models(tmp_path, (base, scores(base, 1.0, 2)), (pr, scores(pr, 1.0, 3)))
    # then the report says the intervals are unpaired, still gives them, and counts no churn
    assert "unpaired bootstrap: the base scored other test rows (500 vs 450" in report
    assert INTERVAL.match(_row(report, "`roc_auc`")[3])
    assert "Prediction churn" not in report


def test_missing_base_predictions_are_said_and_the_fallback_is_labelled(tmp_path: Path) -> None:
    # given a base whose predictions are recorded in dvc.lock but gone from the DVC cache
    frame = rows_frame(500, 1)
    new_repo(tmp_path)
    params = fixture_params()
    commit_model(tmp_path, params, frame, scores(frame, 1.0, 2), "base")
    for cached in (tmp_path / ".dvc" / "cache" / "files").rglob("*"):
        if cached.is_file():
            cached.unlink()
    run(tmp_path, "git", "checkout", "-q", "-b", "pr")
    commit_model(tmp_path, with_param(params, "model.seed", 7), frame, scores(frame, 1.0, 3), "pr")
    result = mlship(tmp_path, "report")
    # then the report is still written, says the base's predictions were not found and labels the fallback
    assert result.returncode == 0, result.stderr
    report = (tmp_path / "reports" / "report.md").read_text(encoding="utf-8")
    paths = load_params(tmp_path / "params.yaml").paths
    assert f"The base's predictions were not found (`{paths.predictions.as_posix()}`" in report
    assert "is not in the DVC cache): unpaired fallback" in report
    assert INTERVAL.match(_row(report, "`roc_auc`")[3])
    assert "Prediction churn" not in report
