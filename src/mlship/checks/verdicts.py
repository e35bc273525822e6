"""``mlship gates``: gather every verdict — model gates and check suites — into one pass/fail outcome."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlship import costs
from mlship.checks import results
from mlship.checks.gates import (
    Baseline,
    DeltaIntervals,
    Verdict,
    load_baseline,
    metric_verdicts,
    not_judged,
)
from mlship.checks.results import SUITES
from mlship.checks.serving import serving_verdicts
from mlship.config import Params, mismatches
from mlship.data.schema import Schema
from mlship.tasks import metric_names


@dataclass(frozen=True)
class Outcome:
    verdicts: tuple[Verdict, ...]
    baseline: Baseline

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)

    @property
    def failures(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.passed]

    @property
    def unjudged(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.status == "not_judged"]

    def render(self) -> str:
        """The baseline, one line per failure and per gate that could not be judged, then the tally."""
        failed, unjudged = self.failures, self.unjudged
        lines = [self.baseline.note]
        lines += [v.line() for v in failed]
        lines += [v.line() for v in unjudged]
        total = len(self.verdicts)
        passed = total - len(failed) - len(unjudged)
        tally = f"gates: {passed}/{total} passed"
        if unjudged:
            tally += f", {len(unjudged)} not judged"
        tally += f", {len(failed)} FAILED" if failed else " - no gate or check failed"
        lines.append(tally)
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "baseline": {
                "ref": self.baseline.ref,
                "commit": self.baseline.commit,
                "note": self.baseline.note,
            },
            "verdicts": [v.as_dict() for v in self.verdicts],
            "counts": {
                "pass": sum(v.status == "pass" for v in self.verdicts),
                "fail": len(self.failures),
                "not_judged": len(self.unjudged),
            },
        }


def suite_path(reports: Path, suite: str) -> Path:
    return reports / "checks" / f"{suite}.json"


def check_verdicts(outcome: results.SuiteOutcome) -> list[Verdict]:
    """One verdict per check; a failed one carries every failed condition's details."""
    verdicts = []
    for check in outcome.checks:
        gate = f"check:{outcome.suite}"
        if check.status == "not_judged":
            verdicts.append(not_judged(gate, check.check, None, f"nothing to judge: {check.error}"))
            continue
        failures = check.failures
        measured = "; ".join(m.text() for m in check.measures)
        detail = "; ".join(failures) if failures else f"{len(check.conditions)} condition(s) met"
        if measured:
            detail = f"{measured} — {detail}" if failures else measured
        tightest = check.tightest
        value = tightest.value if tightest else None
        threshold = tightest.threshold if tightest else None
        verdicts.append(Verdict(gate, check.check, not failures, value, threshold, detail))
    return verdicts


def suite_verdicts(reports: Path) -> list[Verdict]:
    verdicts: list[Verdict] = []
    for suite in SUITES:
        path = suite_path(reports, suite)
        if not path.exists():
            detail = f"{path} is missing: run `dvc repro` (stage checks)"
            verdicts.append(Verdict(f"check:{suite}", "summary", False, None, None, detail))
            continue
        verdicts.extend(check_verdicts(results.read(path)))
    return verdicts


def config_verdicts(params: Params, schema: Schema) -> list[Verdict]:
    """Settings that do not fit the declared data fail here, each named, instead of passing unseen."""
    problems = mismatches(params, metric_names(schema.task), schema.numeric_names, schema.sensitive)
    return [Verdict("config", "params.yaml", False, None, None, problem) for problem in problems]


def judge(
    metrics: dict[str, Any],
    baseline: Baseline,
    reports: Path,
    params: Params,
    schema: Schema,
    *,
    deltas: DeltaIntervals | None = None,
    cost: tuple[dict[str, Any] | None, str | None] = (None, None),
) -> Outcome:
    """Every verdict; ``cost`` is the serving-cost measurement and why it does not describe this model."""
    verdicts = [
        *config_verdicts(params, schema),
        *suite_verdicts(reports),
        *metric_verdicts(metrics, baseline, params.gates, deltas),
        *serving_verdicts(*cost, params.gates.serving),
    ]
    return Outcome(tuple(verdicts), baseline)


def delta_intervals(params: Params, schema: Schema, baseline: Baseline, repo: Path) -> DeltaIntervals:
    """Paired bootstrap intervals of each metric's change against the baseline's predictions (DVC cache)."""
    from mlship import dvccache, predictions  # noqa: PLC0415 - numpy only when the option is on
    from mlship.stats import bootstrap  # noqa: PLC0415

    if baseline.commit is None or baseline.metrics is None:
        return DeltaIntervals({}, "no baseline")
    try:
        pr = predictions.read(repo / params.paths.predictions, schema.task)
    except (FileNotFoundError, predictions.PredictionsError) as error:
        return DeltaIntervals({}, f"this run's predictions cannot be read: {error}")
    lookup = dvccache.at_commit(baseline.commit, params.paths.predictions, repo)
    if lookup.text is None:
        return DeltaIntervals({}, f"the baseline's predictions were not found: {lookup.note}")
    try:
        base = predictions.loads(lookup.text, schema.task)
    except predictions.PredictionsError as error:
        return DeltaIntervals({}, f"the baseline's predictions cannot be read: {error}")
    if not bootstrap.same_rows(base, pr):
        return DeltaIntervals({}, "the baseline scored other test rows: no paired interval")
    settings = params.gates.intervals
    comparison = bootstrap.compare(
        pr, base, resamples=settings.resamples, seed=settings.seed, confidence=settings.confidence
    )
    intervals = {m: (i.delta.low, i.delta.high) for m, i in comparison.metrics.items() if i.delta is not None}
    return DeltaIntervals(intervals, "paired bootstrap")


def run(params: Params, schema: Schema, repo: Path) -> Outcome:
    """CLI entry: judge the workspace's metrics and check summaries; write ``reports/gates.json``."""
    metrics_path = params.paths.metrics
    try:
        metrics = json.loads((repo / metrics_path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{metrics_path} does not exist: run `dvc repro` first") from None
    baseline = load_baseline(
        metrics_path,
        params.gates.baseline_ref,
        repo,
        schema_path=params.data.schema_path,
        target=(schema.target.name, schema.task),
    )
    deltas = None
    if params.gates.regression_judges == "interval":
        deltas = delta_intervals(params, schema, baseline, repo)
    reports = repo / params.paths.reports
    measured = costs.read(reports)
    cost = (measured, costs.current(measured, params, repo))
    outcome = judge(metrics, baseline, reports, params, schema, deltas=deltas, cost=cost)
    out = repo / params.paths.reports / "gates.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(outcome.to_json(), indent=2) + "\n", encoding="utf-8")
    return outcome
