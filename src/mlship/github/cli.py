"""``mlship github ACTION``: the production loop's GitHub steps (the Makefile's monitor-issue,
retrain-dispatch, retrain-pr and tune-pr targets call these).

Usage and configuration errors (no token, no repository, no monitor report, a forbidden branch) print one
line and exit 2; an error answer from GitHub exits 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlship.github import pulls
    from mlship.github.client import Settings

ACTIONS = {
    "monitor-issue": "open, comment on or close the environment's monitor issue from reports/monitor.json",
    "retrain-dispatch": "dispatch retrain.yml when reports/monitor.json says retrain: true (once)",
    "retrain-pr": "commit the retrained results on a branch (never main), push it, open or reuse its PR",
    "tune-pr": "if params.yaml changed: commit the tuned results on a branch (never main), push, open its PR",
}
RETRAIN_BRANCH = "mlship/retrain"
TUNE_BRANCH = "mlship/tune"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    subs = {name: actions.add_parser(name, help=text, description=text) for name, text in ACTIONS.items()}
    for name in ("monitor-issue", "retrain-dispatch"):
        subs[name].add_argument(
            "--report", type=Path, default=Path("reports/monitor.json"), help="the monitor's JSON verdict"
        )
        subs[name].add_argument("--env", help="environment (default: the one the report names)")
    subs["monitor-issue"].add_argument(
        "--markdown", type=Path, default=Path("reports/monitor.md"), help="the monitor's Markdown report"
    )
    subs["retrain-dispatch"].add_argument("--workflow", default="retrain.yml", help="workflow file to run")
    subs["retrain-dispatch"].add_argument("--ref", default="main", help="branch the workflow runs on")
    for name in ("retrain-dispatch", "retrain-pr"):
        subs[name].add_argument(
            "--branch", default=RETRAIN_BRANCH, help=f"the retraining branch (default: {RETRAIN_BRANCH})"
        )
    subs["retrain-pr"].add_argument("--reason", default="", help="why the model is retrained (PR body)")
    subs["tune-pr"].add_argument(
        "--branch", default=TUNE_BRANCH, help=f"the tuning branch (default: {TUNE_BRANCH})"
    )
    subs["tune-pr"].add_argument(
        "--record", type=Path, default=Path("reports/tune.md"), help="the search's record (the PR body)"
    )
    subs["tune-pr"].add_argument(
        "--params-file", type=Path, default=Path("params.yaml"), help="proposed only when this file changed"
    )
    for name in ("retrain-pr", "tune-pr"):
        subs[name].add_argument("--base", default="main", help="branch the PR merges into")
        subs[name].add_argument("--repo", type=Path, default=Path(), help="git checkout (default: .)")
        subs[name].add_argument("--remote", default="origin", help="git remote to push to")


def _run_url(environ: Mapping[str, str]) -> str | None:
    keys = ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    server, repository, run = (environ.get(k) for k in keys)
    return f"{server}/{repository}/actions/runs/{run}" if server and repository and run else None


def _act(args: argparse.Namespace) -> str:
    from mlship.github import dispatch, issues, pulls
    from mlship.github.client import GitHub, Settings

    settings = Settings.from_environment(os.environ)
    run_url = _run_url(os.environ)
    if args.action == "tune-pr":
        return _tune_pr(args, settings, run_url)
    if args.action == "retrain-pr":
        pulls.check_branch(args.repo, args.branch, args.base)
        body = (
            "Retrained by `retrain.yml`: the data source refreshed (`make refresh-data`) and the pipeline "
            "reproduced (`make run`). The pull-request checks judge it like any change: the report, the "
            "gates, then a review.\n\n"
            + (f"Reason: {args.reason}\n\n" if args.reason else "")
            + (f"Run: {run_url}\n" if run_url else "")
        )
        return _propose(args, settings, "Retrain the model on refreshed data", body).render(args.branch)
    markdown = getattr(args, "markdown", Path("reports/monitor.md"))
    verdict = issues.load_verdict(args.report, markdown, args.env)
    with GitHub(settings) as api:
        if args.action == "monitor-issue":
            return issues.sync(api, verdict, run_url).render(verdict.environment)
        outcome = dispatch.retrain(
            api,
            wanted=verdict.retrain,
            workflow=args.workflow,
            ref=args.ref,
            branch=args.branch,
            inputs={"reason": f"monitor: drift beyond monitoring.retrain_on in {verdict.environment}"},
        )
    return f"retrain-dispatch: {outcome.reason}"


def _tune_pr(args: argparse.Namespace, settings: Settings, run_url: str | None) -> str:
    """The tuning pull request: only when ``mlship tune --apply`` changed ``params.yaml``; its body is the
    search's record (``reports/tune.md``), replaced on every push."""
    from mlship.github import pulls
    from mlship.github.issues import ReportError

    pulls.check_branch(args.repo, args.branch, args.base)
    if not pulls.changed(args.repo, args.params_file):
        return f"tune-pr: {args.params_file} unchanged (no gain beyond noise): nothing to propose"
    try:
        record = (args.repo / args.record).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"{args.record} does not exist: run `make tune` first") from None
    body = (
        "Tuned by `tune.yml`: `make tune` searched the hyper-parameters on the training split only, "
        "`mlship tune --apply` wrote the chosen values into `params.yaml` and `make run` reproduced the "
        "pipeline. The pull-request checks judge it like any change: the report (the test split, with "
        "paired intervals on every delta), the gates, then a review.\n\n"
        + record
        + (f"\nRun: {run_url}\n" if run_url else "")
    )
    proposal = _propose(
        args, settings, "Tune the model's hyper-parameters", body, role="tune", update_body=True
    )
    return proposal.render(args.branch, "tune-pr")


def _propose(
    args: argparse.Namespace, settings: Settings, title: str, body: str, **options: Any
) -> pulls.Proposal:
    """Push ``args.branch`` and open (or find, or update) its one pull request against ``args.base``."""
    from mlship.github import pulls
    from mlship.github.client import GitHub

    with GitHub(settings) as api:
        return pulls.propose(
            args.repo,
            api,
            branch=args.branch,
            base=args.base,
            title=title,
            body=body,
            remote=args.remote,
            token=settings.token,
            server_url=os.environ.get("GITHUB_SERVER_URL", "https://github.com"),
            **options,
        )


def run(args: argparse.Namespace) -> int:
    from mlship.github.client import GitHubConfigError, GitHubError
    from mlship.github.issues import ReportError
    from mlship.github.pulls import BranchError

    try:
        print(_act(args))
    except (GitHubConfigError, ReportError, BranchError) as error:
        print(f"mlship github {args.action}: error: {error}", file=sys.stderr)
        return 2
    except GitHubError as error:
        print(f"mlship github {args.action}: error: {error}", file=sys.stderr)
        return 1
    return 0
