"""Everything the report shows, gathered from git, DVC and the files the pipeline and the gates wrote.

The base is ``git merge-base HEAD <gates.baseline_ref>``; the PR side is the workspace. Metric and param
diffs come from DVC's JSON output, plot files are read at the base with ``git show``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from mlship import costs, gitrefs
from mlship.config import Params
from mlship.data.schema import Schema
from mlship.report import plots
from mlship.report.deltas import MetricsDiff, split_metrics_diff
from mlship.report.intervals import Uncertainty, compute
from mlship.report.repro import RESULT_FILE
from mlship.tasks import Task, metric_names

Situation = Literal["merge_base", "main", "no_base"]

SHALLOW_MESSAGE = (
    "this clone is shallow (git rev-parse --is-shallow-repository: true), so the merge base with {ref!r} "
    "cannot be found. Fetch the full history: `git fetch --unshallow`, or in GitHub Actions set "
    "`fetch-depth: 0` on actions/checkout."
)


class ReportInputError(RuntimeError):
    """A problem with the repository or the pipeline outputs that stops the report (printed, no traceback)."""


@dataclass(frozen=True)
class Base:
    ref: str
    commit: str | None
    head: str | None
    situation: Situation

    @property
    def short(self) -> str:
        return (self.commit or "")[:8]


@dataclass(frozen=True)
class ParamChange:
    key: str
    old: Any
    new: Any


@dataclass(frozen=True)
class DataInfo:
    """The raw data's hash (the ``ingest`` output in ``dvc.lock``) and row counts at both revisions."""

    path: str
    old_hash: str | None
    new_hash: str | None
    old_test_rows: int | None
    new_test_rows: int | None
    validated_rows: int | None

    @property
    def changed(self) -> bool:
        return self.old_hash is not None and self.old_hash != self.new_hash


@dataclass(frozen=True)
class Inputs:
    service: str
    task: Task
    metrics: tuple[str, ...]
    attributes: tuple[str, ...]
    slice_metric: str
    base: Base
    diff: MetricsDiff
    params: list[ParamChange]
    data: DataInfo
    plots_base: plots.PlotSet | None
    plots_pr: plots.PlotSet
    gates: dict[str, Any] | None
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    repro: dict[str, Any] | None = None
    workspace_dirty: bool = False
    uncertainty: Uncertainty = field(default_factory=lambda: Uncertainty("No intervals were computed."))
    #: ``mlship cost``'s measurement, why it does not describe the workspace's model, and its resolution
    cost: dict[str, Any] | None = None
    cost_problem: str | None = "no measurement"
    cost_resolution: float = 0.05


def _tool(name: str) -> str:
    """A tool from PATH, else the one installed beside this Python (the project's .venv)."""
    found = shutil.which(name)
    return found or str(Path(sys.executable).parent / name)


