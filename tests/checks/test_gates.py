"""Model gates: floors and ceilings, regression against main (read through git), slice gaps, simple model,
and the fail-closed rules (a metric missing on either side fails; what cannot be judged says so).

Everything is derived from the project's ``params.yaml`` gates and the declared task's metrics, so the tests
hold on any fork: the metric documents are built from the configured limits, never written out by hand.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlship.checks.gates import (
    Baseline,
    Verdict,
    floor_verdicts,
    load_baseline,
    metric_verdicts,
    regression_verdicts,
    simple_model_verdict,
    slice_gap_verdicts,
)
from mlship.checks.verdicts import judge, run
from mlship.config import ConfigError, GatesConfig, Params, parse_params
from mlship.data.schema import CategoricalColumn, Schema
from mlship.tasks import METRICS, TASKS, higher_is_better, metric_names

_MARGIN = 0.01


def _higher(task: str) -> list[str]:
    return [m.name for m in METRICS[task] if m.higher_is_better]  # type: ignore[index]


def _lower(task: str) -> list[str]:
    return [m.name for m in METRICS[task] if not m.higher_is_better]  # type: ignore[index]


def _slice_attribute(params: Params, schema: Schema) -> str:
    """The attribute the slice tests use: one the gates declare, else the first sensitive attribute, else
    the first categorical feature (a schema with none of them: a made-up attribute)."""
    candidates = [*params.gates.slice_gap.max_gap, *schema.sensitive, *schema.categorical_names]
    return candidates[0] if candidates else "attribute"


@pytest.fixture(scope="module")
def gates(params: Params, schema: Schema) -> GatesConfig:
    """The project's gates, completed where a fork left a section empty so every gate kind is exercised:
    a floor on a higher-is-better metric of the task, a ceiling on a lower-is-better one (when the task has
    one), a regression limit, and a slice-gap limit on an attribute of the schema."""
    config = params.gates
    task = schema.task
    update: dict[str, Any] = {}
    if not config.floors:
        update["floors"] = {_higher(task)[0]: 0.5}
    if not config.ceilings and _lower(task):
        update["ceilings"] = {_lower(task)[0]: 0.5}
    if not config.max_regression:
        update["max_regression"] = {metric_names(task)[0]: 0.01}
    if not config.slice_gap.max_gap:
        attribute = _slice_attribute(params, schema)
        update["slice_gap"] = config.slice_gap.model_copy(update={"max_gap": {attribute: 0.05}})
    return config.model_copy(update=update)


def _good_value(metric: str, gates: GatesConfig) -> float:
    """A value of ``metric`` that clears its configured limit with room to spare."""
    if metric in gates.floors:
        return gates.floors[metric] + 2 * _MARGIN
    if metric in gates.ceilings:
        return gates.ceilings[metric] / 2
    return 0.5


def _metrics(gates: GatesConfig, schema: Schema, **overall: float) -> dict[str, Any]:
    """A metrics.json document that passes every gate, with ``overall`` overriding single metrics."""
    values = {metric: _good_value(metric, gates) for metric in metric_names(schema.task)}
    values.update(overall)
    slice_metric = gates.slice_gap.metric
    size = gates.slice_gap.min_slice_size
    slices: dict[str, dict[str, dict[str, float]]] = {}
    for attribute in gates.slice_gap.max_gap:
        slices[attribute] = {
            group: {"n": size * (i + 1), slice_metric: _good_value(slice_metric, gates)}
            for i, group in enumerate(_groups(attribute, schema))
        }
    simple_metric = gates.simple_model.metric
    ahead = gates.simple_model.min_margin + _MARGIN
    simple = (
        values[simple_metric] - ahead if higher_is_better(simple_metric) else values[simple_metric] + ahead
    )
    return {
        "overall": {**values, "n": 1000},
        "slices": slices,
        "simple_model": {"overall": {simple_metric: simple}},
    }


def _groups(attribute: str, schema: Schema) -> tuple[str, ...]:
    """The slices of an attribute: its categories (a boolean attribute: false/true)."""
    if attribute in schema.feature_names:
        column = schema.column(attribute)
        if isinstance(column, CategoricalColumn) and len(column.categories) >= 2:
            return column.categories
        return ("false", "true")
    return ("a", "b", "c")


def _failed(verdicts: list[Verdict]) -> list[tuple[str, str]]:
    return [(v.gate, v.target) for v in verdicts if not v.passed]


def _worse(metric: str, value: float, by: float) -> float:
    return value - by if higher_is_better(metric) else value + by


def test_the_completed_config_exercises_every_gate_kind(gates: GatesConfig, schema: Schema) -> None:
    # then each gate kind has something to judge, in the task's own metrics
    task_metrics = set(metric_names(schema.task))
    assert gates.floors
    assert set(gates.floors) <= task_metrics
    assert set(gates.ceilings) <= task_metrics
    assert gates.max_regression
    assert gates.slice_gap.max_gap


def test_a_good_model_passes_every_metric_gate(gates: GatesConfig, schema: Schema) -> None:
    # given metrics clearing every limit, and a baseline equal to them
    metrics = _metrics(gates, schema)
    baseline = Baseline("main", "abc", metrics, "baseline")
    # when judged
    verdicts = metric_verdicts(metrics, baseline, gates)
    # then every gate passes, and every one of them was actually judged
    assert _failed(verdicts) == []
    assert {v.status for v in verdicts} == {"pass"}
    assert {v.gate for v in verdicts} >= {"floor", "regression", "slice_gap", "simple_model"}


@given(data=st.data())
def test_a_floor_passes_exactly_when_the_metric_reaches_it(
    gates: GatesConfig, schema: Schema, data: st.DataObject
) -> None:
    # given any configured floor and any value of its metric
    metric = data.draw(st.sampled_from(sorted(gates.floors)))
    floor = gates.floors[metric]
    value = data.draw(st.floats(min_value=floor - 1, max_value=floor + 1, allow_nan=False))
    overall = {**_metrics(gates, schema)["overall"], metric: value}
    # when judged
    verdict = next(v for v in floor_verdicts(overall, gates) if v.target == metric and v.gate == "floor")
    # then it passes exactly when the value reaches the floor
    assert verdict.passed == (value >= floor)
    assert verdict.status == ("pass" if value >= floor else "fail")


def test_a_metric_under_its_floor_fails_naming_metric_value_and_floor(
    gates: GatesConfig, schema: Schema
) -> None:
    # given the first floor, missed by 0.05
    metric, floor = next(iter(gates.floors.items()))
    overall = _metrics(gates, schema, **{metric: floor - 0.05})["overall"]
    # when judged / then only that floor fails, with a line naming metric, value and floor
    failed = [v for v in floor_verdicts(overall, gates) if not v.passed]
    assert [(v.gate, v.target) for v in failed] == [("floor", metric)]
    assert failed[0].line() == f"FAIL floor [{metric}]: {metric} = {floor - 0.05:.4f} < floor {floor:.4f}"


def test_a_loss_over_its_ceiling_fails(gates: GatesConfig, schema: Schema) -> None:
    if not gates.ceilings:
        # a task without a lower-is-better metric has no ceiling to break: then none may be configured
        assert not _lower(schema.task)
        return
    # given each ceiling, exceeded
    for metric, ceiling in gates.ceilings.items():
        overall = _metrics(gates, schema, **{metric: ceiling + 0.1})["overall"]
        # when judged / then exactly that ceiling fails
        assert _failed(floor_verdicts(overall, gates)) == [("ceiling", metric)]


def test_a_metric_missing_from_the_candidate_fails_its_limit(gates: GatesConfig, schema: Schema) -> None:
    # given metrics where every limited metric is absent
    overall = {"n": 1000}
    # when judged / then every floor and ceiling fails, saying the metric is missing
    verdicts = floor_verdicts(overall, gates)
    assert len(verdicts) == len(gates.floors) + len(gates.ceilings)
    assert all(not v.passed and "missing" in v.detail for v in verdicts)


def test_a_regression_beyond_the_allowance_fails_and_a_small_one_passes(
    gates: GatesConfig, schema: Schema
) -> None:
    base = _metrics(gates, schema)
    baseline = Baseline("main", "abcdef12", base, "baseline")
    for metric, allowed in gates.max_regression.items():
        # given the metric worse than the baseline by half, then by twice the allowance
        old = base["overall"][metric]
        small = _metrics(gates, schema, **{metric: _worse(metric, old, allowed / 2)})["overall"]
        large = _metrics(gates, schema, **{metric: _worse(metric, old, allowed * 2 + 1e-6)})["overall"]
        # when judged / then the small one passes and the large one fails, on that metric only
        assert _failed(regression_verdicts(small, baseline, gates)) == []
        assert _failed(regression_verdicts(large, baseline, gates)) == [("regression", metric)]


def test_getting_better_is_never_a_regression(gates: GatesConfig, schema: Schema) -> None:
    base = _metrics(gates, schema)
    baseline = Baseline("main", "abcdef12", base, "baseline")
    # given every limited metric improved by a lot, in its own direction (a loss going down)
    better = {m: _worse(m, base["overall"][m], -1.0) for m in gates.max_regression}
    # when judged / then nothing fails
    verdicts = regression_verdicts(_metrics(gates, schema, **better)["overall"], baseline, gates)
    assert _failed(verdicts) == []
    assert len(verdicts) == len(gates.max_regression)


def test_a_metric_missing_on_one_side_fails_the_regression_gate(gates: GatesConfig, schema: Schema) -> None:
    # given regression limits on two of the task's metrics (so the baseline still shares one with HEAD)
    metric, *_ = gates.max_regression
    second = next(m for m in metric_names(schema.task) if m != metric)
    limits = gates.model_copy(update={"max_regression": {**gates.max_regression, second: 0.01}})
    full = _metrics(limits, schema)
    without = {k: v for k, v in full["overall"].items() if k != metric}
    # and the metric missing from the candidate, then from the baseline
    for candidate, reference in ((without, full), (full["overall"], {**full, "overall": without})):
        baseline = Baseline("main", "abcdef12", reference, "baseline")
        # when judged
        verdicts = regression_verdicts(candidate, baseline, limits)
        # then that metric fails (fail closed), saying it is missing, and the other one is still judged
        by_metric = {v.target: v for v in verdicts}
        assert by_metric[metric].status == "fail"
        assert "missing" in by_metric[metric].detail
        assert by_metric[second].status == "pass"


def test_without_a_baseline_the_regression_gate_is_not_judged_and_says_so(
    gates: GatesConfig, schema: Schema
) -> None:
    # given no merge base with main
    none = Baseline(
        "main", None, None, "no merge base with 'main': no baseline, the absolute limits alone apply"
    )
    metric = next(iter(gates.max_regression))
    # when a terrible candidate is judged
    verdicts = regression_verdicts(
        _metrics(gates, schema, **{metric: _worse(metric, 0.5, 10)})["overall"], none, gates
    )
    # then one line says it was not judged (it does not block, and it is not a pass)
    assert [v.status for v in verdicts] == ["not_judged"]
    assert verdicts[0].passed
    assert "absolute limits alone apply" in verdicts[0].detail
    assert verdicts[0].line().startswith("NOT JUDGED regression")


def test_a_baseline_from_another_task_is_not_judged(gates: GatesConfig, schema: Schema) -> None:
    # given a baseline holding only metrics of other tasks
    foreign = sorted(
        {m for task in TASKS for m in metric_names(task)}
        - set(gates.max_regression)
        - set(metric_names(schema.task))
    )
    baseline = Baseline("main", "abcdef12", {"overall": dict.fromkeys(foreign, 0.5)}, "baseline")
    # when judged / then the comparison is reported as not judged, naming the metrics it looked for
    verdicts = regression_verdicts(_metrics(gates, schema)["overall"], baseline, gates)
    assert [v.status for v in verdicts] == ["not_judged"]
    assert all(metric in verdicts[0].detail for metric in gates.max_regression)


def test_a_slice_gap_beyond_the_limit_fails_naming_the_slices(gates: GatesConfig, schema: Schema) -> None:
    metric = gates.slice_gap.metric
    attribute, allowed = next(iter(gates.slice_gap.max_gap.items()))
    metrics = _metrics(gates, schema)
    groups = list(metrics["slices"][attribute])
    # given one slice worse than the others by more than the allowed gap
    best_value = metrics["slices"][attribute][groups[0]][metric]
    worst_value = _worse(metric, best_value, allowed + 0.05)
    metrics["slices"][attribute][groups[-1]][metric] = worst_value
    # when judged
    failed = [v for v in slice_gap_verdicts(metrics["slices"], gates) if not v.passed]
    # then that attribute fails, naming the worst and the best slice
    assert [(v.gate, v.target) for v in failed] == [("slice_gap", attribute)]
    assert f"{groups[-1]} {worst_value:.4f} vs {groups[0]} {best_value:.4f}" in failed[0].detail


def test_slices_too_small_to_judge_are_listed_not_judged(gates: GatesConfig, schema: Schema) -> None:
    metric = gates.slice_gap.metric
    attribute = next(iter(gates.slice_gap.max_gap))
    metrics = _metrics(gates, schema)
    # given a tiny slice with a terrible value
    tiny = "tiny-slice"
    metrics["slices"][attribute][tiny] = {
        "n": gates.slice_gap.min_slice_size - 1,
        metric: _worse(metric, 0.5, 10),
    }
    # when judged / then the attribute is judged on the others and the tiny slice is listed
    verdict = next(v for v in slice_gap_verdicts(metrics["slices"], gates) if v.target == attribute)
    assert verdict.status == "pass"
    assert "too small to judge" in verdict.detail
    assert tiny in verdict.detail


def test_fewer_than_two_judgeable_slices_is_not_judged(gates: GatesConfig, schema: Schema) -> None:
    attribute = next(iter(gates.slice_gap.max_gap))
    metrics = _metrics(gates, schema)
    # given every slice but one too small
    groups = list(metrics["slices"][attribute])
    for group in groups[1:]:
        metrics["slices"][attribute][group]["n"] = gates.slice_gap.min_slice_size - 1
    # when judged / then the gap is reported as not judged, never as a pass
    verdict = next(v for v in slice_gap_verdicts(metrics["slices"], gates) if v.target == attribute)
    assert verdict.status == "not_judged"
    assert "cannot be judged" in verdict.detail


def test_an_attribute_without_slice_metrics_fails(gates: GatesConfig, schema: Schema) -> None:
    attribute = next(iter(gates.slice_gap.max_gap))
    metrics = _metrics(gates, schema)
    del metrics["slices"][attribute]
    verdict = next(v for v in slice_gap_verdicts(metrics["slices"], gates) if v.target == attribute)
    assert verdict.status == "fail"
    assert attribute in verdict.detail


def test_the_candidate_must_beat_the_simple_model(gates: GatesConfig, schema: Schema) -> None:
    metric = gates.simple_model.metric
    metrics = _metrics(gates, schema)
    simple = metrics["simple_model"]["overall"][metric]
    # given a candidate ahead of the simple model by a little less than the required margin
    short = gates.simple_model.min_margin - _MARGIN / 2
    close = _metrics(gates, schema, **{metric: _worse(metric, simple, -short)})
    close["simple_model"] = metrics["simple_model"]
    # when judged / then it fails, naming the simple model's value; a clear lead passes
    verdict = simple_model_verdict(close, gates)
    assert not verdict.passed
    assert f"vs simple model {simple:.4f}" in verdict.detail
    assert simple_model_verdict(metrics, gates).passed


def test_missing_simple_model_metrics_fail(gates: GatesConfig, schema: Schema) -> None:
    metrics = _metrics(gates, schema)
    del metrics["simple_model"]
    assert simple_model_verdict(metrics, gates).status == "fail"


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def test_the_baseline_is_read_from_the_merge_base_on_main(
    tmp_path: Path, gates: GatesConfig, schema: Schema
) -> None:
    metric = metric_names(schema.task)[0]
    # given a repository whose main has metrics, and a branch that changed them (and main moved on)
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "config", "user.email", "t@t")
    _git(tmp_path, "config", "user.name", "t")
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps(_metrics(gates, schema, **{metric: 0.25})))
    _git(tmp_path, "add", "metrics.json")
    _git(tmp_path, "commit", "-q", "-m", "main metrics")
    base = _git(tmp_path, "rev-parse", "HEAD")
    _git(tmp_path, "checkout", "-q", "-b", "feature")
    metrics.write_text(json.dumps(_metrics(gates, schema, **{metric: 0.5})))
    _git(tmp_path, "commit", "-qam", "another model")
    _git(tmp_path, "checkout", "-q", "main")
    metrics.write_text(json.dumps(_metrics(gates, schema, **{metric: 0.75})))
    _git(tmp_path, "commit", "-qam", "main moves on")
    _git(tmp_path, "checkout", "-q", "feature")
    # when the baseline is loaded
    baseline = load_baseline(Path("metrics.json"), "main", tmp_path)
    # then it is main's metrics at the merge base, not main's tip nor the branch's
    assert baseline.commit == base
    assert baseline.metrics is not None
    assert baseline.metrics["overall"][metric] == 0.25


def test_no_such_branch_means_no_baseline(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q", "-b", "trunk")
    baseline = load_baseline(Path("metrics.json"), "main", tmp_path)
    assert baseline.metrics is None
    assert "absolute limits alone apply" in baseline.note


def test_floors_and_ceilings_must_match_the_metric_direction(params: Params, schema: Schema) -> None:
    raw = params.model_dump(mode="json")
    # given a lower-is-better metric (of the task, else of any task) declared as a floor
    losses = _lower(schema.task) or [m for task in TASKS for m in _lower(task)]
    raw["gates"]["floors"][losses[0]] = 0.3
    # when parsed / then the error names the metric and where it belongs
    with pytest.raises(ConfigError, match=rf"{losses[0]} belong\(s\) under gates\.ceilings"):
        parse_params(raw)
    # and the other way round
    raw = params.model_dump(mode="json")
    gains = _higher(schema.task)
    raw["gates"]["ceilings"][gains[0]] = 0.3
    with pytest.raises(ConfigError, match=rf"{gains[0]} belong\(s\) under gates\.floors"):
        parse_params(raw)


def test_settings_that_do_not_fit_the_schema_fail_as_config(
    params: Params, schema: Schema, gates: GatesConfig, tmp_path: Path
) -> None:
    # given gates on another task's metric, a slice limit on a column that is not sensitive, and a
    # monotonic constraint on a feature that is not numeric
    foreign = sorted({m for task in TASKS for m in _higher(task)} - set(metric_names(schema.task)))[0]
    not_sensitive = "not-a-sensitive-column"
    not_numeric = next(iter(schema.categorical_names), "not-a-numeric-column")
    broken = params.model_copy(
        update={
            "gates": gates.model_copy(
                update={
                    "floors": {**gates.floors, foreign: 0.5},
                    "slice_gap": gates.slice_gap.model_copy(
                        update={"max_gap": {**gates.slice_gap.max_gap, not_sensitive: 0.1}}
                    ),
                }
            ),
            "model": params.model.model_copy(
                update={"monotonic": {**params.model.monotonic, not_numeric: 1}}
            ),
        }
    )
    # when judged
    outcome = judge(_metrics(gates, schema), Baseline("main", None, None, "none"), tmp_path, broken, schema)
    # then each mismatch is a named config failure, and the outcome fails
    config = [v.detail for v in outcome.verdicts if v.gate == "config"]
    assert len(config) == 3
    assert any(foreign in d and "gates.floors" in d for d in config)
    assert any(not_sensitive in d for d in config)
    assert any(not_numeric in d and "model.monotonic" in d for d in config)
    assert not outcome.passed


def test_the_project_settings_fit_the_schema(params: Params, schema: Schema, tmp_path: Path) -> None:
    # given the project's own params and schema / when judged / then no config failure is raised
    outcome = judge(
        _metrics(params.gates, schema), Baseline("main", None, None, "none"), tmp_path, params, schema
    )
    assert [v.detail for v in outcome.verdicts if v.gate == "config"] == []


def test_the_gates_report_gives_every_verdict_a_status(
    params: Params, schema: Schema, tmp_path: Path
) -> None:
    # given a workspace with metrics and no check reports, outside any git repository
    (tmp_path / params.paths.metrics).write_text(json.dumps(_metrics(params.gates, schema)))
    # when the gates run
    outcome = run(params, schema, tmp_path)
    # then reports/gates.json lists every verdict with a status that agrees with `passed`
    report = json.loads((tmp_path / params.paths.reports / "gates.json").read_text())
    statuses = [v["status"] for v in report["verdicts"]]
    assert set(statuses) <= {"pass", "fail", "not_judged"}
    assert all(v["passed"] == (v["status"] != "fail") for v in report["verdicts"])
    # and the missing check reports fail while the missing baseline is not judged
    assert "not_judged" in statuses
    assert any(v["gate"].startswith("check:") and v["status"] == "fail" for v in report["verdicts"])
    assert report["passed"] is False
    assert report["passed"] == outcome.passed
    assert report["counts"] == {s: statuses.count(s) for s in ("pass", "fail", "not_judged")}
    assert "NOT JUDGED" in outcome.render()
