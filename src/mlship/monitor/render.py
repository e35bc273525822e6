"""``reports/monitor.md`` in the PR report's look: the verdict first, then tables, then one Mermaid
``xychart-beta`` drift chart per feature over time windows (GitHub renders it itself)."""

from __future__ import annotations

from typing import Any

from mlship.markdown.charts import LineChart, Series, mermaid
from mlship.markdown.tables import table as _table

PALETTE = ("#1f77b4", "#d62728")


def verdict_line(report: dict[str, Any]) -> str:
    where = report.get("environment") or report.get("source")
    if report["alerts"]:
        kinds = ", ".join(dict.fromkeys(a["kind"] for a in report["alerts"]))
        return f"**ALERT** — {where}: {len(report['alerts'])} alert(s) ({kinds})"
    if not report["judged"]:
        return f"**NOT JUDGED** — {where}: {report['not_judged']}"
    return f"**HEALTHY** — {where}: {report['records']} record(s), no drift, no skew"


def _chart(name: str, scores: list[float], threshold: float) -> str:
    n = len(scores)
    top = max([threshold, *scores]) * 1.2 or 1.0
    chart = LineChart(
        title=f"{name}: drift per time window",
        x_label="window (oldest → newest)",
        y_label="drift score",
        x_range=(1.0, float(max(n, 2))),
        y_range=(0.0, round(top, 3)),
        series=(
            Series("drift", tuple(scores if n > 1 else scores * 2)),
            Series("threshold", (threshold,) * max(n, 2)),
        ),
    )
    return mermaid(chart, PALETTE)


def render(report: dict[str, Any]) -> str:
    lines = [verdict_line(report), "", "# mlship monitor", ""]
    model = report.get("model") or {}
    lines += [
        f"Source: `{report['source']}` · records judged: {report['records']} · files: {report['files']}"
        + (f" · served version: `{model['git_sha'][:12]}`" if model else "")
        + "".join(
            f" · {name}: `{value[:12]}`" for name, value in (model.get("lineage") or {}).items() if value
        ),
        "",
    ]
    if report["alerts"]:
        lines += ["## Alerts", ""] + [f"- **{a['kind']}**: {a['detail']}" for a in report["alerts"]] + [""]
    lines += _drift_table(report["drift"])
    lines += _skew_and_quality(report)
    lines += _rest(report)
    return "\n".join(lines).rstrip() + "\n"


def _verdict(d: dict[str, Any]) -> str:
    return "**drifted**" if d["drifted"] else "ok"


def _drift_table(drift: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if drift["features"]:
        rows = [
            [
                f"`{name}`",
                d["method"],
                f"{d['score']:.4f}",
                f"{d['threshold']:g}",
                _verdict(d),
            ]
            for name, d in drift["features"].items()
        ]
        for key in ("prediction", "multivariate"):
            if drift.get(key):
                d = drift[key]
                rows.append(
                    [
                        key,
                        "",
                        f"{d['score']:.4f}",
                        f"{d['threshold']:g}",
                        _verdict(d),
                    ]
                )
        lines += ["## Drift vs the served version's training data", ""]
        lines += [*_table(["feature", "method", "score", "threshold", "verdict"], rows), ""]
    return lines


def _skew_and_quality(report: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    skew = report.get("skew")
    if skew:
        lines += ["## Train/serve skew", ""]
        if skew.get("judged"):
            checked, mismatched = skew["checked"], skew["mismatched"]
            lines.append(f"{checked} record(s) re-scored by the committed pipeline: {mismatched} differ.")
        else:
            lines.append(f"Not judged: {skew['reason']}.")
        lines.append("")
    q = report.get("quality")
    if q:
        lines += ["## Served traffic", ""]
        total = q["requests"] + q["refused"]
        rate = q["refused"] / total if total else 0.0
        lines.append(f"Requests answered ≈ {q['requests']}, refused {q['refused']} ({rate:.1%}).")
        if q["refused_by_field"]:
            lines += [
                "",
                *_table(
                    ["refused field", "requests"],
                    [[f"`{f}`", str(n)] for f, n in q["refused_by_field"].items()],
                ),
            ]
        missing = {k: v for k, v in q["missing"].items() if v > 0}
        if missing:
            lines += [
                "",
                *_table(["feature", "missing"], [[f"`{k}`", f"{v:.1%}"] for k, v in missing.items()]),
            ]
        if q["per_hour"]:
            lines += [
                "",
                *_table(
                    ["hour (UTC)", "records"], [[h, str(n)] for h, n in list(q["per_hour"].items())[-24:]]
                ),
            ]
        lines.append("")
    return lines


def _rest(report: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    drift = report["drift"]
    perf = report.get("performance")
    if perf and perf.get("live"):
        lines += ["## Live performance (labels joined by request id)", ""]
        rows = [[m, f"{v:.4f}", f"{perf['test'].get(m, float('nan')):.4f}"] for m, v in perf["live"].items()]
        lines += [
            *_table(["metric", "live", "test"], rows),
            "",
            f"{perf['joined']} of {perf['labels']} label(s) joined.",
            "",
        ]
    lines += _latency(report)
    if report.get("staleness"):
        s = report["staleness"]
        lines += [f"Model age: {s['age_days']:.1f} days (max {s['max_days']:g}).", ""]
    if report["corrupt_lines"] or report.get("unknown_version_records"):
        lines += ["## Unreadable input", ""]
        lines += [f"- `{name}`: {n} unreadable line(s)" for name, n in report["corrupt_lines"].items()]
        if report.get("unknown_version_records"):
            lines.append(f"- {report['unknown_version_records']} record(s) from an unknown model version")
        lines.append("")
    if drift.get("windows"):
        lines += ["## Drift over time", ""]
        for name, scores in drift["windows"].items():
            lines += [_chart(name, scores, drift["features"][name]["threshold"]), ""]
        lines += [
            "Window scores: Kolmogorov-Smirnov (numeric) and Cramér's V (categorical) per time window.",
            "",
        ]
    return lines


def _latency(report: dict[str, Any]) -> list[str]:
    """Served one-record latency per version beside the offline measurement; invalid outputs."""
    lines: list[str] = []
    found = report.get("latency")
    if found:
        offline, ratios = found["offline"], found["ratios"]
        rows = []
        for sha, served in found["served"].items():
            mine = sha == offline["git_sha"]
            rows.append(
                [
                    f"`{sha[:12]}`",
                    str(served["requests"]),
                    f"{served['p50_ms']:.3f}",
                    f"{served['p99_ms']:.3f}",
                    f"{offline['p50_ms']:.3f} / {offline['p99_ms']:.3f}" if mine else "",
                    ", ".join(f"{k} x{v:.2f}" for k, v in ratios.items()) if mine else "",
                ]
            )
        lines += ["## Served latency (one-record requests)", ""]
        header = ["version", "requests", "p50 (ms)", "p99 (ms)", "offline p50 / p99 (ms)", "served / offline"]
        lines += [*_table(header, rows), ""] if rows else ["No one-record request was captured.", ""]
        note = f"Alert above x{found['max_ratio']:g}."
        if found.get("not_judged"):
            note += f" {found['not_judged']}."
        lines += [note, ""]
    outputs = report.get("outputs")
    if outputs and (outputs["non_finite"] or outputs["out_of_range"]):
        lines += [
            f"Invalid outputs: {outputs['non_finite']} non-finite, {outputs['out_of_range']} out of range, "
            f"of {outputs['checked']} served record(s).",
            "",
        ]
    return lines
