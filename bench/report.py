"""Benchmark the PR report: `make report` on the default data, and the bootstrap behind its intervals alone.

Measures in this workspace (run `make run` first so the pipeline outputs and the predictions exist):
  * `make report` wall time (the gates, then `mlship report`: DVC's diffs, intervals, charts);
  * the paired bootstrap of every headline metric on the test-set predictions (model vs itself, so both
    sides are scored on each resample), process CPU and wall time, for 1,000 and 5,000 resamples;
  * the same with the slice-level bootstraps the report adds.

Usage: .venv/bin/python bench/report.py [--quick] [--root PATH]
  --quick: 100 resamples instead of 1,000 and 5,000 (proves the script runs; not for figures);
  --root: the checkout to measure (default: the repository holding this script).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick", action="store_true", help="100 resamples (try the script, not for figures)"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure")
    args = parser.parse_args()
    root = args.root.resolve()
    telemetry.disable()
    params = load_params(root / "params.yaml")
    schema = load_schema(root / params.data.schema_path)
    scored = predictions.read(root / params.paths.predictions, schema.task)
    print(f"predictions: {scored.n:,} test rows, task {scored.task}")
    print("| measurement | seconds |\n|---|---|")
    for resamples in (100,) if args.quick else (1000, 5000):
        wall, cpu = timed(lambda r=resamples: bootstrap.compare(scored, scored, resamples=r))
        print(
            f"| paired bootstrap, {resamples:,} resamples, all metrics (wall / cpu) "
            f"| {wall:.2f} / {cpu:.2f} |"
        )
    features, _ = split_xy(read_processed(root / params.paths.test, schema), schema)
    slices = groups(features, schema)

    def with_slices() -> None:
        bootstrap.compare(scored, scored)
        for labels in slices.values():
            for group in sorted(set(labels)):
                part = scored.take(np.flatnonzero(labels == group))
                bootstrap.compare(part, part)

    wall, cpu = timed(with_slices)
    print(
        f"| paired bootstrap, overall + every slice, 1,000 resamples (wall / cpu) | {wall:.2f} / {cpu:.2f} |"
    )
    start = time.perf_counter()
    # this environment's tools (VENV), no environment set up in the measured checkout (empty STAMP)
    make = ["make", "report", f"VENV={sys.prefix}", "STAMP="]
    subprocess.run(make, cwd=root, check=True, capture_output=True)
    print(f"| `make report` (wall) | {time.perf_counter() - start:.1f} |")


if __name__ == "__main__":
    main()
