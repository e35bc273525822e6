"""Dispatching retrain.yml from the monitor's verdict, against the fake GitHub server (a real HTTP server
imitating GitHub's REST API; GitHub cannot be reached from here): once, and only when asked."""

from __future__ import annotations

import pytest
from tests.github.conftest import ReportWriter
from tests.github.fake import FakeGitHub

from mlship.cli import main
from mlship.github.client import GitHub, Settings


@pytest.fixture
def job_env(github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> FakeGitHub:
    for key, value in github.environ().items():
        monkeypatch.setenv(key, value)
    return github


def _dispatch(report: str) -> int:
    return main(["github", "retrain-dispatch", "--report", report])


def test_drift_beyond_retrain_on_dispatches_retrain_once(
    job_env: FakeGitHub, monitor_report: ReportWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a report asking for retraining
    report = str(monitor_report(healthy=False, drifted=("age",), retrain=True))
    # when the target runs, then again while that run is still queued
    assert _dispatch(report) == 0
    assert _dispatch(report) == 0
    # then exactly one retrain.yml run was dispatched, on main, saying why
    (run,) = job_env.state.runs
    assert (run["path"], run["head_branch"], run["event"]) == (
        ".github/workflows/retrain.yml",
        "main",
        "workflow_dispatch",
    )
    assert "production" in run["inputs"]["reason"]
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "retrain-dispatch: dispatched retrain.yml on main",
        f"retrain-dispatch: retrain.yml is already queued (run {run['id']})",
    ]


def test_no_dispatch_without_retrain_or_while_the_retrain_pr_is_open(
    job_env: FakeGitHub, monitor_report: ReportWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    # given an alert below retrain_on / then nothing is dispatched
    assert _dispatch(str(monitor_report(healthy=False, drifted=("age",), retrain=False))) == 0
    assert job_env.state.runs == []
    # given an open retraining pull request / when retraining is asked / then nothing is dispatched
    with GitHub(Settings.from_environment(job_env.environ())) as api:
        api.create_pull(head="mlship/retrain", base="main", title="Retrain", body="")
    assert _dispatch(str(monitor_report(healthy=False, drifted=("age",), retrain=True))) == 0
    assert job_env.state.runs == []
    out = capsys.readouterr().out
    assert "retrain: false" in out
    assert "pull request #1 is still open" in out


def test_an_unknown_workflow_is_github_s_404_and_exit_1(
    job_env: FakeGitHub, monitor_report: ReportWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    report = str(monitor_report(healthy=False, retrain=True))
    assert main(["github", "retrain-dispatch", "--report", report, "--workflow", "nope.yml"]) == 1
    assert "HTTP 404: Not Found" in capsys.readouterr().err
