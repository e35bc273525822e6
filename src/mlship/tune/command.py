"""``mlship tune``: search, record, and with ``--apply`` write the recorded choice into ``params.yaml``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mlship.config import Params
from mlship.data.schema import Schema, read_processed, split_xy
from mlship.tune import record
from mlship.tune.search import plan, run_search


def record_paths(params: Params) -> tuple[Path, Path]:
    """``reports/tune.json`` and ``reports/tune.md`` (under ``paths.reports``)."""
    return params.paths.reports / "tune.json", params.paths.reports / "tune.md"


def search(
    params: Params, schema: Schema, *, quick: bool = False, trials: int | None = None, jobs: int | None = None
) -> dict[str, Any]:
    """Search on ``paths.train`` (the only split read), write both records, return the JSON document."""
    settings = plan(params.tune, schema, quick=quick, trials=trials, jobs=jobs or os.cpu_count() or 1)
    features, target = split_xy(read_processed(params.paths.train, schema), schema)
    outcome = run_search(features, target, params.model, schema, config=params.tune, plan=settings)
    doc = record.document(outcome)
    record.write(doc, *record_paths(params))
    return doc


def summary(doc: dict[str, Any], params: Params) -> str:
    json_path, markdown_path = record_paths(params)
    chosen, current, gain = doc["chosen"], doc["current"], doc["gain"]
    return (
        f"tune: {len(doc['trials'])} trials of {doc['estimator']} in {doc['seconds']:.0f} s on "
        f"{doc['training_rows']:,} training rows, {doc['folds']}-fold CV {doc['metric']}\n"
        f"  current {current['mean']:.4f} ± {current['std']:.4f}   chosen (trial {chosen['trial']}) "
        f"{chosen['mean']:.4f} ± {chosen['std']:.4f}   gain {gain['mean']:+.4f} ± {gain['std']:.4f}\n"
        f"  {'apply' if gain['apply'] else 'keep'}: {gain['reason']}\n"
        f"  -> {json_path}, {markdown_path}"
    )
