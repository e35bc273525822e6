"""Benchmark the data and model checks a PR waits on: the `checks` stage and `mlship gates`.

Measures on the default data, in this workspace (run `make repro` first):
  * each Deepchecks suite in-process (after imports), and each check on its own;
  * the whole stage as DVC runs it (`PYTHONHASHSEED=0 mlship checks`, imports included);
  * `mlship gates`.

Usage: .venv/bin/python bench/checks.py
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from mlship import telemetry
from mlship.checks import suites
from mlship.checks.suites import Suite
from mlship.config import load_params
from mlship.data.schema import CENSUS, read_processed
from mlship.train import load_model

ROOT = Path(__file__).resolve().parent.parent


def wall(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=ROOT, check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    return time.perf_counter() - start


def per_check(suite: Suite, **run_args: object) -> list[tuple[str, float]]:
    timings = []
    for check in suite.checks.values():
        start = time.perf_counter()
        with suites.quiet():
            Suite("one", check).run(with_display=False, **run_args)
        timings.append((type(check).__name__, time.perf_counter() - start))
    return timings


def main() -> None:
    telemetry.disable()
    params = load_params(ROOT / "params.yaml")
    paths, checks = params.paths, params.checks
    validated, train, test = (read_processed(ROOT / p) for p in (paths.validated, paths.train, paths.test))
    model = load_model(ROOT / paths.model)

    print("| suite (in-process, imports excluded) | seconds |\n|---|---|")
    outcome = suites.run_data_integrity(validated, checks.data_integrity)
    print(f"| data_integrity ({len(validated)} rows) | {outcome.seconds:.1f} |")
    outcome = suites.run_train_test(train, test, checks.train_test, params.split.seed)
    print(f"| train_test ({len(train)} / {len(test)} rows) | {outcome.seconds:.1f} |")
    start = time.perf_counter()
    importance = suites.feature_importance(model, test, checks.model_evaluation, params.model.seed)
    importance_seconds = time.perf_counter() - start
    outcome = suites.run_model_evaluation(
        model, train=train, test=test, config=checks.model_evaluation, seed=params.model.seed
    )
    label = f"model_evaluation (incl. {importance_seconds:.1f} s permutation importance)"
    print(f"| {label} | {outcome.seconds:.1f} |")

    dtrain, dtest = suites.dataset(train), suites.dataset(test)
    slowest = [
        *per_check(
            suites.train_test_suite(checks.train_test, params.split.seed),
            train_dataset=dtrain,
            test_dataset=dtest,
        ),
        *per_check(
            suites.model_evaluation_suite(checks.model_evaluation, params.model.seed),
            train_dataset=dtrain,
            test_dataset=dtest,
            model=model,
            feature_importance=importance,
            y_proba_train=model.predict_proba(train[CENSUS.feature_names]),
            y_proba_test=model.predict_proba(test[CENSUS.feature_names]),
            model_classes=[0, 1],
        ),
        *per_check(
            suites.data_integrity_suite(checks.data_integrity), train_dataset=suites.dataset(validated)
        ),
    ]
    print("\n| slowest checks | seconds |\n|---|---|")
    for name, seconds in sorted(slowest, key=lambda item: -item[1])[:6]:
        print(f"| {name} | {seconds:.1f} |")

    stage = wall([str(ROOT / ".venv/bin/mlship"), "checks"])
    gates = wall([str(ROOT / ".venv/bin/mlship"), "gates"])
    print("\n| command | seconds |\n|---|---|")
    print(f"| `mlship checks` (the DVC stage: imports, 3 suites, HTML reports) | {stage:.1f} |")
    print(f"| `mlship gates` | {gates:.1f} |")
    print(f"| total | {stage + gates:.1f} |")


if __name__ == "__main__":
    main()
