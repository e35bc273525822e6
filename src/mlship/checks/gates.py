"""Model gates: absolute limits, regression against ``main``, slice gaps, and the simple-model baseline.

Every gate yields a :class:`Verdict`; ``mlship gates`` prints one line per failure and exits non-zero.
Thresholds come from ``params.yaml`` (``gates:``), never from code; metric directions from
:mod:`mlship.tasks`. Gates fail closed: a metric missing on either side fails; a judgement that cannot be
made (no baseline yet, fewer than two slices large enough) is a ``not_judged`` verdict, printed as such.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from mlship import gitrefs
from mlship.config import GatesConfig
from mlship.tasks import higher_is_better

Status = Literal["pass", "fail", "not_judged"]

MetricsDoc = Mapping[str, Any]


@dataclass(frozen=True)
class Verdict:
    """One gate or check outcome: what, where, the value that decided it and the threshold."""

    gate: str
    target: str
    passed: bool
    value: float | None
    threshold: float | None
    detail: str
    judged: bool = True

    @property
    def status(self) -> Status:
        if not self.judged:
            return "not_judged"
        return "pass" if self.passed else "fail"

    def line(self) -> str:
        label = {"pass": "PASS", "fail": "FAIL", "not_judged": "NOT JUDGED"}[self.status]
        return f"{label} {self.gate} [{self.target}]: {self.detail}"

    def as_dict(self) -> dict[str, Any]:
        record = asdict(self)
        del record["judged"]
        record["status"] = self.status
        return record


def not_judged(gate: str, target: str, threshold: float | None, detail: str) -> Verdict:
    """A gate that cannot be decided: it does not block, and it is listed so nobody mistakes it for a pass."""
    return Verdict(gate, target, True, None, threshold, detail, judged=False)


@dataclass(frozen=True)
class Baseline:
    """The metrics committed at the merge base with ``main`` (``None`` when there is none)."""

    ref: str
    commit: str | None
    metrics: MetricsDoc | None
    note: str


def _fmt(value: float) -> str:
    return f"{value:.4f}"


def floor_verdicts(overall: Mapping[str, float], config: GatesConfig) -> list[Verdict]:
    verdicts: list[Verdict] = []
    for metric, floor in config.floors.items():
        value = overall.get(metric)
        if value is None:
            verdicts.append(Verdict("floor", metric, False, None, floor, f"{metric} missing from metrics"))
            continue
        passed = value >= floor
        sign = ">=" if passed else "<"
        verdicts.append(
            Verdict(
                "floor", metric, passed, value, floor, f"{metric} = {_fmt(value)} {sign} floor {_fmt(floor)}"
            )
        )
    for metric, ceiling in config.ceilings.items():
        value = overall.get(metric)
        if value is None:
            verdicts.append(
                Verdict("ceiling", metric, False, None, ceiling, f"{metric} missing from metrics")
            )
            continue
        passed = value <= ceiling
        sign = "<=" if passed else ">"
        verdicts.append(
            Verdict(
                "ceiling",
                metric,
                passed,
                value,
                ceiling,
                f"{metric} = {_fmt(value)} {sign} ceiling {_fmt(ceiling)}",
            )
        )
    return verdicts


@dataclass(frozen=True)
class DeltaIntervals:
    """Bootstrap intervals of each metric's change (PR - base), for ``regression_judges: interval``."""

    intervals: Mapping[str, tuple[float, float]]
    note: str


def regression_verdicts(
    overall: Mapping[str, float],
    baseline: Baseline,
    config: GatesConfig,
    deltas: DeltaIntervals | None = None,
) -> list[Verdict]:
    """How much worse than the merge base each metric got (a loss going up counts as worse).

    No baseline, or a baseline holding none of the configured metrics (another task or dataset on
    ``main``), cannot be compared: one ``not_judged`` line. A metric missing on one side only fails.
    With ``regression_judges: interval`` and ``deltas``, a metric fails only when even the most favourable
    end of its delta's interval is worse than allowed; without ``deltas`` the point value decides (and the
    detail says why).
    """
    if baseline.metrics is None:
        return [not_judged("regression", baseline.ref, None, baseline.note)]
    reference = baseline.metrics.get("overall", {})
    where = f"{baseline.ref}@{(baseline.commit or '')[:8]}"
    if config.max_regression and not set(config.max_regression) & set(reference):
        detail = (
            f"the baseline at {where} has none of {', '.join(config.max_regression)} "
            "(another task or dataset): not compared"
        )
        return [not_judged("regression", baseline.ref, None, detail)]
    verdicts: list[Verdict] = []
    for metric, allowed in config.max_regression.items():
        missing = [side for side, doc in ((where, reference), ("HEAD", overall)) if metric not in doc]
        if missing:
            detail = f"{metric} missing at {' and '.join(missing)}: cannot show it did not regress"
            verdicts.append(Verdict("regression", metric, False, None, allowed, detail))
            continue
        new, old = float(overall[metric]), float(reference[metric])
        worse_by = (old - new) if higher_is_better(metric) else (new - old)
        detail = (
            f"{metric} {_fmt(old)} -> {_fmt(new)} (worse by {_fmt(max(worse_by, 0.0))}, "
            f"allowed {_fmt(allowed)}) vs {where}"
        )
        if config.regression_judges == "interval":
            interval = deltas.intervals.get(metric) if deltas is not None else None
            if interval is None:
                why = deltas.note if deltas is not None else "no interval"
                detail += f"; judged on the point value ({why})"
            else:
                low, high = interval
                worse_by = -high if higher_is_better(metric) else low  # the interval's most favourable end
                at_least = _fmt(max(worse_by, 0.0))
                detail += f"; delta interval [{low:+.4f}, {high:+.4f}]: worse by at least {at_least}"
        passed = worse_by <= allowed + 1e-12
        verdicts.append(Verdict("regression", metric, passed, worse_by, allowed, detail))
    return verdicts


