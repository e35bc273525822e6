"""The production loop on real parts: a podman staging environment serving the model, traffic replayed over
HTTP, the capture written to the host, and `mlship monitor --env staging` judging it against the served
version's training data found through git and DVC.

Staging runs the run's shared image (tests/deploy/conftest.py): the working tree's reproduced pipeline,
committed with the `dvc.lock` that names its outputs, whose DVC cache the clone reads, so the monitor finds
the served version's train split and model at the served commit, not in the workspace. (That a switch and a
rollback lose no captured record is proven by the shipping end-to-end test, on production.)
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import yaml
from tests.deploy.shipping import Clone, Shipped
from tests.monitor.traffic import shift
from tests.shared import Reproduced
from tests.strategies import request_records

from mlship.config import Params
from mlship.data.schema import Schema, split_xy
from mlship.evaluate import predict, task_metrics
from mlship.tasks import metric_names
from mlship.train import load_model

pytestmark = pytest.mark.integration
BATCH = 250
#: One-record requests in the healthy traffic: enough for a judged p50, too few for a judged p99.
SINGLES = 60
#: monitoring.max_latency_ratio in this test's clone (the shipped default, 3, is for a production host).
TEST_LATENCY_RATIO = 25.0


@pytest.fixture(scope="module")
def staging(clone: Clone, shipped: Shipped) -> Iterator[tuple[Clone, str, str]]:
    """Staging serving the run's image (the working tree's commit)."""
    clone.mlship("deploy", "push")
    clone.make("deploy-staging")
    url = json.loads(clone.mlship("deploy", "status", "--json").stdout)
    return clone, next(row["url"] for row in url if row["environment"] == "staging"), shipped.sha


def _send(url: str, records: list[dict[str, Any]], prefix: str) -> list[str]:
    """Post in batches with our own request ids; returns the id of each record's request."""
    ids: list[str] = []
    with httpx.Client(timeout=30) as client:
        for n, start in enumerate(range(0, len(records), BATCH)):
            chunk = records[start : start + BATCH]
            rid = f"{prefix}-{n}"
            answer = client.post(f"{url}/predict", json={"records": chunk}, headers={"x-request-id": rid})
            assert answer.status_code == 200, answer.text
            assert answer.headers["x-request-id"] == rid
            ids += [rid] * len(chunk)
    return ids


def _send_one_by_one(url: str, records: list[dict[str, Any]], prefix: str) -> None:
    """One request per record (the latency the monitor compares with the offline one)."""
    with httpx.Client(timeout=30) as client:
        for n, record in enumerate(records):
            answer = client.post(
                f"{url}/predict", json={"records": [record]}, headers={"x-request-id": f"{prefix}-{n}"}
            )
            assert answer.status_code == 200, answer.text


def _monitor(clone: Clone, out: Path, *args: str) -> tuple[int, dict[str, Any]]:
    time.sleep(0.5)  # the service's writer thread writes what it answered every 0.1 s
    result = clone.mlship("monitor", *args, "--out", str(out), check=False)
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    return result.returncode, json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))


def _drifted(report: dict[str, Any]) -> set[str]:
    return {name for name, d in report["drift"]["features"].items() if d["drifted"]}


def _since() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _swapped(frame: pd.DataFrame, schema: Schema) -> tuple[set[str], pd.DataFrame]:
    """What a client's field-order bug sends, for whatever columns the schema has: the values of two features
    of one kind exchanged (two numeric features within each other's ranges for most rows, or two categorical
    features with the same categories), else one categorical feature's two most frequent categories
    exchanged (a client's code book off by one). Returns the features whose distribution moved."""
    numeric = [c for c in schema.numeric if c.kind != "boolean"]
    for i, a in enumerate(numeric):
        for b in numeric[i + 1 :]:
            fits = pd.Series(True, index=frame.index)
            for source, target in ((a, b), (b, a)):
                values = frame[source.name]
                if target.minimum is not None:
                    fits &= values >= target.minimum
                if target.maximum is not None:
                    fits &= values <= target.maximum
            kept = frame[fits]
            if len(kept) >= 0.8 * len(frame) and (kept[a.name].median() != kept[b.name].median()):
                swapped = kept.copy()
                swapped[a.name], swapped[b.name] = kept[b.name].to_numpy(), kept[a.name].to_numpy()
                return {a.name, b.name}, swapped
    categorical = schema.categorical
    for i, a in enumerate(categorical):
        for b in categorical[i + 1 :]:
            shares = [frame[c.name].value_counts(normalize=True) for c in (a, b)]
            if set(a.categories) == set(b.categories) and (shares[0] - shares[1]).abs().max() > 0.2:
                swapped = frame.copy()
                swapped[a.name], swapped[b.name] = frame[b.name].to_numpy(), frame[a.name].to_numpy()
                return {a.name, b.name}, swapped
    candidates = []
    for column in categorical:
        counts = frame[column.name].value_counts(normalize=True)
        if len(counts) >= 2:
            candidates.append((float(counts.iloc[0] - counts.iloc[1]), column.name, counts.index[:2]))
    if candidates and max(candidates)[0] > 0.2:
        _, name, (first, second) = max(candidates)
        swapped = frame.copy()
        swapped[name] = frame[name].map(lambda v: second if v == first else first if v == second else v)
        return {name}, swapped
    pytest.fail("the schema has no two features of one kind, nor a categorical feature, to swap")


