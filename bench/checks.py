"""Benchmark the data and model checks a PR waits on: the `checks` stage and `mlship gates`.

Measures, on the data the checkout adopted (run `make repro` there first):
  * each Deepchecks suite in-process (after imports), and each check on its own;
  * the whole stage as DVC runs it (`PYTHONHASHSEED=0 mlship checks`, imports included);
  * `mlship gates`.

Usage: .venv/bin/python bench/checks.py [--quick] [--root PATH]
  --quick      every step once with the least work: the suites on 300-row samples, one check per suite on
               its own, the stage with the data_integrity suite alone; proves the script runs, not figures
  --root PATH  the checkout to measure (its params.yaml, data and model; default: this repository). The
               stage writes its reports there, as `dvc repro` would.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from mlship import telemetry
from mlship.checks import suites
from mlship.checks.results import SUITES
from mlship.config import load_params
from mlship.data.schema import load_schema, read_processed
from mlship.train import load_model

HERE = Path(__file__).resolve().parent.parent
MLSHIP = Path(sys.executable).parent / "mlship"
HEADER = "| suite (in-process, imports excluded) | seconds |"
QUICK_ROWS = 300


def wall(args: list[str], cwd: Path, ok: tuple[int, ...] = (0,)) -> float:
    """Seconds ``args`` took in ``cwd``; an exit code outside ``ok`` is an error (its output shown)."""
    start = time.perf_counter()
    done = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, check=False, env={**os.environ, "PYTHONHASHSEED": "0"}
    )
    if done.returncode not in ok:
        raise SystemExit(
            f"{' '.join(args)} exited {done.returncode}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return time.perf_counter() - start


def per_check(suite: Any, limit: int | None, **run_args: Any) -> list[tuple[str, float]]:
    """Seconds of each of the suite's checks (the first ``limit`` of them) run on its own."""
    timings = []
    for check in list(suite.checks.values())[:limit]:
        start = time.perf_counter()
        alone = type(suite)("one", check)  # a Deepchecks Suite of this check alone
        with suites.quiet():
            alone.run(with_display=False, **run_args)
        timings.append((type(check).__name__, time.perf_counter() - start))
    return timings


def sample(frame: pd.DataFrame, rows: int | None, seed: int) -> pd.DataFrame:
    if rows is None or len(frame) <= rows:
        return frame
    return frame.sample(n=rows, random_state=seed).reset_index(drop=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every step once on samples: no figures")
    parser.add_argument("--root", type=Path, default=HERE, help="the checkout to measure (default: this one)")
    args = parser.parse_args()
    root = args.root.resolve()
    rows, limit = (QUICK_ROWS, 1) if args.quick else (None, None)
    telemetry.disable()
    params = load_params(root / "params.yaml")
    schema = load_schema(root / params.data.schema_path)
    paths, checks, seed = params.paths, params.checks, params.split.seed
    model_path = root / paths.model
    if not model_path.exists():
        sys.exit(f"bench/checks.py: no model in {root} yet (run `make repro` there first)")
    validated, train, test = (
        sample(read_processed(root / p, schema), rows, seed)
        for p in (paths.validated, paths.train, paths.test)
    )
    model = load_model(model_path)
    classifier = schema.target.is_classifier

    print(f"{HEADER}\n|---|---|")
    outcome = suites.run_data_integrity(validated, checks.data_integrity, schema)
    print(f"| data_integrity ({len(validated)} rows) | {outcome.seconds:.1f} |")
    outcome = suites.run_train_test(train, test, config=checks.train_test, seed=seed, schema=schema)
    print(f"| train_test ({len(train)} / {len(test)} rows) | {outcome.seconds:.1f} |")
    start = time.perf_counter()
    importance = suites.feature_importance(model, test, checks.model_evaluation, params.model.seed, schema)
    importance_seconds = time.perf_counter() - start
    outcome = suites.run_model_evaluation(
        model, train=train, test=test, config=checks.model_evaluation, seed=params.model.seed, schema=schema
    )
    label = f"model_evaluation (incl. {importance_seconds:.1f} s permutation importance)"
    print(f"| {label} | {outcome.seconds:.1f} |")

    dtrain, dtest = suites.dataset(train, schema), suites.dataset(test, schema)
    predictions: dict[str, Any] = {}
    if classifier:
        predictions = {
            "y_proba_train": model.predict_proba(train[schema.feature_names]),
            "y_proba_test": model.predict_proba(test[schema.feature_names]),
            "model_classes": list(range(len(schema.target.classes))),
        }
    slowest = [
        *per_check(
            suites.train_test_suite(checks.train_test, seed, classifier),
            limit,
            train_dataset=dtrain,
            test_dataset=dtest,
        ),
        *per_check(
            suites.model_evaluation_suite(checks.model_evaluation, params.model.seed, classifier),
            limit,
            train_dataset=dtrain,
            test_dataset=dtest,
            model=model,
            feature_importance=importance,
            **predictions,
        ),
        *per_check(
            suites.data_integrity_suite(checks.data_integrity, classifier),
            limit,
            train_dataset=suites.dataset(validated, schema),
        ),
    ]
    print("\n| slowest checks | seconds |\n|---|---|")
    for name, seconds in sorted(slowest, key=lambda item: -item[1])[:6]:
        print(f"| {name} | {seconds:.1f} |")

    stage_suites = [SUITES[0]] if args.quick else []
    stage = wall([str(MLSHIP), "checks", *stage_suites], root)
    gates = wall([str(MLSHIP), "gates"], root, ok=(0, 1))  # timed, whatever the verdict on this data
    command = " ".join(["mlship checks", *stage_suites])
    what = f"the {stage_suites[0]} suite alone" if stage_suites else "imports, 3 suites, HTML reports"
    print("\n| command | seconds |\n|---|---|")
    print(f"| `{command}` (the DVC stage: {what}) | {stage:.1f} |")
    print(f"| `mlship gates` | {gates:.1f} |")
    print(f"| total | {stage + gates:.1f} |")


if __name__ == "__main__":
    main()
