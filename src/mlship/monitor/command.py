"""``mlship monitor``: find the captures, judge them, write ``reports/monitor.{md,json}`` and the Deepchecks
HTML, exit 0 healthy / 1 alert or not judged / 2 usage error."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

from mlship.config import Params
from mlship.data.schema import Schema
from mlship.monitor.captures import MonitorError, download, is_url, parse_since, read_captures


def capture_location(params: Params, environment: str) -> Path:
    """Where a local environment's containers write their captures (mounted from the host)."""
    if environment not in params.deploy.environments:
        known = ", ".join(params.deploy.environments)
        raise MonitorError(f"unknown environment {environment!r} (known: {known})")
    return params.deploy.runtime_dir / environment / "capture"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def run(
    params: Params,
    schema: Schema,
    *,
    environment: str | None,
    source: str | Path | None,
    since: str | None,
    labels: Path | None,
    out: Path,
    root: Path = Path(),
    now: dt.datetime | None = None,
) -> int:
    moment = now or dt.datetime.now(dt.UTC)
    if (environment is None) == (source is None):
        raise MonitorError("give one of --env ENV or --from PATH|URL")
    if labels is not None and not labels.is_file():
        raise MonitorError(f"--labels {labels}: no such file")
    start = parse_since(since, moment) if since else None
    retention = moment - dt.timedelta(days=params.monitoring.retention_days)
    oldest = max(start, retention) if start else retention
    if source is not None and is_url(str(source)):
        with tempfile.TemporaryDirectory(prefix="mlship-monitor-") as copy:
            captured = read_captures(download(str(source), Path(copy)), oldest)
        location: str | Path = str(source)
    else:
        location = Path(source) if source is not None else capture_location(params, str(environment))
        captured = read_captures(location, oldest)
    # Judging needs scikit-learn, Deepchecks and DVC: imported once the arguments and captures are known good.
    from mlship.monitor.judge import judge
    from mlship.monitor.render import render, verdict_line

    html = out.with_suffix("") / "drift.html"
    report = judge(
        captured,
        root,
        params,
        schema,
        environment=environment,
        source=str(location),
        labels=labels,
        now=moment,
        html=html,
    )
    _write(out.with_suffix(".json"), json.dumps(report, indent=2, default=str) + "\n")
    _write(out, render(report))
    print(verdict_line(report).replace("**", ""))
    for alert in report["alerts"]:
        print(f"  {alert['kind']}: {alert['detail']}")
    return 0 if report["healthy"] else 1