def test_capture_then_monitor_healthy_shifted_swapped_skewed_and_labelled(
    staging: tuple[Clone, str, str],
    split_frames: tuple[pd.DataFrame, pd.DataFrame],
    schema: Schema,
    params: Params,
    reproduced: Reproduced,
    tmp_path: Path,
) -> None:
    clone, url, sha = staging
    served_model = load_model(reproduced.path / params.paths.model)
    test = split_frames[1].reset_index(drop=True)

    # given: a latency limit this machine can honour while the rest of the suite loads both cores (served
    # in-handler latency there is the load's, not the model's: x4 against the idle offline figure was seen);
    # the limit still applies below, to a window whose every request is slower by ten times the limit
    limit = TEST_LATENCY_RATIO
    settings = yaml.safe_load((clone.path / "params.yaml").read_text(encoding="utf-8"))
    settings["monitoring"]["max_latency_ratio"] = limit
    (clone.path / "params.yaml").write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    # given: the held-out test split replayed against staging, and some of it again one record per request
    start = _since()
    ids = _send(url, request_records(test, schema), "healthy")
    _send_one_by_one(url, request_records(test.head(SINGLES), schema), "single")
    # when: the monitor judges staging's capture, with the labels joined by request id
    positions = [i % BATCH for i in range(len(test))]
    target = test[schema.target.name]
    labels = pd.DataFrame({"request_id": ids, "record": positions, "label": target})
    if schema.target.is_classifier:
        labels["label"] = [schema.target.classes[int(v)] for v in target]
    labels.to_csv(tmp_path / "labels.csv", index=False)
    time.sleep(0.5)  # the service's writer thread writes what it answered every 0.1 s
    run = clone.make(
        "monitor", "ENV=staging", f"SINCE={start}", f"LABELS={tmp_path / 'labels.csv'}", check=False
    )
    code = run.returncode
    report = json.loads((clone.path / "reports/monitor.json").read_text(encoding="utf-8"))
    # then: healthy, every record captured, outputs equal the committed pipeline's bit for bit
    assert code == 0, report["alerts"]
    assert report["healthy"]
    assert report["judged"]
    assert report["records"] == len(test) + SINGLES
    assert report["skew"]["judged"]
    assert report["skew"]["mismatched"] == 0
    assert report["model"]["git_sha"] == sha
    # and: the served one-record latency was judged against the offline measurement of the same version, and
    # no served output was invalid
    assert report["latency"]["judged"]
    assert report["latency"]["served"][sha]["requests"] == SINGLES
    assert set(report["latency"]["ratios"]) == {"p50"}  # too few requests for a judged p99
    assert report["latency"]["offline"]["git_sha"] == sha
    assert report["outputs"]["checked"] == len(test) + SINGLES
    assert (report["outputs"]["non_finite"], report["outputs"]["out_of_range"]) == (0, 0)
    healthy_start = start
    # and: the report names what made the served model: the data's, the train split's and the model's hashes
    # that dvc.lock records at the served commit (the image's provenance names the same)
    lock = yaml.safe_load(clone.git("show", f"{sha}:dvc.lock"))
    outs = {o["path"]: o["md5"] for stage in lock["stages"].values() for o in stage.get("outs", [])}
    assert report["model"]["lineage"] == {
        "data": outs[params.paths.raw.as_posix()],
        "train": outs[params.paths.train.as_posix()],
        "model": outs[params.paths.model.as_posix()],
    }
    # and: live metrics equal the offline metrics of the same rows
    features, encoded = split_xy(test, schema)
    offline = task_metrics(
        schema.task, encoded, predict(served_model, features, schema.task), params.evaluate.threshold
    )
    assert report["performance"]["live"] == {
        k: float(v) for k, v in offline.items() if k in metric_names(schema.task)
    }
    markdown = (clone.path / "reports/monitor.md").read_text(encoding="utf-8")
    assert markdown.startswith("**HEALTHY**")
    assert f"data: `{report['model']['lineage']['data'][:12]}`" in markdown
    assert "xychart-beta" in markdown
    assert (clone.path / "reports/monitor/drift.html").is_file()

    # given: a numeric feature moved and a category's share flooded
    shifted, numeric, category = shift(test.head(2000), schema)
    start = _since()
    _send(url, request_records(shifted, schema), "shifted")
    code, report = _monitor(clone, tmp_path / "shifted.md", "--env", "staging", "--since", start)
    # then: an alert naming exactly those features
    assert code == 1
    assert _drifted(report) == {numeric, category}
    assert any(
        a["kind"] == "drift" and numeric in a["detail"] and category in a["detail"] for a in report["alerts"]
    )

    # given: a client that sends values in the wrong fields (the feature-order bug)
    moved, swapped = _swapped(test.head(3000), schema)
    start = _since()
    _send(url, request_records(swapped, schema), "swapped")
    code, report = _monitor(clone, tmp_path / "swapped.md", "--env", "staging", "--since", start)
    # then: a drift alert naming each field it moved
    assert code == 1
    assert moved <= _drifted(report)

    # given: captured outputs that differ from what the committed pipeline gives for those inputs
    altered = tmp_path / "altered"
    shutil.copytree(clone.path / params.deploy.runtime_dir / "staging" / "capture", altered)
    for path in altered.rglob("*.log*"):
        lines = []
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            for key, value in item.items():
                if key.startswith("prediction.") and isinstance(value, float):
                    item[key] = float(np.nextafter(value, 2.0))
                elif key.startswith("prediction.") and isinstance(value, dict):  # a multiclass answer
                    item[key] = {label: float(np.nextafter(p, 2.0)) for label, p in value.items()}
            lines.append(json.dumps(item))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, report = _monitor(clone, tmp_path / "skew.md", "--from", str(altered), "--since", start)
    # then: a skew alert naming the output field
    assert code == 1
    skew = [alert for alert in report["alerts"] if alert["kind"] == "skew"]
    assert skew
    assert skew[0]["fields"]
    assert all(f.startswith("prediction.") for f in skew[0]["fields"])

    # given: the healthy window's captures as a slower service and a broken model would have written them:
    # every request far slower than the offline measurement allows, and one answer not a number
    slow = tmp_path / "slow"
    shutil.copytree(clone.path / params.deploy.runtime_dir / "staging" / "capture", slow)
    factor = 10 * limit
    broken = False
    for path in sorted(slow.rglob("*.log*")):
        lines = []
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            if "latency_ms" in item:
                item["latency_ms"] = float(item["latency_ms"]) * factor
            mine = str(item.get("request_id", "")).startswith("healthy-")  # inside the judged window
            for key, value in item.items():
                if mine and not broken and key.startswith("prediction.") and isinstance(value, float):
                    item[key], broken = float("nan"), True
                elif mine and not broken and key.startswith("prediction.") and isinstance(value, dict):
                    item[key], broken = {label: float("nan") for label in value}, True
            lines.append(json.dumps(item))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert broken
    code, report = _monitor(clone, tmp_path / "slow.md", "--from", str(slow), "--since", healthy_start)
    # then: a latency alert naming the ratio and its limit, and an outputs alert counting the non-finite one
    assert code == 1
    kinds = {alert["kind"]: alert["detail"] for alert in report["alerts"]}
    assert "max_latency_ratio" in kinds["latency"]
    assert report["latency"]["ratios"]["p50"] > limit
    assert report["outputs"]["non_finite"] == 1
    assert "1 non-finite" in kinds["outputs"]
