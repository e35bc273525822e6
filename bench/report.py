"""Benchmark the PR report: `make report` on the default data, and the bootstrap behind its intervals alone.

Measures in this workspace (run `make run` first so the pipeline outputs and the predictions exist):
  * `make report` wall time (the gates, then `mlship report`: DVC's diffs, intervals, charts);
  * the paired bootstrap of every headline metric on the test-set predictions (model vs itself, so both
    sides are scored on each resample), process CPU and wall time, for 1,000 and 5,000 resamples;
  * the same with the slice-level bootstraps the report adds.

Usage: .venv/bin/python bench/report.py
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import numpy as np

from mlship import predictions, telemetry
from mlship.config import load_params
from mlship.data.schema import load_schema, read_processed, split_xy
from mlship.slices import groups
from mlship.stats import bootstrap

ROOT = Path(__file__).resolve().parent.parent


def timed(action: object) -> tuple[float, float]:
    assert callable(action)
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    telemetry.disable()
    params = load_params(ROOT / "params.yaml")
    schema = load_schema(ROOT / params.data.schema_path)
    scored = predictions.read(ROOT / params.paths.predictions, schema.task)
    print(f"predictions: {scored.n:,} test rows, task {scored.task}")
    for resamples in (1000, 5000):
        wall, cpu = timed(lambda r=resamples: bootstrap.compare(scored, scored, resamples=r))
        print(f"paired bootstrap, {resamples:,} resamples, all metrics: wall {wall:.2f} s, cpu {cpu:.2f} s")
    features, _ = split_xy(read_processed(ROOT / params.paths.test, schema), schema)
    slices = groups(features, schema)

    def with_slices() -> None:
        bootstrap.compare(scored, scored)
        for labels in slices.values():
            for group in sorted(set(labels)):
                part = scored.take(np.flatnonzero(labels == group))
                bootstrap.compare(part, part)

    wall, cpu = timed(with_slices)
    print(f"paired bootstrap, overall + every slice, 1,000 resamples: wall {wall:.2f} s, cpu {cpu:.2f} s")
    start = time.perf_counter()
    subprocess.run(["make", "report"], cwd=ROOT, check=True, capture_output=True)
    print(f"make report: wall {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
