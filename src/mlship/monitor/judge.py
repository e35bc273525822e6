"""The verdict: every judge run on the captured records of the version that served last, against that
version's own training data and model. Returns the ``reports/monitor.json`` document."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlship.config import MonitoringConfig, Params
from mlship.data.schema import Schema
from mlship.monitor import drift as drift_
from mlship.monitor import latency, performance, quality, served, skew
from mlship.monitor.captures import Captured, MonitorError
from mlship.monitor.reference import Reference, known_commit, load_reference

Report = dict[str, Any]

#: The offline latency measurement: records from the served version's train split, rounds over them.
OFFLINE_RECORDS, OFFLINE_ROUNDS = 80, 10


def _alert(kind: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "detail": detail, **extra}


def reference_output(reference: Reference, schema: Schema) -> np.ndarray[Any, Any]:
    features = reference.train[schema.feature_names]
    if schema.target.is_classifier:
        return np.asarray(reference.model.predict_proba(features), dtype=np.float64)
    return np.asarray(reference.model.predict(features), dtype=np.float64)


def _score(value: float | None, threshold: float) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"score": round(value, 6), "threshold": threshold, "drifted": value > threshold}


def _input_problems(captured: Captured, root: Path, report: Report) -> pd.DataFrame:
    """Alerts for unreadable lines and unknown versions; returns the records of known versions."""
    alerts = report["alerts"]
    if captured.corrupt:
        named = ", ".join(f"{name} ({n})" for name, n in sorted(captured.corrupt.items()))
        total = sum(captured.corrupt.values())
        alerts.append(_alert("input", f"{total} unreadable capture line(s): {named}"))
    records = captured.records
    if records.empty:
        report["unknown_version_records"] = 0
        return records
    known = {sha: known_commit(root, sha) for sha in dict.fromkeys(records["git_sha"])}
    is_known = records["git_sha"].map(known).astype(bool)
    unknown = records[~is_known]
    if len(unknown):
        names = ", ".join(sorted({str(s)[:12] for s in unknown["git_sha"]}))
        alerts.append(_alert("input", f"{len(unknown)} record(s) from unknown model version(s): {names}"))
    report["unknown_version_records"] = len(unknown)
    return records[is_known]


def _quality(
    records: pd.DataFrame, captured: Captured, schema: Schema, config: MonitoringConfig, report: Report
) -> None:
    q = quality.measure(records, schema.feature_names, captured.refusals)
    report["quality"] = asdict(q)
    if q.refusal_rate > config.max_refusal_rate:
        fields = ", ".join(f"{f} ({n})" for f, n in sorted(q.refused_by_field.items(), key=lambda i: -i[1]))
        limit = f"{config.max_refusal_rate:.1%}"
        report["alerts"].append(_alert("quality", f"refusal rate {q.refusal_rate:.1%} > {limit}: {fields}"))
    missing = {
        k: v for k, v in q.missing.items() if v > config.max_missing_ratio and k not in schema.pii_names
    }
    if missing:
        named = ", ".join(f"{k} ({v:.1%})" for k, v in missing.items())
        limit = f"{config.max_missing_ratio:.0%}"
        report["alerts"].append(_alert("quality", f"missing values above {limit}: {named}"))


@dataclass(frozen=True)
class Served:
    """The served version's records, their typed features, its reference, the schema and the report."""

    current: pd.DataFrame
    features: pd.DataFrame
    reference: Reference
    schema: Schema
    report: Report


