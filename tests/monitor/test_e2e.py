"""The production loop on real parts: a podman staging environment serving the model, traffic replayed over
HTTP, the capture written to the host, and `mlship monitor --env staging` judging it against the served
version's training data found through git and DVC.

The served version's train split and model are put into the clone's DVC cache as `dvc repro` leaves them
(and `dvc.lock` names them), so the monitor reads them at the served commit, not from the workspace.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline
from tests.deploy.shipping import Clone
from tests.monitor.traffic import shift
from tests.strategies import request_records

from mlship.config import Params
from mlship.data.schema import Schema, split_xy, write_processed
from mlship.evaluate import predict, task_metrics
from mlship.tasks import metric_names

pytestmark = pytest.mark.integration
BATCH = 250


def _cache(clone: Clone, relative: Path) -> None:
    """Put a workspace file into the clone's DVC cache and make dvc.lock name it (what `dvc repro` leaves)."""
    path = clone.path / relative
    data = path.read_bytes()
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    target = clone.path / ".dvc/cache/files/md5" / md5[:2] / md5[2:]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    lock = clone.path / "dvc.lock"
    text = lock.read_text(encoding="utf-8")
    marker = f"- path: {relative.as_posix()}\n      hash: md5\n      md5: "
    start = text.index(marker) + len(marker)
    old = text[start : start + 32]
    lock.write_text(text.replace(old, md5), encoding="utf-8")


@pytest.fixture(scope="module")
def staging(
    clone: Clone, split_frames: tuple[pd.DataFrame, pd.DataFrame], params: Params
) -> Iterator[tuple[Clone, str, str]]:
    """Staging serving this commit's image, its training data and model in the clone's DVC cache."""
    write_processed(split_frames[0], clone.path / params.paths.train)
    _cache(clone, params.paths.train)
    _cache(clone, params.paths.model)
    clone.commit("the served version's training outputs, as dvc repro records them")
    sha = clone.build_image()
    clone.mlship("deploy", "push")
    clone.make("deploy-staging")
    url = json.loads(clone.mlship("deploy", "status", "--json").stdout)
    return clone, next(row["url"] for row in url if row["environment"] == "staging"), sha


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


def _swap_pair(frame: pd.DataFrame, schema: Schema) -> tuple[str, str, pd.DataFrame]:
    """Two numeric features whose values can be swapped and stay valid for most rows, and differ in shape."""
    columns = [c for c in schema.numeric if c.kind != "boolean"]
    for i, a in enumerate(columns):
        for b in columns[i + 1 :]:
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
                return a.name, b.name, swapped
    pytest.fail("the schema has no two numeric features whose values can be swapped")


def test_capture_then_monitor_healthy_shifted_swapped_skewed_and_labelled(
    staging: tuple[Clone, str, str],
    split_frames: tuple[pd.DataFrame, pd.DataFrame],
    schema: Schema,
    params: Params,
    production_model: Pipeline,
    tmp_path: Path,
) -> None:
    clone, url, sha = staging
    test = split_frames[1].reset_index(drop=True)

    # given: the held-out test split replayed against staging
    start = _since()
    ids = _send(url, request_records(test, schema), "healthy")
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
    assert report["records"] == len(test)
    assert report["skew"]["judged"]
    assert report["skew"]["mismatched"] == 0
    assert report["model"]["git_sha"] == sha
    # and: live metrics equal the offline metrics of the same rows
    features, encoded = split_xy(test, schema)
    offline = task_metrics(
        schema.task, encoded, predict(production_model, features, schema.task), params.evaluate.threshold
    )
    assert report["performance"]["live"] == {
        k: float(v) for k, v in offline.items() if k in metric_names(schema.task)
    }
    markdown = (clone.path / "reports/monitor.md").read_text(encoding="utf-8")
    assert markdown.startswith("**HEALTHY**")
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

    # given: a client that swaps two numeric fields' values (the feature-order bug)
    a, b, swapped = _swap_pair(test.head(3000), schema)
    start = _since()
    _send(url, request_records(swapped, schema), "swapped")
    code, report = _monitor(clone, tmp_path / "swapped.md", "--env", "staging", "--since", start)
    # then: a drift alert naming both
    assert code == 1
    assert {a, b} <= _drifted(report)

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


def test_a_switch_and_a_rollback_lose_no_captured_record(
    staging: tuple[Clone, str, str],
    split_frames: tuple[pd.DataFrame, pd.DataFrame],
    schema: Schema,
    params: Params,
) -> None:
    clone, url, first = staging
    records = request_records(split_frames[1].head(40), schema)
    answered: list[str] = []
    stop = threading.Event()

    def traffic() -> None:
        # a client sending one request after another through the environment's stable port
        n = 0
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                rid = f"rollback-{n}"
                n += 1
                try:
                    answer = client.post(
                        f"{url}/predict", json={"records": records}, headers={"x-request-id": rid}
                    )
                except httpx.HTTPError:
                    continue
                if answer.status_code == 200:
                    answered.append(rid)

    # given: a second commit's image deployed to staging, then staging rolled back, under steady traffic
    (clone.path / "README.md").write_text("a second version\n", encoding="utf-8")
    second = clone.commit("a second version")
    clone.build_image()
    clone.mlship("deploy", "push")
    sender = threading.Thread(target=traffic)
    sender.start()
    try:
        clone.mlship("deploy", "staging")
        clone.mlship("deploy", "rollback", "staging")
        time.sleep(1.0)
    finally:
        stop.set()
        sender.join()
    time.sleep(0.5)
    # then: every answered request's records are on the host, from both containers
    capture = clone.path / params.deploy.runtime_dir / "staging" / "capture"
    lines = [json.loads(line) for path in capture.rglob("*.log*") for line in path.read_text().splitlines()]
    captured = Counter(
        line["request_id"] for line in lines if str(line.get("request_id", "")).startswith("rollback-")
    )
    assert answered
    assert all(captured[rid] == len(records) for rid in answered), "an answered request's records are missing"
    assert {line["git_sha"] for line in lines if line.get("request_id") in set(answered)} == {first, second}
