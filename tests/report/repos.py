"""Two-commit fixture repositories for the report: real git, real DVC, hand-made pipeline outputs.

The pipeline itself is not run (that is tests/test_pipeline.py's job): each commit carries the files the
pipeline would have committed (params.yaml, schema.yaml, dvc.yaml, dvc.lock, the metrics file and the plot
files), and the workspace carries what the gates would have written under ``reports/``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlship.config import Params, load_params
from mlship.data.schema import Schema, load_schema
from mlship.tasks import metric_names

REPO_ROOT = Path(__file__).resolve().parents[2]
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
}


def run(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GIT_ENV, "DVC_NO_ANALYTICS": "1"}
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False, env=env)
    if check:
        assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


FIXTURE_SCHEMA = Path(__file__).parent / "fixtures" / "schema.yaml"
SERVICE = "fixture-model"


def fixture_params() -> dict[str, Any]:
    """The repository's params.yaml, pointed at the fixture schema and renamed (no default-data facts)."""
    loaded: dict[str, Any] = yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8"))
    loaded["service"]["name"] = SERVICE
    loaded["paths"]["raw"] = "data/raw/source.csv"
    loaded["data"]["schema"] = "schema.yaml"
    # The fixture data is binary: its slice and simple-model settings are fixed here, whatever task and data
    # size this checkout adopted (a fork's params.yaml names its own task's metric and slice size).
    slices = loaded["gates"]["slice_gap"]
    slices["metric"], slices["min_slice_size"] = "roc_auc", 100
    slices["max_gap"] = {"region": 0.1, "band": 0.1}
    loaded["gates"]["simple_model"]["metric"] = "roc_auc"
    return loaded


def fixture_schema() -> Schema:
    return load_schema(FIXTURE_SCHEMA)


def metrics_doc(schema: Schema, shift: float = 0.0, n: int = 1000) -> dict[str, Any]:
    """A metrics file with the layout ``evaluate`` writes; every value moves by ``shift``."""
    names = metric_names(schema.task)
    overall: dict[str, Any] = {m: round(0.5 + 0.01 * i + shift, 6) for i, m in enumerate(names)}
    overall["n"] = n
    slices: dict[str, Any] = {}
    for a, attribute in enumerate(schema.sensitive):
        slices[attribute] = {
            f"group.{g}": {
                **{m: round(v - 0.01 * (a + g), 6) for m, v in overall.items() if m != "n"},
                "n": 300 + g,
            }
            for g in range(2)
        }
    return {"overall": overall, "slices": slices, "simple_model": {"overall": dict(overall)}}


def roc(shift: float = 0.0) -> list[dict[str, float]]:
    points = [(0.0, 0.0), (0.1, 0.5 + shift), (0.3, 0.8 + shift), (0.6, 0.95), (1.0, 1.0)]
    return [{"fpr": f, "tpr": round(min(t, 1.0), 6), "threshold": 1 - f} for f, t in points]


def precision_recall(shift: float = 0.0) -> list[dict[str, float]]:
    points = [(1.0, 0.3), (0.8, 0.6 + shift), (0.5, 0.8 + shift), (0.2, 0.9), (0.0, 1.0)]
    return [{"recall": r, "precision": round(min(p, 1.0), 6), "threshold": r} for r, p in points]


def confusion_csv(labels: tuple[str, ...], errors: int) -> str:
    rows = ["actual,predicted"]
    for i, actual in enumerate(labels):
        rows += [f"{actual},{actual}"] * (20 + 5 * i)
        rows += [f"{actual},{labels[(i + 1) % len(labels)]}"] * errors
    return "\n".join(rows) + "\n"


@dataclass
class Revision:
    """What one commit holds."""

    params: dict[str, Any]
    metrics: dict[str, Any] | None
    plots: dict[str, str]
    raw_md5: str = "0" * 32
    predictions_md5: str | None = None  # the evaluate stage's predictions output, as dvc.lock records it


DVC_YAML = """\
stages:
  ingest:
    cmd: mlship ingest
    params:
      - data.source
    outs:
      - ${paths.raw}
  evaluate:
    cmd: mlship evaluate
    params:
      - model
      - evaluate
      - split
    metrics:
      - ${paths.metrics}:
          cache: false
    outs:
      - ${paths.plots}:
          cache: false
"""


