"""The report as Markdown: verdict first, then what moved, the verdicts behind it, and the charts."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mlship.markdown import charts
from mlship.markdown.tables import table as _table
from mlship.report.collect import Inputs
from mlship.report.deltas import TOLERANCE, Change, Mark, format_delta, format_value, ordered
from mlship.report.intervals import Churn
from mlship.report.plots import PlotSet
from mlship.report.serving import serving_section
from mlship.stats.bootstrap import Interval, MetricInterval, judge
from mlship.tasks import HIGHER_IS_BETTER

#: GitHub refuses comments longer than this many characters.
COMMENT_LIMIT = 65_536
BASE_COLOUR, PR_COLOUR, REFERENCE_COLOUR = "#9e9e9e", "#d62728", "#1f77b4"

MARKS: dict[Mark, str] = {
    "better": "🟢 better",
    "worse": "🔴 worse",
    "same": "⚪ same",
    "new": "🆕 new",
    "gone": "⚠️ gone",
    "n/a": "",
}
STATUS = {"fail": "❌ fail", "not_judged": "⚠️ not judged", "pass": "✅ pass"}
STATUS_ORDER = {"fail": 0, "not_judged": 1, "pass": 2}


@dataclass(frozen=True)
class Links:
    """Where the PNG charts and the Deepchecks HTML reports are (a workflow run's artifacts, or a folder)."""

    artifact_url: str | None
    artifact_dir: str
    images: Sequence[str] = ()  # PNG paths to embed (only when the team opts in to publishing images)


def verdict_status(verdict: dict[str, Any]) -> str:
    status = verdict.get("status")
    if status in STATUS:
        return str(status)
    return "pass" if verdict.get("passed") else "fail"


def _name(verdict: dict[str, Any]) -> str:
    return f"{verdict.get('gate')} [{verdict.get('target')}]"


def verdict_line(inputs: Inputs) -> str:
    """One line: may merge, or what blocks it."""
    problems: list[str] = []
    repro = inputs.repro
    if repro is not None and not repro.get("passed", False):
        files = ", ".join(f"`{f['path']}`" for f in repro.get("files", []))
        problems.append(f"the committed pipeline outputs differ from the reproduced ones ({files})")
    if inputs.gates is None:
        problems.append("the gates were not run (`reports/gates.json` is missing: run `make gates`)")
        return "⚠️ **Not judged** — " + "; ".join(problems) + "."
    verdicts = inputs.gates.get("verdicts", [])
    failed = [v for v in verdicts if verdict_status(v) == "fail"]
    unjudged = [v for v in verdicts if verdict_status(v) == "not_judged"]
    if failed:
        names = ", ".join(_name(v) for v in failed)
        problems.insert(0, f"{len(failed)} gate{'s' if len(failed) != 1 else ''} failed: {names}")
    if problems:
        return "❌ **Do not merge** — " + "; ".join(problems) + "."
    tail = f" ({len(unjudged)} not judged, listed below)" if unjudged else ""
    return f"✅ **May merge** — all {len(verdicts) - len(unjudged)} gates and checks passed{tail}."


def _change_row(label: str, change: Change) -> list[str]:
    return [
        label,
        format_value(change.old),
        format_value(change.new),
        format_delta(change),
        MARKS[change.mark],
    ]


def _interval(interval: Interval | None, signed: bool = False) -> str:
    if interval is None:
        return ""
    sign = "+" if signed else ""
    return f" [{interval.low:{sign}.4f}, {interval.high:{sign}.4f}]"


def interval_mark(change: Change, interval: MetricInterval | None) -> str:
    """The mark follows the delta's interval: better/worse only when it excludes zero that way."""
    if change.mark not in ("better", "worse", "same") or interval is None or interval.delta is None:
        return MARKS[change.mark]
    if change.metric not in HIGHER_IS_BETTER:
        return MARKS[change.mark]
    judged = judge(interval.delta, HIGHER_IS_BETTER[change.metric])
    if judged in ("better", "worse"):
        return MARKS[judged]
    if change.mark == "same" and interval.delta.half_width <= TOLERANCE:
        return MARKS["same"]
    return f"⚪ within noise (±{interval.delta.half_width:.4f})"


def _interval_row(label: str, change: Change, interval: MetricInterval | None) -> list[str]:
    pr = format_value(change.new) + (_interval(interval.pr) if interval and change.new is not None else "")
    delta = format_delta(change)
    if interval is not None and interval.delta is not None and change.delta is not None:
        delta += _interval(interval.delta, signed=True)
    return [label, format_value(change.old), pr, delta, interval_mark(change, interval)]


def _metric_intervals(inputs: Inputs) -> dict[str, MetricInterval]:
    comparison = inputs.uncertainty.comparison
    return comparison.metrics if comparison is not None else {}


def signal_sentence(inputs: Inputs) -> str:
    """One sentence: which headline metrics changed beyond noise, or that none did."""
    if inputs.base.commit is None or not inputs.diff.base_has_metrics:
        return ""
    intervals = _metric_intervals(inputs)
    changes = [c for c in ordered(inputs.diff.overall, inputs.metrics) if c.metric in inputs.metrics]
    judged = [(c, intervals.get(c.metric)) for c in changes]
    if not any(i is not None and i.delta is not None for _, i in judged):
        return "No interval for the deltas: the marks below follow the point values."
    moved = []
    for change, interval in judged:
        mark = interval_mark(change, interval)
        if mark in (MARKS["better"], MARKS["worse"]) and interval is not None and interval.delta is not None:
            word = "better" if mark == MARKS["better"] else "worse"
            moved.append(
                f"`{change.metric}` {word} ({format_delta(change)}{_interval(interval.delta, True)})"
            )
    if not moved:
        return "**Nothing changed beyond noise**: every metric's delta interval includes 0."
    rest = len(changes) - len(moved)
    tail = f"; {rest} other{'s' if rest != 1 else ''} within noise" if rest else ""
    return f"**Beyond noise**: {', '.join(moved)}{tail}."


def churn_text(churn: Churn | None) -> str:
    if churn is None:
        return ""
    if churn.changed is not None:
        return f"{churn.changed:,} ({churn.share or 0.0:.1%})"
    if churn.median is None or churn.p90 is None or churn.max is None:
        return ""
    return f"median {churn.median:.4g}, p90 {churn.p90:.4g}, max {churn.max:.4g}"


def base_section(inputs: Inputs) -> list[str]:
    base = inputs.base
    head = (base.head or "")[:8]
    dirty = " (with uncommitted changes)" if inputs.workspace_dirty else ""
    if base.situation == "no_base":
        return [
            f"No merge base with `{base.ref}` (neither `{base.ref}` nor `origin/{base.ref}` exists here): "
            f"there is nothing to compare with, so only this revision's values are shown."
        ]
    if base.situation == "main":
        return [
            f"This is `{base.ref}` itself (`{head}` is the merge base): the report compares the "
            f"workspace{dirty} with the last commit."
        ]
    return [f"Compared `{head}`{dirty} with `{base.ref}` at `{base.short}` (the merge base)."]


def summary_sentence(inputs: Inputs) -> str:
    diff = inputs.diff
    if inputs.base.commit is None:
        return ""
    if not diff.base_has_metrics:
        return (
            "The base has no metrics yet (first run of the pipeline on this branch's history): "
            "there are no deltas, the PR's values are shown."
        )
    moved = [c for c in ordered(diff.overall, inputs.metrics) if c.metric in inputs.metrics]
    if (
        not any(c.mark in ("better", "worse") for c in moved)
        and not inputs.params
        and not inputs.data.changed
    ):
        return "Nothing changed: the metrics, the params and the data are the same as at the base."
    intervals = _metric_intervals(inputs)
    beyond = (MARKS["better"], MARKS["worse"])
    changed = [c for c in moved if interval_mark(c, intervals.get(c.metric)) in beyond]
    parts = [f"{len(changed)} metric{'s' if len(changed) != 1 else ''} moved beyond noise"]
    parts.append(f"{len(inputs.params)} param{'s' if len(inputs.params) != 1 else ''} changed")
    parts.append("the data changed" if inputs.data.changed else "the data is unchanged")
    return "; ".join(parts) + "."


def metrics_section(inputs: Inputs) -> list[str]:
    changes = ordered(inputs.diff.overall, inputs.metrics)
    intervals = _metric_intervals(inputs)
    rows = [
        _interval_row(f"`{c.metric}`", c, intervals.get(c.metric))
        for c in changes
        if c.metric in inputs.metrics
    ]
    rows += [
        _change_row("test rows" if c.metric == "n" else f"`{c.metric}`", c)
        for c in changes
        if c.metric not in inputs.metrics
    ]
    uncertainty = inputs.uncertainty
    lines = [f"### Metrics ({inputs.task})", ""]
    lead = signal_sentence(inputs)
    lines += [f"{lead} {uncertainty.note}".strip(), ""]
    lines += _table(["metric", "base", "PR [95 % CI]", "Δ [95 % CI]", ""], rows, "lrrrl")
    churn = uncertainty.churn
    if churn is not None and churn.changed is not None:
        lines += [
            "",
            f"Prediction churn: {churn_text(churn)} of the {churn.n:,} test rows get another label.",
        ]
    elif churn is not None:
        lines += [
            "",
            f"Prediction churn, |Δ prediction| over the {churn.n:,} test rows: {churn_text(churn)}.",
        ]
    return lines


def params_section(inputs: Inputs) -> list[str]:
    lines = ["### Params", ""]
    if not inputs.params:
        return [*lines, "No parameter changed." if inputs.base.commit else "No base to compare params with."]
    rows = [[f"`{p.key}`", _param(p.old), _param(p.new)] for p in inputs.params]
    return lines + _table(["param", "base", "PR"], rows)


def _param(value: Any) -> str:
    if value is None:
        return "—"
    return f"`{value if isinstance(value, str) else json.dumps(value)}`"


def data_section(inputs: Inputs) -> list[str]:
    data = inputs.data
    lines = ["### Data", ""]
    new = (data.new_hash or "?")[:12]
    if data.old_hash is None:
        state = f"`{data.path}`: md5 `{new}` (no hash recorded at the base)"
    elif data.changed:
        state = f"**changed** — `{data.path}`: md5 `{data.old_hash[:12]}` → `{new}`"
    else:
        state = f"unchanged — `{data.path}`: md5 `{new}`"
    rows = []
    if data.validated_rows is not None:
        rows.append(f"{data.validated_rows:,} rows validated")
    if data.new_test_rows is not None:
        old = f"{data.old_test_rows:,} → " if data.old_test_rows is not None else ""
        rows.append(f"test rows {old}{data.new_test_rows:,}")
    return [*lines, state + (f" ({'; '.join(rows)})" if rows else "") + "."]


def slices_section(inputs: Inputs) -> list[str]:
    metric = inputs.slice_metric
    lines = [f"### Slices (`{metric}` per sensitive attribute)"]
    if not inputs.attributes:
        return [*lines, "", "The schema declares no sensitive attribute."]
    for attribute in inputs.attributes:
        groups = inputs.diff.slices.get(attribute, {})
        lines += ["", f"**{attribute}**", ""]
        if not groups:
            lines.append(f"No slice metrics for `{attribute}`.")
            continue
        computed = inputs.uncertainty.slices.get(attribute, {})
        with_churn = any(result.churn is not None for result in computed.values())
        rows = []
        for group in sorted(groups):
            values = groups[group]
            n = values.get("n")
            change = values.get(metric, Change(metric, None, None))
            result = computed.get(group)
            row = [f"`{group}`", format_value(n.new if n else None)]
            row += _interval_row("", change, result.interval if result else None)[1:]
            if with_churn:
                row.append(churn_text(result.churn if result else None))
            rows.append(row)
        header = [attribute, "n", "base", "PR [95 % CI]", "Δ [95 % CI]", ""]
        lines += _table(header + (["churn"] if with_churn else []), rows, "lrrrrlr"[: len(rows[0])])
    if inputs.uncertainty.slice_note:
        lines += ["", inputs.uncertainty.slice_note.capitalize() + "."]
    return lines


def gates_section(inputs: Inputs) -> list[str]:
    lines = ["### Gates and checks", ""]
    if inputs.gates is None:
        lines.append("`reports/gates.json` is missing: the gates were not run (`make gates`).")
        if inputs.checks:
            rows = [
                [STATUS["pass" if doc.get("passed") else "fail"], f"`{suite}`"]
                for suite, doc in sorted(inputs.checks.items())
            ]
            lines += ["", "Deepchecks suites found:", "", *_table(["status", "suite"], rows)]
        return lines
    baseline = inputs.gates.get("baseline", {})
    if baseline.get("note"):
        lines += [f"The gates' regression baseline — {baseline['note']}.", ""]
    verdicts = sorted(inputs.gates.get("verdicts", []), key=lambda v: STATUS_ORDER[verdict_status(v)])
    header = ["status", "gate", "target", "value", "threshold", "detail"]

    def row(v: dict[str, Any]) -> list[str]:
        return [
            STATUS[verdict_status(v)],
            f"`{v.get('gate')}`",
            str(v.get("target")),
            format_value(v.get("value")),
            format_value(v.get("threshold")),
            str(v.get("detail", "")),
        ]

    shown = [v for v in verdicts if verdict_status(v) != "pass"]
    passed = [v for v in verdicts if verdict_status(v) == "pass"]
    if shown:
        lines += _table(header, [row(v) for v in shown], "lllrrl")
    else:
        lines.append("No gate or check failed.")
    if passed:
        lines += ["", f"<details><summary>{len(passed)} passed</summary>", ""]
        lines += _table(header, [row(v) for v in passed], "lllrrl")
        lines += ["", "</details>"]
    return lines


def repro_section(inputs: Inputs) -> list[str]:
    repro = inputs.repro
    lines = ["### Reproducibility", ""]
    if repro is None:
        return [*lines, "Not checked for this commit (`make repro-check` runs after `dvc repro` in CI)."]
    if repro.get("passed"):
        checked = ", ".join(f"`{p}`" for p in repro.get("checked", []))
        return [*lines, f"✅ `dvc repro` reproduced the committed {checked} exactly."]
    rows = [[f"`{f['path']}`", str(f.get("status", ""))] for f in repro.get("files", [])]
    lines += [f"❌ {repro.get('message', 'the reproduced outputs differ from the committed ones')}", ""]
    return lines + _table(["file", "difference"], rows)


def _classifier_charts(base: PlotSet | None, pr: PlotSet, base_label: str) -> list[str]:
    blocks: list[str] = []
    axis = charts.grid(0.0, 1.0)
    curves = [
        ("roc", "ROC", "false positive rate", "true positive rate", False),
        ("precision_recall", "Precision-recall", "recall", "precision", True),
    ]
    for name, title, x_label, y_label, envelope in curves:
        pr_points = getattr(pr, name)
        if not pr_points:
            continue
        series = []
        base_points = getattr(base, name) if base else None
        for label, points in (("base", base_points), ("PR", pr_points)):
            if points:
                shaped = charts.upper_envelope(points) if envelope else points
                series.append(charts.Series(label, tuple(charts.resample(shaped, axis))))
        chart = charts.LineChart(title, x_label, y_label, (0.0, 1.0), (0.0, 1.0), tuple(series))
        palette = [BASE_COLOUR, PR_COLOUR] if len(series) == 2 else [PR_COLOUR]
        blocks += [f"**{title}** — {_legend(series, base_label)}", "", charts.mermaid(chart, palette), ""]
    return blocks


def _legend(series: Sequence[charts.Series], base_label: str) -> str:
    if len(series) == 2:
        return f"grey: base ({base_label}), red: PR"
    return "red: PR (no base curve)"


def _regression_charts(base: PlotSet | None, pr: PlotSet, base_label: str) -> list[str]:
    pairs = pr.predicted_vs_actual
    if not pairs:
        return []
    base_pairs = base.predicted_vs_actual if base else None
    actual = [a for a, _ in pairs + (base_pairs or [])]
    low, high = min(actual), max(actual)
    if high <= low:
        high = low + 1.0
    edges = charts.grid(low, high)
    centres = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
    series = [charts.Series("perfect", tuple(centres))]
    for label, points in (("base", base_pairs), ("PR", pairs)):
        if points:
            filled = charts.fill_gaps(charts.binned_means(points, edges))
            if filled is not None:
                series.append(charts.Series(label, tuple(filled)))
    values = [v for s in series for v in s.values]
    chart = charts.LineChart(
        "Mean predicted vs actual",
        "actual",
        "mean predicted",
        (low, high),
        (min(values), max(values) if max(values) > min(values) else min(values) + 1.0),
        tuple(series),
    )
    palette = [REFERENCE_COLOUR, BASE_COLOUR, PR_COLOUR] if base_pairs else [REFERENCE_COLOUR, PR_COLOUR]
    legend = "blue: perfect prediction, " + (
        f"grey: base ({base_label}), red: PR" if base_pairs else "red: PR (no base)"
    )
    return [
        f"**Predicted vs actual** (mean prediction per bin of the actual value) — {legend}",
        "",
        charts.mermaid(chart, palette),
        "",
    ]


def charts_section(inputs: Inputs, links: Links) -> list[str]:
    lines = ["### Charts", ""]
    base_label = f"{inputs.base.ref}@{inputs.base.short}" if inputs.base.commit else "none"
    base = inputs.plots_base
    if inputs.task == "regression":
        lines += _regression_charts(base, inputs.plots_pr, base_label)
    else:
        lines += _classifier_charts(base, inputs.plots_pr, base_label)
        if inputs.plots_pr.confusion is not None:
            lines += [
                "**Confusion matrix** — PR counts (change from the base in brackets)",
                "",
                charts.confusion_table(inputs.plots_pr.confusion, base.confusion if base else None),
                "",
            ]
    if inputs.plots_pr.empty:
        lines += ["No plot files were found.", ""]
    for image in links.images:
        lines += [f"![{image.rsplit('/', 1)[-1]}]({image})", ""]
    where = (
        f"[the workflow run's artifacts]({links.artifact_url})"
        if links.artifact_url
        else f"`{links.artifact_dir}/` (this run was not in GitHub Actions)"
    )
    lines.append(f"PNG charts and the Deepchecks HTML reports: {where}.")
    return lines


def render(inputs: Inputs, links: Links) -> str:
    sections = [
        [f"## mlship report · `{inputs.service}`", "", verdict_line(inputs), ""],
        [*base_section(inputs), "", summary_sentence(inputs)],
        metrics_section(inputs),
        serving_section(inputs.cost, inputs.cost_problem, inputs.cost_resolution),
        params_section(inputs),
        data_section(inputs),
        slices_section(inputs),
        gates_section(inputs),
        repro_section(inputs),
        charts_section(inputs, links),
    ]
    text = "\n\n".join("\n".join(section).strip("\n") for section in sections) + "\n"
    if len(text) > COMMENT_LIMIT:
        cut = text[: COMMENT_LIMIT - 200].rsplit("\n", 1)[0]
        text = cut + "\n\n…(truncated to fit a GitHub comment; the full report is in the artifacts)\n"
    return text
