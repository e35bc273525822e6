"""``mlship <command>``: the single entry point used by ``dvc.yaml``, the Makefile and the workflows.

Each command is a thin shell around a pure function; heavy libraries are imported only by the command
that needs them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlship import numerics, telemetry
from mlship.checks.results import SUITES
from mlship.config import DEFAULT_PARAMS_PATH, Params, load_params, params_json_schema
from mlship.declared import DeclarationError
from mlship.tasks import TASKS

if TYPE_CHECKING:
    from mlship.data.schema import Schema

Handler = Callable[[argparse.Namespace, Params], int]


class UsageError(RuntimeError):
    """A problem the user can fix; printed without a traceback."""


def _schema(params: Params) -> Schema:
    """The data schema declared by ``data.schema`` (read once per command that needs it).

    Imported here, not at the top: the schema module loads numpy, which must come after ``numerics.pin``.
    """
    from mlship.data.schema import load_schema

    return load_schema(params.data.schema_path)


def _config(args: argparse.Namespace, params: Params) -> int:
    if args.schema:
        print(json.dumps(params_json_schema(), indent=2))
        return 0
    document: object = params.model_dump(mode="json")
    if args.get:
        for part in args.get.split("."):
            if not isinstance(document, dict) or part not in document:
                raise UsageError(f"no setting {args.get!r} in {args.params}")
            document = document[part]
    if args.get and not isinstance(document, dict | list):
        print(document)
    else:
        print(json.dumps(document, indent=2))
    return 0


def _init(args: argparse.Namespace, params: Params) -> int:
    from mlship.adopt import command

    result = command.run(
        args.path,
        target=args.target,
        sensitive=args.sensitive,
        task=args.task,
        params_path=args.params,
        root=Path.cwd(),
    )
    print(result.render())
    return 0


def _ingest(args: argparse.Namespace, params: Params) -> int:
    from mlship.data import ingest

    digest = ingest.run(params.data, params.paths.raw)
    print(f"ingest: {params.paths.raw} (sha256 {digest})")
    return 0


def _validate(args: argparse.Namespace, params: Params) -> int:
    from mlship.data import validate

    report = params.paths.reports / "validation.json"
    result = validate.run(params.paths.raw, params.paths.validated, report, _schema(params))
    print(f"validate: {result.rows} rows, 0 violations -> {params.paths.validated}")
    return 0


def _split(args: argparse.Namespace, params: Params) -> int:
    from mlship.data import split

    paths = params.paths
    n_train, n_test = split.run(params.split, _schema(params), paths.validated, paths.train, paths.test)
    print(f"split: {n_train} train rows, {n_test} test rows")
    return 0


def _train(args: argparse.Namespace, params: Params) -> int:
    from mlship import train

    paths = params.paths
    train.run(params.model, _schema(params), paths.train, paths.model, paths.simple_model)
    print(f"train: {params.model.estimator} -> {params.paths.model}")
    return 0


def _evaluate(args: argparse.Namespace, params: Params) -> int:
    from mlship import evaluate
    from mlship.tasks import headline_metric

    paths = params.paths
    evaluation = evaluate.run(
        params.evaluate,
        _schema(params),
        model_path=paths.model,
        simple_model_path=paths.simple_model,
        test_path=paths.test,
        metrics_path=paths.metrics,
        plots_dir=paths.plots,
        predictions_path=paths.predictions,
    )
    overall = evaluation.metrics["overall"]
    headline = headline_metric(evaluation.task)
    shown = f"{overall[headline]:.4f}" if headline in overall else "n/a"
    print(f"evaluate: {evaluation.task}, {headline}={shown} -> {params.paths.metrics}")
    return 0


def _checks(args: argparse.Namespace, params: Params) -> int:
    from mlship.checks import runner

    schema = _schema(params)
    for suite in args.suites or SUITES:
        outcome = runner.run(suite, params, schema)
        failed = [check for check in outcome.checks if check.status != "passed"]
        passed = len(outcome.checks) - len(failed)
        print(
            f"checks {outcome.suite}: {passed}/{len(outcome.checks)} checks passed "
            f"in {outcome.seconds:.1f} s -> {runner.summary_path(params, outcome.suite)}"
        )
        for check in failed:
            for failure in check.failures:
                print(f"  FAIL {check.check}: {failure}")
    return 0


def _gates(args: argparse.Namespace, params: Params) -> int:
    from mlship.checks import verdicts

    outcome = verdicts.run(params, _schema(params), Path(args.repo))
    print(outcome.render())
    return 0 if outcome.passed else 1


def _cost(args: argparse.Namespace, params: Params) -> int:
    from threadpoolctl import threadpool_limits

    from mlship import costs
    from mlship.serving.cost import CostError

    try:  # one worker's OpenMP threads, as the service runs
        with threadpool_limits(limits=params.service.threads_per_worker, user_api="openmp"):
            document, measured = costs.run(params, _schema(params), Path(args.repo), force=args.force)
    except CostError as error:
        print(f"mlship cost: error: {error}", file=sys.stderr)
        return 1
    state = "measured" if measured else "already measured for these models (--force measures again)"
    print(f"cost: {state} -> {costs.path(params)}")
    print(f"cost: {costs.summary(document)}")
    return 0


def _store_model(args: argparse.Namespace, params: Params) -> int:
    from mlship.serving import store

    saved = store.save(params)
    print(f"store-model: {params.paths.model} -> BentoML model {saved.tag}")
    return 0


def _report(args: argparse.Namespace, params: Params) -> int:
    import os

    from mlship.report import build

    embed = args.embed_images or os.environ.get("MLSHIP_REPORT_IMAGES", "").lower() == "true"
    charts = args.charts or args.out.parent / args.out.stem
    written = build.run(
        params,
        _schema(params),
        Path(args.repo),
        out=args.out,
        charts_dir=charts,
        environ=os.environ,
        embed_images=embed,
    )
    print(written.verdict)
    print(f"report: {written.markdown} ({len(written.images)} PNG chart(s) in {charts}/)")
    return 0


def _repro_check(args: argparse.Namespace, params: Params) -> int:
    from mlship.report import repro

    paths = ["dvc.lock", params.paths.metrics.as_posix(), params.paths.plots.as_posix()]
    result = repro.run(paths, Path(args.repo), params.paths.reports)
    print(f"repro-check: {result.message}")
    for difference in result.files:
        print(f"  {difference.status}: {difference.path}")
    return 0 if result.passed else 1


def _summary(args: argparse.Namespace, params: Params) -> int:
    from mlship import summary

    print(summary.render(params.paths.metrics, _schema(params).task))
    return 0


def _github(args: argparse.Namespace, params: Params) -> int:
    from mlship.github import cli as github_cli

    return github_cli.run(args)


def _refresh_data(args: argparse.Namespace, params: Params) -> int:
    from mlship.data import refresh

    result = refresh.refresh(params.data, args.params)
    print(f"refresh-data: {result.message}")
    return 0


def _deploy(args: argparse.Namespace, params: Params) -> int:
    from mlship.deploy import cli as deploy_cli

    return deploy_cli.run(args, params)


def _monitor(args: argparse.Namespace, params: Params) -> int:
    from mlship.monitor.captures import MonitorError
    from mlship.monitor.command import run

    try:
        return run(
            params,
            _schema(params),
            environment=args.env,
            source=args.source,
            since=args.since,
            labels=args.labels,
            out=args.out,
        )
    except MonitorError as error:
        print(f"mlship monitor: error: {error}", file=sys.stderr)
        return 2


def _tune(args: argparse.Namespace, params: Params) -> int:
    from mlship.tune import command

    if args.apply:
        from mlship.tune.apply import apply
        from mlship.tune.record import read

        print(apply(read(command.record_paths(params)[0]), params, args.params).render(args.params))
        return 0
    doc = command.search(params, _schema(params), quick=args.quick, trials=args.trials, jobs=args.jobs)
    print(command.summary(doc, params))
    return 0


COMMANDS: dict[str, tuple[str, Handler]] = {
    "init": (
        "adopt a data file: draft schema.yaml, point params.yaml at it, reset dataset-specific settings",
        _init,
    ),
    "config": ("print the parsed parameters (or their JSON schema with --schema)", _config),
    "ingest": ("materialize the raw data from the configured source and verify its sha256", _ingest),
    "validate": ("check the raw data against the schema; fail naming column, rule and count", _validate),
    "split": ("seeded, stratified train/test split", _split),
    "train": ("fit the model pipeline and save it", _train),
    "evaluate": ("metrics overall and per sensitive slice, plus plot data", _evaluate),
    "checks": ("run one Deepchecks suite and record its verdicts (the gates judge them)", _checks),
    "cost": ("measure the model's serving cost beside the merge base's (reports/serving_cost.json)", _cost),
    "gates": ("judge the model and the data: one line per failure, non-zero exit if any", _gates),
    "store-model": ("save the trained model to the BentoML model store (version: git SHA)", _store_model),
    "summary": ("print a short table of the current metrics", _summary),
    "deploy": ("ship: push, staging, release, rollback, status, history (docs/runbook.md)", _deploy),
    "refresh-data": (
        "bring the data source up to date (`dvc update` for a DVC import) before a retraining run",
        _refresh_data,
    ),
    "github": ("the production loop on GitHub: monitor issue, retrain dispatch, retrain PR", _github),
    "monitor": ("judge what an environment served: drift, skew, quality, live metrics, staleness", _monitor),
    "tune": (
        "hyper-parameter search on the training split (cross-validation): reports/tune.{json,md}; "
        "--apply writes the choice into params.yaml",
        _tune,
    ),
    "report": ("write the PR report (Markdown + PNG charts): the workspace vs the merge base", _report),
    "repro-check": ("after `dvc repro`: fail if dvc.lock, metrics or plots differ from HEAD", _repro_check),
}


def _suite_name(value: str) -> str:
    # argparse's `choices` rejects an empty `nargs="*"` list on Python 3.11, so validate here instead.
    if value not in SUITES:
        raise argparse.ArgumentTypeError(f"unknown suite {value!r} (choose from {', '.join(SUITES)})")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlship", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--params", type=Path, default=DEFAULT_PARAMS_PATH, help="parameters file (default: params.yaml)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, _) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if name == "config":
            sub.add_argument("--schema", action="store_true", help="print the JSON schema of params.yaml")
            sub.add_argument(
                "--get", metavar="KEY", help="print one setting by its dotted key (e.g. service.name)"
            )
        if name == "init":
            sub.add_argument(
                "path", type=Path, metavar="PATH", help="the data file: CSV, or Parquet (.parquet, .pq)"
            )
            sub.add_argument("--target", required=True, metavar="COLUMN", help="the column to predict")
            sub.add_argument(
                "--sensitive",
                action="append",
                default=[],
                metavar="COLUMN",
                help="a sensitive attribute (categorical or boolean column) for slice metrics; repeatable",
            )
            sub.add_argument(
                "--task",
                choices=TASKS,
                help="binary | multiclass | regression (default: inferred from the target)",
            )
        if name == "checks":
            sub.add_argument(
                "suites",
                nargs="*",
                type=_suite_name,
                metavar="SUITE",
                help=f"suites to run: {', '.join(SUITES)} (default: all)",
            )
        if name == "deploy":
            from mlship.deploy.cli import add_arguments

            add_arguments(sub)
        if name == "github":
            from mlship.github.cli import add_arguments as github_arguments

            github_arguments(sub)
        if name == "cost":
            sub.add_argument("--force", action="store_true", help="measure again even if already measured")
        if name in ("cost", "gates", "report", "repro-check"):
            sub.add_argument("--repo", default=".", help="git repository holding the baseline (default: .)")
        if name == "report":
            sub.add_argument(
                "--out",
                type=Path,
                default=Path("reports/report.md"),
                help="Markdown file to write (default: reports/report.md)",
            )
            sub.add_argument(
                "--charts",
                type=Path,
                help="folder for the PNG charts (default: beside --out, e.g. reports/report/)",
            )
            sub.add_argument(
                "--embed-images",
                action="store_true",
                help="embed the PNGs (for `cml comment --publish`; or env MLSHIP_REPORT_IMAGES=true)",
            )
        if name == "tune":
            sub.add_argument(
                "--apply",
                action="store_true",
                help="no search: write the choice in reports/tune.json into params.yaml (unless it is noise)",
            )
            sub.add_argument(
                "--quick", action="store_true", help="at most 4 trials, 2 folds, 2,000 training rows (tests)"
            )
            sub.add_argument("--trials", type=int, metavar="N", help="candidates (default: tune.trials)")
            sub.add_argument("--jobs", type=int, metavar="N", help="parallel fits (default: one per core)")
        if name == "monitor":
            where = sub.add_mutually_exclusive_group(required=True)
            where.add_argument("--env", metavar="ENV", help="a local environment (its .deploy/ENV/capture)")
            where.add_argument(
                "--from",
                dest="source",
                metavar="PATH|URL",
                help="a capture directory, or a URL prefix (s3://, gs://, ... with its fsspec package; file://)",
            )
            sub.add_argument("--since", metavar="WHEN", help="only records since: 7d, 12h, 30m or ISO 8601")
            sub.add_argument("--labels", type=Path, metavar="FILE", help="CSV: request_id, [record,] label")
            sub.add_argument(
                "--out", type=Path, default=Path("reports/monitor.md"), help="default: reports/monitor.md"
            )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    telemetry.disable()
    # Before any command imports numpy: the same BLAS kernels and thread count on every machine.
    numerics.pin()
    args = build_parser().parse_args(argv)
    if args.command == "config" and args.schema:
        print(json.dumps(params_json_schema(), indent=2))
        return 0
    try:
        params = load_params(args.params)
        return COMMANDS[args.command][1](args, params)
    except DeclarationError as error:  # params.yaml or schema.yaml
        print(f"mlship: configuration error: {error}", file=sys.stderr)
        return 2
    except (RuntimeError, OSError) as error:
        print(f"mlship {args.command}: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
