"""Put the pipeline's model into the BentoML model store, with what it takes to audit it later.

Labels (short, filterable): git SHA, estimator. Metadata: git SHA, data sha256, model params, test
metrics, decision threshold. The version is the short git SHA (``-dirty`` when the work tree has changes).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bentoml

from mlship.config import Params

MODEL_FILE = "model.joblib"


@dataclass(frozen=True)
class SavedModel:
    tag: str
    path: Path


def git_revision(repo: Path = Path()) -> tuple[str, bool]:
    """The full commit SHA and whether the work tree differs from it (``unknown`` outside git)."""

    def git(*args: str) -> str | None:
        try:
            result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
        except FileNotFoundError:
            return None
        return result.stdout.strip() if result.returncode == 0 else None

    sha = git("rev-parse", "HEAD") or "unknown"
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    return sha, dirty


def model_version(sha: str, dirty: bool) -> str:
    return f"{sha[:12]}{'-dirty' if dirty else ''}"


def model_metadata(params: Params, sha: str, metrics: dict[str, Any]) -> dict[str, Any]:
    return {
        "git_sha": sha,
        "data_sha256": params.data.source.sha256,
        "estimator": params.model.estimator,
        "model_params": params.model.model_dump(mode="json"),
        "threshold": params.evaluate.threshold,
        "metrics": metrics.get("overall", {}),
    }


def save(
    params: Params,
    repo: Path = Path(),
    model_path: Path | None = None,
    metrics: dict[str, Any] | None = None,
    version: str | None = None,
) -> SavedModel:
    """Save the trained model as ``<service.name>:<git sha>``; re-saving the same version replaces it.

    Defaults: ``paths.model`` and ``paths.metrics`` from ``params.yaml``, version from git.
    """
    sha, dirty = git_revision(repo)
    tag = f"{params.service.name}:{version or model_version(sha, dirty)}"
    if metrics is None:
        metrics = json.loads((repo / params.paths.metrics).read_text(encoding="utf-8"))
    with contextlib.suppress(bentoml.exceptions.NotFound):
        bentoml.models.delete(tag)
    with bentoml.models.create(
        tag,
        labels={"git_sha": sha[:12], "estimator": params.model.estimator},
        metadata=model_metadata(params, sha, metrics),
    ) as model:
        shutil.copyfile(model_path or repo / params.paths.model, model.path_of(MODEL_FILE))
    stored = bentoml.models.get(tag)
    return SavedModel(str(stored.tag), Path(stored.path))
