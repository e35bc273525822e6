"""The served version's own training data and model: the commit the records name (``git_sha``), read through
git and DVC at that commit (``dvc.api`` with ``rev``), never whatever the workspace holds now."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dvc.api
import joblib
import pandas as pd
import yaml
from dvc.exceptions import DvcException

from mlship.config import Params
from mlship.data.schema import Schema, read_processed
from mlship.monitor.captures import MonitorError


@dataclass(frozen=True)
class Reference:
    sha: str
    train: pd.DataFrame
    model: Any
    test_metrics: dict[str, float]
    trained_at: dt.datetime
    #: What made the served model, as ``dvc.lock`` at that commit records it: the raw data's, the train
    #: split's and the model's md5 (the same hashes the image's provenance statement names).
    lineage: dict[str, str] = field(default_factory=dict)


def _git(root: Path, *args: str) -> str | None:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    return result.stdout if result.returncode == 0 else None


def known_commit(root: Path, sha: str) -> bool:
    """Whether ``sha`` is a commit of the repository at ``root``."""
    return bool(sha) and _git(root, "cat-file", "-e", f"{sha}^{{commit}}") is not None


def _open_at(root: Path, path: Path, sha: str) -> bytes:
    try:
        with dvc.api.open(str(path), repo=str(root), rev=sha, mode="rb") as handle:
            data: bytes = handle.read()
            return data
    except (DvcException, FileNotFoundError, OSError) as error:
        raise MonitorError(
            f"{path} of commit {sha[:12]} is not in the DVC cache or remote (dvc fetch): {error}"
        ) from None


def load_reference(root: Path, sha: str, params: Params, schema: Schema) -> Reference:
    """The train split and the fitted pipeline that commit ``sha`` recorded in ``dvc.lock``."""
    train = read_processed(io.BytesIO(_open_at(root, params.paths.train, sha)), schema)  # type: ignore[arg-type]
    model = joblib.load(io.BytesIO(_open_at(root, params.paths.model, sha)))
    metrics_text = _git(root, "show", f"{sha}:{params.paths.metrics.as_posix()}")
    overall: dict[str, float] = {}
    if metrics_text:
        try:
            overall = {k: float(v) for k, v in json.loads(metrics_text).get("overall", {}).items()}
        except (ValueError, AttributeError, TypeError):
            overall = {}
    date = (_git(root, "show", "-s", "--format=%cI", sha) or "").strip()
    trained_at = dt.datetime.fromisoformat(date) if date else dt.datetime.now(dt.UTC)
    return Reference(
        sha=sha,
        train=train,
        model=model,
        test_metrics=overall,
        trained_at=trained_at,
        lineage=lineage(root, sha, params),
    )


def lineage(root: Path, sha: str, params: Params) -> dict[str, str]:
    """The md5 of the raw data, the train split and the model that ``dvc.lock`` records at commit ``sha``."""
    text = _git(root, "show", f"{sha}:dvc.lock")
    try:
        lock = yaml.safe_load(text) if text else {}
    except yaml.YAMLError:
        lock = {}
    outs = {
        str(out.get("path")): str(out.get("md5", ""))
        for stage in (lock or {}).get("stages", {}).values()
        for out in stage.get("outs", [])
        if isinstance(out, dict)
    }
    wanted = {"data": params.paths.raw, "train": params.paths.train, "model": params.paths.model}
    return {name: outs[path.as_posix()] for name, path in wanted.items() if path.as_posix() in outs}