def _drift(ctx: Served, params: Params, html: Path | None) -> None:
    current, features, reference, schema, report = (
        ctx.current,
        ctx.features,
        ctx.reference,
        ctx.schema,
        ctx.report,
    )
    config = params.monitoring
    names = list(features.columns)
    served_out = served.served_output(current, schema)
    if served_out is None:
        raise MonitorError(
            "captured records hold no prediction for this task (did schema.yaml's target change?)"
        )
    ref_out = reference_output(reference, schema)
    result = drift_.measure(
        reference.train,
        features,
        ref_out,
        served_out,
        features=names,
        schema=schema,
        config=config,
        html=html,
    )
    windows = drift_.window_scores(
        reference.train, features, current["timestamp"], names=names, schema=schema, windows=config.windows
    )
    report["drift"] = {
        "features": {
            f.name: {
                "method": f.method,
                "score": round(f.score, 6),
                "threshold": f.threshold,
                "drifted": f.drifted,
            }
            for f in result.features
        },
        "prediction": _score(result.prediction, config.max_prediction_drift),
        "multivariate": _score(result.multivariate, config.max_multivariate_drift),
        "windows": {k: [round(v, 4) for v in vs] for k, vs in windows.items()},
    }
    moved = drift_.drifted(result)
    if moved:
        named = ", ".join(f"{f.name} ({f.score:.3f} > {f.threshold:g})" for f in moved)
        report["alerts"].append(_alert("drift", f"feature drift: {named}", features=[f.name for f in moved]))
    for key in ("prediction", "multivariate"):
        item = report["drift"][key]
        if item and item["drifted"]:
            detail = f"{key} drift {item['score']:.3f} > {item['threshold']:g}"
            report["alerts"].append(_alert("drift", detail, features=[]))
    report["retrain"] = any(f.score >= config.retrain_on for f in result.features)


def _skew(ctx: Served, samples: int) -> None:
    current, features, reference, schema, report = (
        ctx.current,
        ctx.features,
        ctx.reference,
        ctx.schema,
        ctx.report,
    )
    absent = [n for n in schema.feature_names if n not in features.columns]
    if absent:
        report["skew"] = {"judged": False, "reason": f"not captured (personal): {', '.join(absent)}"}
        return
    sample = current.sample(n=min(samples, len(current)), random_state=0).sort_index()
    answered = served.answered_value(sample, schema)
    if answered is None:
        report["skew"] = {"judged": False, "reason": "no served output in the records"}
        return
    found = skew.rescore(reference.model, features.loc[sample.index], answered, sample, schema)
    report["skew"] = {"judged": True, **asdict(found)}
    if found.skewed:
        examples = ", ".join(found.request_ids[:3])
        detail = (
            f"{found.mismatched} of {found.checked} re-scored record(s) differ from the served "
            f"{', '.join(found.fields)} (e.g. request {examples})"
        )
        report["alerts"].append(_alert("skew", detail, fields=list(found.fields)))


def _outputs(current: pd.DataFrame, schema: Schema, report: Report) -> None:
    """Any served output no model should give (non-finite, a probability outside [0, 1]) is an alert."""
    found = latency.invalid_outputs(current, schema.target.is_classifier)
    report["outputs"] = found
    if found["non_finite"] or found["out_of_range"]:
        examples = ", ".join(found["request_ids"][:3])
        detail = (
            f"{found['non_finite']} non-finite and {found['out_of_range']} out-of-range output(s) in "
            f"{found['checked']} served record(s) (e.g. request {examples})"
        )
        report["alerts"].append(_alert("outputs", detail))


def _latency(ctx: Served, params: Params) -> None:
    """Served one-record latency per version; the last version's against its offline measurement."""
    from threadpoolctl import threadpool_limits  # noqa: PLC0415 - only when judging

    from mlship.serving import cost  # noqa: PLC0415

    report, sha, schema = ctx.report, ctx.report["model"]["git_sha"], ctx.schema
    versions = latency.per_version(ctx.current)
    records = cost.sample_records(ctx.reference.train, schema, OFFLINE_RECORDS, seed=0)
    with threadpool_limits(limits=params.service.threads_per_worker, user_api="openmp"):
        offline = cost.latency(ctx.reference.model, schema, records, rounds=OFFLINE_ROUNDS)
    limit = params.monitoring.max_latency_ratio
    verdict = latency.judge(versions.get(sha), offline, limit)
    report["latency"] = {
        "served": versions,
        "offline": {"git_sha": sha, "p50_ms": offline[0], "p99_ms": offline[1]},
        "ratios": verdict.judged,
        "max_ratio": limit,
        "judged": bool(verdict.judged),
        "not_judged": verdict.reason,
    }
    if verdict.over:
        named = ", ".join(f"{k} x{v:.2f}" for k, v in verdict.over.items())
        detail = f"served one-record latency of {sha[:12]} vs offline: {named} > max_latency_ratio {limit:g}"
        report["alerts"].append(_alert("latency", detail))