def dvc_json(args: list[str], repo: Path) -> dict[str, Any]:
    """``dvc <args> --json`` parsed; a DVC failure becomes a :class:`ReportInputError` with its message."""
    result = subprocess.run(
        [_tool("dvc"), *args, "--json"], cwd=repo, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        raise ReportInputError(f"`dvc {' '.join(args)}` failed: {' '.join(message[-3:])}")
    text = result.stdout.strip()
    return json.loads(text) if text else {}


def find_base(ref: str, repo: Path) -> Base:
    if gitrefs.git(["rev-parse", "--git-dir"], repo) is None:
        raise ReportInputError(f"{repo} is not a git repository")
    if gitrefs.is_shallow(repo):
        raise ReportInputError(SHALLOW_MESSAGE.format(ref=ref))
    head = gitrefs.head(repo)
    commit = gitrefs.merge_base(ref, repo)
    if commit is None:
        return Base(ref, None, head, "no_base")
    return Base(ref, commit, head, "main" if commit == head else "merge_base")


def metrics_diff(base: Base, metrics_path: Path, attributes: tuple[str, ...], repo: Path) -> MetricsDiff:
    if base.commit is None:
        workspace = _read_json(repo / metrics_path) or {}
        entries = {key: {"old": None, "new": value} for key, value in _flatten(workspace).items()}
        return split_metrics_diff(entries, attributes)
    raw = dvc_json(["metrics", "diff", base.commit, "--all"], repo)
    return split_metrics_diff(raw.get(metrics_path.as_posix(), {}), attributes)


def _flatten(document: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(document, dict):
        return {prefix: document}
    flat: dict[str, Any] = {}
    for key, value in document.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def params_diff(base: Base, repo: Path) -> list[ParamChange]:
    if base.commit is None:
        return []
    raw = dvc_json(["params", "diff", base.commit], repo)
    changes = [
        ParamChange(key, entry.get("old"), entry.get("new"))
        for entries in raw.values()
        for key, entry in entries.items()
    ]
    return sorted(changes, key=lambda change: change.key)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def _ingest_hash(lock_text: str | None, raw_path: Path) -> str | None:
    """The hash ``dvc.lock`` records for the raw data (the output at ``paths.raw``, whichever stage)."""
    if lock_text is None:
        return None
    lock = yaml.safe_load(lock_text) or {}
    for stage in (lock.get("stages") or {}).values():
        for out in stage.get("outs") or []:
            if out.get("path") == raw_path.as_posix():
                digest = out.get("md5")
                return str(digest) if digest else None
    return None


def data_info(base: Base, params: Params, diff: MetricsDiff, repo: Path) -> DataInfo:
    raw = params.paths.raw
    old_lock = gitrefs.show(base.commit, "dvc.lock", repo) if base.commit else None
    new_lock_path = repo / "dvc.lock"
    new_lock = new_lock_path.read_text(encoding="utf-8") if new_lock_path.exists() else None
    rows = diff.overall.get("n")
    validation = _read_json(repo / params.paths.reports / "validation.json")
    validated = validation.get("rows") if isinstance(validation, dict) else None
    return DataInfo(
        path=raw.as_posix(),
        old_hash=_ingest_hash(old_lock, raw),
        new_hash=_ingest_hash(new_lock, raw),
        old_test_rows=int(rows.old) if rows and rows.old is not None else None,
        new_test_rows=int(rows.new) if rows and rows.new is not None else None,
        validated_rows=int(validated) if isinstance(validated, int) else None,
    )


def plot_sets(base: Base, plots_dir: Path, repo: Path) -> tuple[plots.PlotSet | None, plots.PlotSet]:
    def workspace(name: str) -> str | None:
        path = repo / plots_dir / name
        return path.read_text(encoding="utf-8") if path.exists() else None

    pr = plots.load(workspace, plots_dir.as_posix())
    if base.commit is None:
        return None, pr
    commit = base.commit

    def committed(name: str) -> str | None:
        return gitrefs.show(commit, plots_dir / name, repo)

    return plots.load(committed, f"{base.ref}@{base.short}:{plots_dir.as_posix()}"), pr


def check_summaries(reports: Path) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted((reports / "checks").glob("*.json")):
        document = _read_json(path)
        if isinstance(document, dict):
            found[path.stem] = document
    return found


def repro_result(reports: Path, head: str | None) -> dict[str, Any] | None:
    """The reproducibility gate's result, if it was run for this commit."""
    document = _read_json(reports / RESULT_FILE)
    if isinstance(document, dict) and document.get("head") == head:
        return document
    return None


def collect(params: Params, schema: Schema, repo: Path) -> Inputs:
    base = find_base(params.gates.baseline_ref, repo)
    attributes = tuple(schema.sensitive)
    metrics_path = params.paths.metrics
    if not (repo / metrics_path).exists():
        raise ReportInputError(f"{metrics_path} does not exist: run `make run` (dvc repro) first")
    diff = metrics_diff(base, metrics_path, attributes, repo)
    reports = repo / params.paths.reports
    plots_base, plots_pr = plot_sets(base, params.paths.plots, repo)
    gates = _read_json(reports / "gates.json")
    dirty = gitrefs.git(["status", "--porcelain", "--untracked-files=no"], repo)
    measured = costs.read(reports)
    return Inputs(
        service=params.service.name,
        task=schema.task,
        metrics=metric_names(schema.task),
        attributes=attributes,
        slice_metric=params.gates.slice_gap.metric,
        base=base,
        diff=diff,
        params=params_diff(base, repo),
        data=data_info(base, params, diff, repo),
        plots_base=plots_base,
        plots_pr=plots_pr,
        gates=gates if isinstance(gates, dict) else None,
        checks=check_summaries(reports),
        repro=repro_result(reports, base.head),
        workspace_dirty=bool(dirty),
        uncertainty=compute(params, schema, base.commit, diff, repo),
        cost=measured,
        cost_problem=costs.current(measured, params, repo),
        cost_resolution=params.gates.serving.measure.resolution,
    )
