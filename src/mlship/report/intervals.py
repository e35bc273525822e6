"""Signal or noise: bootstrap intervals for the PR's metrics and their deltas, and prediction churn.

The PR's test-set predictions are the workspace's ``paths.predictions``; the base's are found through the
merge base's ``dvc.lock`` in the DVC cache (:mod:`mlship.dvccache`). When both describe the same test rows
the intervals are paired, else unpaired; when the base's file cannot be found the report says so and the
delta's interval is the ``assumed`` one (see :mod:`mlship.stats.bootstrap`). Nothing here fails the report:
what cannot be computed is said in :attr:`Uncertainty.note`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mlship import dvccache, predictions
from mlship.config import Params
from mlship.data.schema import Schema, read_processed, split_xy
from mlship.predictions import Predictions
from mlship.report.deltas import Change, MetricsDiff
from mlship.slices import groups as slice_groups
from mlship.stats import bootstrap
from mlship.stats.bootstrap import Comparison, MetricInterval


@dataclass(frozen=True)
class Churn:
    """How many of the same rows the PR's model answers differently from the base's."""

    n: int
    changed: int | None = None  # classifiers: rows whose predicted label differs
    median: float | None = None  # regression: |Δ prediction|
    p90: float | None = None
    max: float | None = None

    @property
    def share(self) -> float | None:
        return None if self.changed is None or self.n == 0 else self.changed / self.n


@dataclass(frozen=True)
class SliceResult:
    n: int
    interval: MetricInterval | None
    churn: Churn | None = None


@dataclass(frozen=True)
class Uncertainty:
    note: str
    comparison: Comparison | None = None
    churn: Churn | None = None
    slices: dict[str, dict[str, SliceResult]] = field(default_factory=dict)
    slice_note: str = ""


def churn(base: Predictions, pr: Predictions) -> Churn:
    """Paired predictions only (same rows in the same order)."""
    if pr.predicted is not None and base.predicted is not None:
        return Churn(pr.n, changed=int(np.count_nonzero(pr.predicted != base.predicted)))
    moved = np.abs(pr.scores - base.scores)
    if moved.size == 0:
        return Churn(0)
    median, p90 = np.percentile(moved, [50, 90])
    return Churn(pr.n, median=float(median), p90=float(p90), max=float(moved.max()))


def _old_values(changes: Mapping[str, Change]) -> dict[str, float]:
    return {m: float(c.old) for m, c in changes.items() if c.old is not None}


def _base_predictions(
    params: Params, commit: str, pr: Predictions, repo: Path
) -> tuple[Predictions | None, str]:
    lookup = dvccache.at_commit(commit, params.paths.predictions, repo)
    if lookup.text is None:
        return None, f"the base's predictions were not found ({lookup.note})"
    try:
        return predictions.loads(lookup.text, pr.task), lookup.note
    except predictions.PredictionsError as error:
        return None, f"the base's predictions could not be read ({error})"


def compute(params: Params, schema: Schema, commit: str | None, diff: MetricsDiff, repo: Path) -> Uncertainty:
    settings = params.gates.intervals
    path = repo / params.paths.predictions
    try:
        pr = predictions.read(path, schema.task)
    except FileNotFoundError:
        return Uncertainty(f"No intervals: `{params.paths.predictions}` is missing (run `make run`).")
    except predictions.PredictionsError as error:
        return Uncertainty(f"No intervals: `{params.paths.predictions}` cannot be read ({error}).")
    base: Predictions | None = None
    found = "there is no base"
    if commit is not None and diff.base_has_metrics:
        base, found = _base_predictions(params, commit, pr, repo)
    base_values = _old_values(diff.overall) if diff.base_has_metrics else None
    comparison = bootstrap.compare(
        pr,
        base,
        base_values=base_values,
        resamples=settings.resamples,
        seed=settings.seed,
        confidence=settings.confidence,
    )
    note = describe(comparison, found, base_values is not None)
    paired = comparison.mode == "paired" and base is not None
    overall_churn = churn(base, pr) if paired and base is not None else None
    slices, slice_note = _slices(params, schema, diff, pr, base=base if paired else None, repo=repo)
    return Uncertainty(note, comparison, overall_churn, slices, slice_note)


def describe(comparison: Comparison, found: str, has_base: bool) -> str:
    level = f"{comparison.confidence:.0%}"
    how = f"{comparison.resamples:,} bootstrap resamples, seed {comparison.seed}"
    if comparison.mode == "paired":
        return (
            f"{level} intervals from a paired bootstrap: both models scored on the same {comparison.n_pr:,} "
            f"test rows ({how}; base: {found})."
        )
    if comparison.mode == "unpaired":
        return (
            f"{level} intervals from an unpaired bootstrap: the base scored other test rows "
            f"({comparison.n_base:,} vs {comparison.n_pr:,}; {how}; base: {found})."
        )
    if not has_base:
        return f"{level} intervals for the PR's values ({how}); {found}, so there is no delta."
    return (
        f"{found[:1].upper()}{found[1:]}: unpaired fallback — the delta's {level} interval assumes the "
        f"base's metric varies as the PR's does on {comparison.n_pr:,} rows ({how}); no churn."
    )


def _slices(
    params: Params,
    schema: Schema,
    diff: MetricsDiff,
    pr: Predictions,
    *,
    base: Predictions | None,
    repo: Path,
) -> tuple[dict[str, dict[str, SliceResult]], str]:
    if not schema.sensitive:
        return {}, ""
    try:
        features, _ = split_xy(read_processed(repo / params.paths.test, schema), schema)
    except (FileNotFoundError, KeyError, ValueError) as error:
        return {}, f"slice intervals not computed: `{params.paths.test}` cannot be read ({error})"
    if len(features) != pr.n:
        return {}, f"slice intervals not computed: `{params.paths.test}` and the predictions differ in rows"
    settings = params.gates.intervals
    metric = params.gates.slice_gap.metric
    results: dict[str, dict[str, SliceResult]] = {}
    for attribute, labels in slice_groups(features, schema).items():
        for group in sorted(set(labels)):
            index = np.flatnonzero(labels == group)
            pr_slice = pr.take(index)
            base_slice = base.take(index) if base is not None else None
            changes = diff.slices.get(attribute, {}).get(str(group), {})
            old = _old_values(changes) if diff.base_has_metrics else None
            comparison = bootstrap.compare(
                pr_slice,
                base_slice,
                base_values=old,
                resamples=settings.resamples,
                seed=settings.seed,
                confidence=settings.confidence,
            )
            moved = churn(base_slice, pr_slice) if base_slice is not None else None
            results.setdefault(attribute, {})[str(group)] = SliceResult(
                int(index.size), comparison.metrics.get(metric), moved
            )
    return results, ""
