"""``mlship cost``: this tree's serving cost beside the merge base's, in ``reports/serving_cost.json``.

The base model is the one the merge base's ``dvc.lock`` records, read from the DVC cache (as the report's
base predictions are); without a comparable one (no merge base, another target, not in the cache) this tree's
model is measured alone and the note says why. The file names the md5 of both models and the settings: a
second run on the same pair changes nothing (``--force`` measures again), and the gates refuse a file that
describes another model than the one in the workspace. The measuring itself is :mod:`mlship.serving.cost`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlship import dvccache
from mlship.checks.gates import load_baseline
from mlship.config import Params
from mlship.data.schema import Schema, read_processed
from mlship.serving import cost

FILE = "serving_cost.json"
VERSION = 1


def path(params: Params) -> Path:
    return params.paths.reports / FILE


def read(reports: Path) -> dict[str, Any] | None:
    """The recorded measurement, or ``None`` when there is none (or it is unreadable)."""
    try:
        document = json.loads((reports / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) and document.get("version") == VERSION else None


@dataclass(frozen=True)
class BaseModel:
    """The merge base's model file (``None`` when there is no comparable one) and why."""

    commit: str | None
    path: Path | None
    md5: str | None
    note: str


def base_model(params: Params, schema: Schema, repo: Path) -> BaseModel:
    baseline = load_baseline(
        params.paths.metrics,
        params.gates.baseline_ref,
        repo,
        schema_path=params.data.schema_path,
        target=(schema.target.name, schema.task),
    )
    if baseline.commit is None or baseline.metrics is None:
        return BaseModel(baseline.commit, None, None, baseline.note)
    found, md5, note = dvccache.file_at_commit(baseline.commit, params.paths.model, repo)
    where = f"{params.gates.baseline_ref}@{baseline.commit[:8]}"
    return BaseModel(baseline.commit, found, md5, f"base: {where}, {note}")


def key(params: Params, base: BaseModel, pr_md5: str) -> dict[str, Any]:
    """What a recorded measurement must match to stand for this tree."""
    return {
        "pr_md5": pr_md5,
        "base_md5": base.md5 if base.path is not None else None,
        "base_commit": base.commit if base.path is not None else None,
        "settings": params.gates.serving.measure.model_dump(),
    }


def current(document: dict[str, Any] | None, params: Params, repo: Path) -> str | None:
    """Why ``document`` does not describe the workspace's model (``None``: it does)."""
    if document is None:
        return f"no serving-cost measurement ({params.paths.reports / FILE} is missing): run `make cost`"
    model = repo / params.paths.model
    if not model.exists():
        return f"{params.paths.model} does not exist: run `make run`"
    if document.get("key", {}).get("pr_md5") != cost.file_md5(model):
        return (
            f"{params.paths.reports / FILE} measured another model than {params.paths.model}: run `make cost`"
        )
    return None


def run(params: Params, schema: Schema, repo: Path, *, force: bool = False) -> tuple[dict[str, Any], bool]:
    """Measure (unless the recorded measurement is of the same models and settings); returns the document
    and whether it was measured now."""
    model = repo / params.paths.model
    if not model.exists():
        raise cost.CostError(f"{params.paths.model} does not exist: run `make run` first")
    base = base_model(params, schema, repo)
    wanted = key(params, base, cost.file_md5(model))
    recorded = read(repo / params.paths.reports)
    if not force and recorded is not None and recorded.get("key") == wanted:
        return recorded, False
    settings = params.gates.serving.measure
    test = read_processed(repo / params.paths.test, schema)
    records = cost.sample_records(
        test, schema, settings.calls_per_block * 2, seed=params.gates.intervals.seed
    )
    models = {"pr": model} if base.path is None else {"base": base.path, "pr": model}
    intervals = params.gates.intervals
    measured = cost.measure(
        models,
        repo / params.data.schema_path,
        records,
        settings,
        resamples=intervals.resamples,
        seed=intervals.seed,
        confidence=intervals.confidence,
        threads=params.service.threads_per_worker,
    )
    document = {
        "version": VERSION,
        "key": wanted,
        "base_note": base.note,
        "base_commit": base.commit,
        "model": params.paths.model.as_posix(),
        **measured.as_dict(),
    }
    out = repo / path(params)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return document, True


def summary(document: dict[str, Any]) -> str:
    """One line: this tree's latency and size, and the ratio to the base when there is one."""
    pr = document["pr"]
    line = (
        f"p50 {pr['p50_ms']:.3f} ms, p99 {pr['p99_ms']:.3f} ms, {pr['footprint']['model_bytes'] / 1e6:.2f} MB"
    )
    ratios = document.get("ratios")
    if ratios:
        p50, p99 = ratios["p50"], ratios["p99"]
        line += f"; vs base: p50 x{p50['ratio']:.3f}, p99 x{p99['ratio']:.3f}"
    else:
        line += f"; {document.get('base_note')}"
    return line
