"""Model gates: absolute limits, regression against ``main``, slice gaps, and the simple-model baseline.

Every gate yields a :class:`Verdict`; ``mlship gates`` prints one line per failure and exits non-zero.
Thresholds come from ``params.yaml`` (``gates:``), never from code.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mlship.config import LOWER_IS_BETTER, GatesConfig

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

    def line(self) -> str:
        status = "PASS" if self.passed else "FAIL"
        return f"{status} {self.gate} [{self.target}]: {self.detail}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


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


def regression_verdicts(
    overall: Mapping[str, float], baseline: Baseline, config: GatesConfig
) -> list[Verdict]:
    """How much worse than the merge base each metric got (a loss going up counts as worse)."""
    if baseline.metrics is None:
        return [Verdict("regression", baseline.ref, True, None, None, baseline.note)]
    reference = baseline.metrics.get("overall", {})
    verdicts: list[Verdict] = []
    for metric, allowed in config.max_regression.items():
        if metric not in reference or metric not in overall:
            detail = f"{metric} not present at both {baseline.ref} and HEAD; not compared"
            verdicts.append(Verdict("regression", metric, True, None, allowed, detail))
            continue
        new, old = float(overall[metric]), float(reference[metric])
        worse_by = (new - old) if metric in LOWER_IS_BETTER else (old - new)
        passed = worse_by <= allowed + 1e-12
        detail = (
            f"{metric} {_fmt(old)} -> {_fmt(new)} (worse by {_fmt(max(worse_by, 0.0))}, "
            f"allowed {_fmt(allowed)}) vs {baseline.ref}@{(baseline.commit or '')[:8]}"
        )
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
            detail = f"fewer than two slices with n >= {gate.min_slice_size}; nothing to compare"
            verdicts.append(Verdict("slice_gap", attribute, True, None, allowed, detail))
            continue
        best = max(scored, key=scored.__getitem__)
        worst = min(scored, key=scored.__getitem__)
        gap = scored[best] - scored[worst]
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
    margin = (old - new) if gate.metric in LOWER_IS_BETTER else (new - old)
    passed = margin >= gate.min_margin
    detail = (
        f"{gate.metric} {_fmt(new)} vs simple model {_fmt(old)}: margin {_fmt(margin)} "
        f"{'>=' if passed else '<'} {_fmt(gate.min_margin)}"
    )
    return Verdict("simple_model", gate.metric, passed, margin, gate.min_margin, detail)


def metric_verdicts(metrics: MetricsDoc, baseline: Baseline, config: GatesConfig) -> list[Verdict]:
    overall = metrics.get("overall", {})
    return [
        *floor_verdicts(overall, config),
        *regression_verdicts(overall, baseline, config),
        *slice_gap_verdicts(metrics.get("slices", {}), config),
        simple_model_verdict(metrics, config),
    ]


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def load_baseline(metrics_path: Path, ref: str, repo: Path = Path()) -> Baseline:
    """The metrics file as committed at ``git merge-base HEAD <ref>``, read through git (never a copy)."""
    commit = _git(["merge-base", "HEAD", ref], repo)
    if commit is None:
        return Baseline(
            ref, None, None, f"no merge base with {ref!r}: no baseline, the absolute limits alone apply"
        )
    text = _git(["show", f"{commit}:{metrics_path.as_posix()}"], repo)
    if text is None:
        note = f"{metrics_path} not committed at {ref}@{commit[:8]}: no baseline, absolute limits alone apply"
        return Baseline(ref, commit, None, note)
    return Baseline(ref, commit, json.loads(text), f"baseline: {metrics_path} at {ref}@{commit[:8]}")