def _performance(ctx: Served, labels: Path, params: Params) -> None:
    current, reference, schema, report = ctx.current, ctx.reference, ctx.schema, ctx.report
    table = performance.read_labels(labels, schema)
    joined = performance.join(current, table)
    output = served.answered_value(joined, schema) if not joined.empty else None
    if output is None:
        report["performance"] = {"joined": 0, "labels": len(table)}
        report["alerts"].append(
            _alert("performance", f"none of {len(table)} label(s) matches a captured record")
        )
        return
    perf = performance.measure(
        joined, output, labels=len(table), schema=schema, threshold=params.evaluate.threshold,
        test=reference.test_metrics,
    )  # fmt: skip
    report["performance"] = asdict(perf)
    gap = params.monitoring.max_metric_gap
    worse = [k for k, v in perf.gaps.items() if v > gap]
    if worse:
        named = ", ".join(f"{k} {perf.live[k]:.4f} vs {perf.test[k]:.4f}" for k in worse)
        report["alerts"].append(
            _alert("performance", f"live metrics worse than test by more than {gap:g}: {named}")
        )


def judge(
    captured: Captured,
    root: Path,
    params: Params,
    schema: Schema,
    *,
    environment: str | None,
    source: str,
    labels: Path | None,
    now: dt.datetime,
    html: Path | None,
) -> Report:
    config = params.monitoring
    report: Report = {
        "environment": environment,
        "source": source,
        "generated_at": now.isoformat().replace("+00:00", "Z"),
        "files": captured.files,
        "corrupt_lines": dict(captured.corrupt),
        "records": 0,
        "judged": False,
        "not_judged": None,
        "alerts": [],
        "drift": {"features": {}, "prediction": None, "multivariate": None, "windows": {}},
        "retrain": False,
    }
    usable = _input_problems(captured, root, report)
    _quality(usable, captured, schema=schema, config=config, report=report)
    if usable.empty:
        report["not_judged"] = "no captured record from a known model version"
        return _finish(report)
    sha = str(usable["git_sha"].iloc[-1])  # the version that served last
    current = usable[usable["git_sha"] == sha].reset_index(drop=True)
    others = usable[usable["git_sha"] != sha]["git_sha"].value_counts()
    report["model"] = {
        "git_sha": sha,
        "model_version": str(current["model_version"].iloc[-1]) if "model_version" in current else None,
        "other_versions": {str(s): int(n) for s, n in others.items()},
    }
    report["records"] = len(current)
    _outputs(current, schema, report)
    if len(current) < config.min_records:
        minimum = config.min_records
        report["not_judged"] = (
            f"{len(current)} record(s) of {sha[:12]}, fewer than monitoring.min_records ({minimum})"
        )
        return _finish(report)
    reference = load_reference(root, sha, params, schema)
    report["model"]["lineage"] = reference.lineage
    age = (now - reference.trained_at).total_seconds() / 86400.0
    report["staleness"] = {
        "trained_at": reference.trained_at.isoformat(),
        "age_days": round(age, 2),
        "max_days": config.max_model_age_days,
    }
    if age > config.max_model_age_days:
        detail = f"the served model was trained {age:.0f} days ago (> {config.max_model_age_days:g})"
        report["alerts"].append(_alert("staleness", detail))
    features = served.features_frame(current, schema)
    ctx = Served(current, features, reference, schema, report)
    _drift(ctx, params, html)
    _skew(ctx, config.skew_samples)
    _latency(ctx, params)
    if labels is not None:
        _performance(ctx, labels, params)
    report["judged"] = True
    return _finish(report)


def _finish(report: Report) -> Report:
    report["healthy"] = report["judged"] and not report["alerts"]
    return report