def slice_gap_verdicts(
    slices: Mapping[str, Mapping[str, Mapping[str, float]]], config: GatesConfig
) -> list[Verdict]:
    """The gap between the best and worst slice of each attribute, over slices big enough to measure."""
    gate = config.slice_gap
    verdicts: list[Verdict] = []
    for attribute, allowed in gate.max_gap.items():
        groups = slices.get(attribute)
        if groups is None:
            verdicts.append(
                Verdict("slice_gap", attribute, False, None, allowed, f"no slice metrics for {attribute!r}")
            )
            continue
        scored = {
            name: float(values[gate.metric])
            for name, values in groups.items()
            if values.get("n", 0) >= gate.min_slice_size and gate.metric in values
        }
        skipped = sorted(set(groups) - set(scored))
        if len(scored) < 2:
            detail = (
                f"fewer than two slices with n >= {gate.min_slice_size} and {gate.metric} "
                f"({len(scored)} of {len(groups)}); the gap cannot be judged"
            )
            verdicts.append(not_judged("slice_gap", attribute, allowed, detail))
            continue
        sign = 1.0 if higher_is_better(gate.metric) else -1.0
        best = max(scored, key=lambda name: sign * scored[name])
        worst = min(scored, key=lambda name: sign * scored[name])
        gap = abs(scored[best] - scored[worst])
        passed = gap <= allowed
        detail = (
            f"{gate.metric} gap {_fmt(gap)} ({worst} {_fmt(scored[worst])} vs {best} {_fmt(scored[best])}) "
            f"{'<=' if passed else '>'} {_fmt(allowed)}"
        )
        if skipped:
            detail += f"; too small to judge (n < {gate.min_slice_size}): {', '.join(skipped)}"
        verdicts.append(Verdict("slice_gap", f"{attribute}", passed, gap, allowed, detail))
    return verdicts


def simple_model_verdict(metrics: MetricsDoc, config: GatesConfig) -> Verdict:
    """The candidate must beat the simple model trained in the same run by the configured margin."""
    gate = config.simple_model
    simple = metrics.get("simple_model", {}).get("overall", {})
    candidate = metrics.get("overall", {})
    if gate.metric not in simple or gate.metric not in candidate:
        return Verdict(
            "simple_model", gate.metric, False, None, gate.min_margin, "simple-model metrics missing"
        )
    new, old = float(candidate[gate.metric]), float(simple[gate.metric])
    margin = (new - old) if higher_is_better(gate.metric) else (old - new)
    passed = margin >= gate.min_margin
    detail = (
        f"{gate.metric} {_fmt(new)} vs simple model {_fmt(old)}: margin {_fmt(margin)} "
        f"{'>=' if passed else '<'} {_fmt(gate.min_margin)}"
    )
    return Verdict("simple_model", gate.metric, passed, margin, gate.min_margin, detail)


def metric_verdicts(
    metrics: MetricsDoc, baseline: Baseline, config: GatesConfig, deltas: DeltaIntervals | None = None
) -> list[Verdict]:
    overall = metrics.get("overall", {})
    return [
        *floor_verdicts(overall, config),
        *regression_verdicts(overall, baseline, config, deltas),
        *slice_gap_verdicts(metrics.get("slices", {}), config),
        simple_model_verdict(metrics, config),
    ]


def _target_at(commit: str, schema_path: Path, repo: Path) -> tuple[str, str] | None:
    """The target's name and task declared at ``commit`` (``None`` when no readable schema is there)."""
    text = gitrefs.git(["show", f"{commit}:{schema_path.as_posix()}"], repo)
    if text is None:
        return None
    try:
        target = yaml.safe_load(text)["target"]
        return str(target["name"]), str(target["task"])
    except (yaml.YAMLError, KeyError, TypeError):
        return None


def load_baseline(
    metrics_path: Path,
    ref: str,
    repo: Path = Path(),
    schema_path: Path | None = None,
    target: tuple[str, str] | None = None,
) -> Baseline:
    """The metrics file as committed at ``git merge-base HEAD <ref>``, read through git (never a copy).

    When ``schema_path`` and the current ``target`` (name, task) are given and the merge base declares
    another target, its metrics describe another problem (a fork's first adoption of its own data): there
    is no comparable baseline, and the note says why.
    """
    commit = gitrefs.merge_base(ref, repo)  # also finds origin/<ref> in a CI checkout
    if commit is None:
        return Baseline(
            ref, None, None, f"no merge base with {ref!r}: no baseline, the absolute limits alone apply"
        )
    text = gitrefs.git(["show", f"{commit}:{metrics_path.as_posix()}"], repo)
    if text is None:
        note = f"{metrics_path} not committed at {ref}@{commit[:8]}: no baseline, absolute limits alone apply"
        return Baseline(ref, commit, None, note)
    if schema_path is not None and target is not None:
        base_target = _target_at(commit, schema_path, repo)
        if base_target is not None and base_target != target:
            note = (
                f"the baseline at {ref}@{commit[:8]} predicts {base_target[0]} ({base_target[1]}), this tree "
                f"{target[0]} ({target[1]}): no comparable baseline, the absolute limits alone apply"
            )
            return Baseline(ref, commit, None, note)
    return Baseline(ref, commit, json.loads(text), f"baseline: {metrics_path} at {ref}@{commit[:8]}")
