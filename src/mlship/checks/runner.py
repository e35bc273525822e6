"""Stage ``checks_<suite>``: run one Deepchecks suite on the pipeline's files and record the verdicts.

The stage itself succeeds whatever the verdicts are, so every suite always reports; ``mlship gates`` reads
the summaries and fails the build.
"""

from __future__ import annotations

from pathlib import Path

from mlship.checks import results, suites
from mlship.checks.results import SUITES, SuiteOutcome
from mlship.config import Params
from mlship.data.schema import Schema, read_processed
from mlship.train import load_model

__all__ = ["SUITES", "html_path", "run", "summary_path"]


def summary_path(params: Params, suite: str) -> Path:
    return params.paths.reports / "checks" / f"{suite}.json"


def html_path(params: Params, suite: str) -> Path:
    return params.paths.reports / "checks" / f"{suite}.html"


def run(suite: str, params: Params, schema: Schema) -> SuiteOutcome:
    paths, checks = params.paths, params.checks
    html = html_path(params, suite)
    if suite == "data_integrity":
        frame = read_processed(paths.validated, schema)
        outcome = suites.run_data_integrity(frame, checks.data_integrity, schema, html)
    elif suite == "train_test":
        train, test = read_processed(paths.train, schema), read_processed(paths.test, schema)
        outcome = suites.run_train_test(
            train, test, config=checks.train_test, seed=params.split.seed, schema=schema, html=html
        )
    elif suite == "model_evaluation":
        train, test = read_processed(paths.train, schema), read_processed(paths.test, schema)
        outcome = suites.run_model_evaluation(
            load_model(paths.model),
            train=train,
            test=test,
            config=checks.model_evaluation,
            seed=params.model.seed,
            schema=schema,
            html=html,
        )
    else:
        raise ValueError(f"unknown suite {suite!r}")
    results.write(outcome, summary_path(params, suite))
    return outcome