def _lock(params: Params, raw_md5: str, predictions_md5: str | None = None) -> str:
    stages: dict[str, Any] = {
        "ingest": {
            "cmd": "mlship ingest",
            "outs": [{"path": params.paths.raw.as_posix(), "hash": "md5", "md5": raw_md5, "size": 1}],
        }
    }
    if predictions_md5 is not None:
        out = {"path": params.paths.predictions.as_posix(), "hash": "md5", "md5": predictions_md5, "size": 1}
        stages["evaluate"] = {"cmd": "mlship evaluate", "outs": [out]}
    return yaml.safe_dump({"schema": "2.0", "stages": stages}, sort_keys=False)


def cache_predictions(root: Path, params: Params, text: str) -> str:
    """Write predictions to the workspace and into the DVC cache (as ``dvc commit`` would); their md5."""
    data = text.encode("utf-8")
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    cached = root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(data)
    workspace = root / params.paths.predictions
    workspace.parent.mkdir(parents=True, exist_ok=True)
    workspace.write_bytes(data)
    return md5


def write_revision(root: Path, revision: Revision) -> Params:
    (root / "params.yaml").write_text(yaml.safe_dump(revision.params, sort_keys=False), encoding="utf-8")
    params = load_params(root / "params.yaml")
    (root / "dvc.yaml").write_text(DVC_YAML, encoding="utf-8")
    (root / "dvc.lock").write_text(
        _lock(params, revision.raw_md5, revision.predictions_md5), encoding="utf-8"
    )
    metrics = root / params.paths.metrics
    if revision.metrics is None:
        metrics.unlink(missing_ok=True)
    else:
        metrics.write_text(json.dumps(revision.metrics, indent=1) + "\n", encoding="utf-8")
    plots = root / params.paths.plots
    shutil.rmtree(plots, ignore_errors=True)
    plots.mkdir(parents=True)
    for name, text in revision.plots.items():
        (plots / name).write_text(text, encoding="utf-8")
    return params


def commit(root: Path, message: str) -> str:
    run(root, "git", "add", "-A")
    run(root, "git", "commit", "-q", "--allow-empty", "-m", message)
    return run(root, "git", "rev-parse", "HEAD").stdout.strip()


def new_repo(root: Path, schema_text: str | None = None) -> None:
    """An empty repository with DVC initialised and the schema committed on ``main``."""
    root.mkdir(parents=True, exist_ok=True)
    run(root, "git", "init", "-q", "-b", "main")
    run(root, "dvc", "init", "-q")
    run(root, "dvc", "config", "core.analytics", "false")
    (root / ".gitignore").write_text("/reports/\n/data/\n/models/\n", encoding="utf-8")
    (root / "schema.yaml").write_text(
        schema_text or FIXTURE_SCHEMA.read_text(encoding="utf-8"), encoding="utf-8"
    )


def binary_plots(shift: float, errors: int, labels: tuple[str, ...]) -> dict[str, str]:
    return {
        "roc.json": json.dumps(roc(shift)),
        "precision_recall.json": json.dumps(precision_recall(shift)),
        "confusion.csv": confusion_csv(labels, errors),
    }


def with_param(params: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(params)
    node = changed
    *parents, last = dotted.split(".")
    for key in parents:
        node = node[key]
    node[last] = value
    return changed


def gates_json(failed: list[tuple[str, str, float, float, str]], passed: int = 3) -> dict[str, Any]:
    """A ``reports/gates.json`` as ``mlship gates`` writes it: some failures, some passes."""
    verdicts = [
        {
            "gate": "floor",
            "target": f"metric_{i}",
            "passed": True,
            "value": 0.9,
            "threshold": 0.8,
            "detail": "ok",
            "status": "pass",
        }
        for i in range(passed)
    ]
    verdicts += [
        {"gate": g, "target": t, "passed": False, "value": v, "threshold": th, "detail": d, "status": "fail"}
        for g, t, v, th, d in failed
    ]
    return {
        "passed": not failed,
        "baseline": {"ref": "main", "commit": None, "note": "baseline: metrics.json at main"},
        "verdicts": verdicts,
    }


def write_gates(root: Path, params: Params, document: dict[str, Any]) -> None:
    out = root / params.paths.reports / "gates.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2), encoding="utf-8")


def mlship(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    return subprocess.run(["mlship", *args], cwd=root, capture_output=True, text=True, check=False, env=env)
