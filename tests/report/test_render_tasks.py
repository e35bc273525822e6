"""Multiclass and regression reports, from plot files with the documented names (generated fixtures)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from mlship.report import plots, png
from mlship.report.collect import Base, DataInfo, Inputs
from mlship.report.deltas import Change, MetricsDiff
from mlship.report.render import Links, render
from mlship.tasks import Task, metric_names


def _write_plots(folder: Path, task: Task, seed: int) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    if task == "multiclass":
        labels = ["red", "green", "blue"]
        actual = rng.choice(labels, 300)
        predicted = np.where(rng.random(300) < 0.8, actual, rng.choice(labels, 300))
        rows = "\n".join(f"{a},{p}" for a, p in zip(actual, predicted, strict=True))
        (folder / "confusion.csv").write_text("actual,predicted\n" + rows + "\n", encoding="utf-8")
    else:
        actual = rng.uniform(0, 50, 400)
        predicted = actual + rng.normal(0, 3 + seed, 400)
        pairs = [{"actual": float(a), "predicted": float(p)} for a, p in zip(actual, predicted, strict=True)]
        residuals = [{"predicted": r["predicted"], "residual": r["actual"] - r["predicted"]} for r in pairs]
        (folder / "predicted_vs_actual.json").write_text(json.dumps(pairs), encoding="utf-8")
        (folder / "residuals.json").write_text(json.dumps(residuals), encoding="utf-8")


def _inputs(tmp_path: Path, task: Task) -> Inputs:
    _write_plots(tmp_path / "base", task, seed=1)
    _write_plots(tmp_path / "pr", task, seed=2)

    def reader(folder: Path):  # type: ignore[no-untyped-def]
        return lambda name: (folder / name).read_text(encoding="utf-8") if (folder / name).exists() else None

    names = metric_names(task)
    overall = {m: Change(m, 0.5, 0.6) for m in names}
    return Inputs(
        service="svc",
        task=task,
        metrics=names,
        attributes=("region",),
        slice_metric=names[0],
        base=Base("main", "a" * 40, "b" * 40, "merge_base"),
        diff=MetricsDiff(overall, {"region": {"east": {names[0]: Change(names[0], 0.4, 0.45)}}}, True),
        params=[],
        data=DataInfo("data/raw/x.csv", "c" * 32, "c" * 32, 10, 10, 50),
        plots_base=plots.load(reader(tmp_path / "base"), "base"),
        plots_pr=plots.load(reader(tmp_path / "pr"), "pr"),
        gates=None,
    )


def test_multiclass_report_has_a_confusion_table_of_every_label_and_no_curves(tmp_path: Path) -> None:
    # given multiclass plot files at both revisions / when rendered
    report = render(_inputs(tmp_path, "multiclass"), Links(None, "reports/report"))
    # then the confusion table names every label and there is no ROC chart
    header = next(line for line in report.splitlines() if line.startswith("| actual"))
    assert all(f"`{label}`" in header for label in ("red", "green", "blue"))
    assert "```mermaid" not in report
    # and a metric where lower is better is marked worse when it rises
    assert "| `log_loss` | 0.5000 | 0.6000 | +0.1000 | 🔴 worse |" in report


def test_regression_report_charts_mean_prediction_against_the_perfect_line(tmp_path: Path) -> None:
    report = render(_inputs(tmp_path, "regression"), Links(None, "reports/report"))
    block = re.findall(r"```mermaid\n(.*?)```", report, flags=re.S)
    assert len(block) == 1
    lines = re.findall(r"line \[(.*)\]", block[0])
    assert len(lines) == 3  # perfect, base, PR
    perfect = [float(v) for v in lines[0].split(", ")]
    assert perfect == sorted(perfect)
    assert "| `rmse` | 0.5000 | 0.6000 | +0.1000 | 🔴 worse |" in report
    assert "| `r2` | 0.5000 | 0.6000 | +0.1000 | 🟢 better |" in report


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ("multiclass", ["confusion.png", "confusion_base.png"]),
        ("regression", ["predicted_vs_actual.png", "residuals.png"]),
    ],
)
def test_pngs_for_each_task(tmp_path: Path, task: Task, expected: list[str]) -> None:
    inputs = _inputs(tmp_path, task)
    written = png.draw(inputs.plots_base, inputs.plots_pr, tmp_path / "charts")
    assert sorted(p.name for p in written) == expected
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in written)


def test_a_malformed_plot_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(
        plots.PlotFileError, match=r"pr/roc\.json: expected a JSON list of objects with 'fpr'"
    ):
        plots.load(lambda name: '[{"x": 1}]' if name == "roc.json" else None, "pr")


def test_images_are_embedded_only_when_asked(tmp_path: Path) -> None:
    # given a report whose team opted in to publishing images (CML --publish uploads the files it names)
    inputs = _inputs(tmp_path, "regression")
    plain = render(inputs, Links(None, "reports/report"))
    embedded = render(inputs, Links(None, "reports/report", ("report/residuals.png",)))
    # then only the opted-in report references the PNG as an image
    assert "![" not in plain
    assert "![residuals.png](report/residuals.png)" in embedded
