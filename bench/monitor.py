"""Benchmark `mlship monitor`'s judging at scale: N captured records (default 100,000) of the project's data.

Not timed: reading the data, training the model with the project's params on the train split (the served
model), writing N capture lines (test rows resampled, answered by that model). Timed: everything `mlship
monitor` does after it found the served commit's outputs — reading and parsing the capture files, drift
(Deepchecks), the drift chart's windows, skew re-scoring, quality, the report. The reference is handed over in
memory instead of read through git and DVC (`load_reference`), the one step this script leaves out.
Target: ≤ 60 s and ≤ 2 GiB peak RSS for 100,000 records.

Usage: .venv/bin/python bench/monitor.py [--records N] [--quick] [--root PATH]
  --quick: 2,000 records (proves the script runs; not for figures); --root: the checkout to measure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mlship import telemetry
from mlship.config import load_params
from mlship.data.ingest import locate_source
from mlship.data.schema import load_schema, read_source, split_xy
from mlship.data.split import split
from mlship.data.validate import validate
from mlship.evaluate import predict
from mlship.monitor import judge as judging
from mlship.monitor.captures import read_captures
from mlship.monitor.reference import Reference
from mlship.monitor.render import render
from mlship.train import train

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument(
        "--quick", action="store_true", help="2,000 records (try the script, not for figures)"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure")
    args = parser.parse_args()
    count = 2_000 if args.quick else args.records
    root = args.root.resolve()
    telemetry.disable()
    os.chdir(root)  # as every mlship command runs: a file source's path is relative to the project root
    params = load_params(root / "params.yaml")
    schema = load_schema(root / params.data.schema_path)
    frame = validate(read_source(locate_source(params.data.source), schema), schema).frame
    train_frame, test_frame = split(frame, params.split, schema)
    model = train(*split_xy(train_frame, schema), params.model, schema)
    rows = test_frame.sample(n=count, replace=True, random_state=0).reset_index(drop=True)
    output = predict(model, rows[schema.feature_names], schema.task)
    sha = "0" * 40
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=6)
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder) / "svc" / "data"
        directory.mkdir(parents=True)
        with (directory / "data.bench.log").open("w", encoding="utf-8") as handle:
            features = rows[schema.feature_names].astype(object)
            records = [
                {key: (None if pd.isna(value) else value) for key, value in row.items()}
                for row in features.to_dict("records")
            ]
            for i, record in enumerate(records):
                moment = start + dt.timedelta(seconds=i * 6 * 3600 / count)
                line = {
                    "request_id": f"r{i // 100}",
                    "record": i % 100,
                    "model_version": "bench",
                    "git_sha": sha,
                    "timestamp": moment.isoformat().replace("+00:00", "Z"),
                    "sample_rate": 1.0,
                    **{k: (v.item() if isinstance(v, np.generic) else v) for k, v in record.items()},
                }
                if schema.task == "binary":
                    line["prediction.probability"] = float(output[i])
                elif schema.task == "multiclass":
                    line["prediction.probabilities"] = dict(
                        zip(schema.target.classes, map(float, output[i]), strict=True)
                    )
                else:
                    line["prediction.value"] = float(output[i])
                handle.write(json.dumps(line) + "\n")
        reference = Reference(sha, train_frame, model, {}, dt.datetime.now(dt.UTC))
        judging.load_reference = lambda *_: reference  # type: ignore[attr-defined]
        judging.known_commit = lambda *_: True  # type: ignore[attr-defined]
        began = time.perf_counter()
        captured = read_captures(Path(folder))
        read_s = time.perf_counter() - began
        report = judging.judge(
            captured, root, params, schema, environment=None, source=folder, labels=None,
            now=dt.datetime.now(dt.UTC), html=None,
        )  # fmt: skip
        render(report)
        total = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("| measurement | value |\n|---|---|")
    print(
        f"| records judged (healthy, alerts) | {report['records']} "
        f"({report['healthy']}, {len(report['alerts'])}) |"
    )
    print(f"| read + parse | {read_s:.1f} s |")
    print(f"| judge + report, in all | {total:.1f} s |")
    print(f"| peak RSS | {peak:.0f} MiB |")


if __name__ == "__main__":
    main()
