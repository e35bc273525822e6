"""One issue per environment, driven by the monitor's verdict, against the fake GitHub server (a real
HTTP server imitating GitHub's REST API: GitHub itself cannot be reached from here)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.github.conftest import ReportWriter
from tests.github.fake import FakeGitHub

from mlship.cli import main
from mlship.github import issues
from mlship.github.client import GitHub, Settings


def _sync(github: FakeGitHub, report: Path, run_url: str | None = None) -> issues.Outcome:
    verdict = issues.load_verdict(report, report.with_suffix(".md"))
    with GitHub(Settings.from_environment(github.environ())) as api:
        return issues.sync(api, verdict, run_url)


def _open(github: FakeGitHub) -> list[dict[str, object]]:
    return [i for i in github.state.issue_list() if i["state"] == "open"]


def test_the_issue_opens_on_the_first_alert_takes_comments_and_closes_when_healthy(
    github: FakeGitHub, monitor_report: ReportWriter
) -> None:
    # given a first alert
    first = _sync(github, monitor_report(healthy=False, drifted=("age",)))
    # then one issue is opened, labelled, titled by environment, carrying the report
    (issue,) = _open(github)
    assert first.action == "opened"
    assert issue["title"] == "mlship monitor: production"
    assert [label["name"] for label in issue["labels"]] == [issues.LABEL]
    assert "❌ Alert: age" in str(issue["body"])
    # when a later run alerts with another report / then it is a comment on the same issue
    second = _sync(github, monitor_report(healthy=False, drifted=("age", "hours")), "https://run/2")
    assert (second.action, second.number) == ("commented", first.number)
    (comment,) = github.state.comments[issue["number"]]
    assert "❌ Alert: age, hours" in comment["body"]
    assert "https://run/2" in comment["body"]
    assert len(_open(github)) == 1
    # when the service is healthy again / then the issue is commented and closed as completed
    third = _sync(github, monitor_report(healthy=True))
    assert third.action == "closed"
    assert _open(github) == []
    assert issue["state_reason"] == "completed"
    # and a healthy run with no open issue writes nothing
    writes = len(github.writes())
    assert _sync(github, monitor_report(healthy=True)).action == "none"
    assert len(github.writes()) == writes


def test_a_rerun_with_the_same_report_changes_nothing(
    github: FakeGitHub, monitor_report: ReportWriter
) -> None:
    # given an open issue and a comment from the same report already posted
    report = monitor_report(healthy=False, drifted=("age",))
    _sync(github, report)
    again = monitor_report(healthy=False, drifted=("age", "hours"))
    _sync(github, again)
    writes = len(github.writes())
    # when the same report is synced again (a re-run of the job) / then GitHub sees no write
    outcome = _sync(github, again, "https://run/other-attempt")
    assert outcome.action == "unchanged"
    assert len(github.writes()) == writes


def test_a_run_that_could_not_judge_is_never_a_silent_pass(
    github: FakeGitHub, monitor_report: ReportWriter
) -> None:
    # given an open alert issue
    _sync(github, monitor_report(healthy=False, drifted=("age",)))
    # when the next run had too few records to judge (healthy but not judged)
    outcome = _sync(github, monitor_report(healthy=True, judged=False))
    # then the issue stays open and says so
    assert outcome.action == "commented"
    (issue,) = _open(github)
    assert "NOT JUDGED" in github.state.comments[issue["number"]][-1]["body"]


def test_the_issue_is_found_among_many_pages_and_pull_requests_are_not_issues(
    github: FakeGitHub, monitor_report: ReportWriter
) -> None:
    # given other labelled issues (more than a page), a staging issue, and the production issue created first
    _sync(github, monitor_report(healthy=False, drifted=("age",)))
    with GitHub(Settings.from_environment(github.environ())) as api:
        for n in range(5):
            api.create_issue(f"unrelated {n}", "text", [issues.LABEL])
        api.create_issue("mlship monitor: staging", issues.marker("staging"), [issues.LABEL])
        # when looked up through the paginated list (2 per page here)
        found = issues.find(api, "production")
        assert issues.find(api, "canary") is None
    # then it is the production issue, and following the pages took several requests
    assert found is not None
    assert found["number"] == 1
    pages = [r for r in github.state.requests if r == ("GET", "/repos/acme/model/issues")]
    assert len(pages) >= 4


def test_an_issue_whose_marker_was_edited_away_is_found_by_its_exact_title(github: FakeGitHub) -> None:
    with GitHub(Settings.from_environment(github.environ())) as api:
        api.create_issue("mlship monitor: production", "someone rewrote the body", [issues.LABEL])
        api.create_issue("mlship monitor: production (old)", "", [issues.LABEL])
        found = issues.find(api, "production")
    assert found is not None
    assert found["body"] == "someone rewrote the body"


def test_an_issue_that_lost_its_label_is_still_the_one_issue(
    github: FakeGitHub, monitor_report: ReportWriter
) -> None:
    # given the open issue, its label removed by someone
    _sync(github, monitor_report(healthy=False, drifted=("age",)))
    (issue,) = _open(github)
    issue["labels"] = []
    # when the next alert is synced / then it is a comment on that issue, not a second issue
    assert _sync(github, monitor_report(healthy=False, drifted=("hours",))).action == "commented"
    assert len(_open(github)) == 1


@given(st.text(max_size=80_000), st.sampled_from(["production", "staging", "eu-west"]))
def test_a_body_always_fits_github_and_carries_its_marker_and_digest(markdown: str, environment: str) -> None:
    verdict = issues.Verdict(environment, False, True, ("drift: x",), False, markdown)
    body = issues.render(verdict, "https://run/1")
    assert len(body) <= issues.MAX_BODY
    assert issues.marker(environment) in body
    assert issues.digest(markdown) in body


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist: run `make monitor` first"),
        ("{not json", "is not JSON"),
        ('{"healthy": true}', "missing key(s) judged, alerts"),
        ('{"healthy": true, "judged": true, "alerts": []}', "names no environment: pass --env"),
    ],
)
def test_a_missing_or_malformed_report_is_one_line_and_exit_2(
    github: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    message: str,
) -> None:
    # given the fake's environment and a broken reports/monitor.json
    for key, value in github.environ().items():
        monkeypatch.setenv(key, value)
    report = tmp_path / "monitor.json"
    if content is not None:
        report.write_text(content, encoding="utf-8")
    # when / then
    assert main(["github", "monitor-issue", "--report", str(report)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert github.writes() == []


def test_the_command_syncs_the_issue_end_to_end(
    github: FakeGitHub,
    monitor_report: ReportWriter,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given a job's environment pointed at the fake and an alert report
    for key, value in github.environ().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_RUN_ID", "77")
    report = monitor_report(healthy=False, drifted=("age",))
    md = str(report.with_suffix(".md"))
    # when the command runs twice
    assert main(["github", "monitor-issue", "--report", str(report), "--markdown", md]) == 0
    assert main(["github", "monitor-issue", "--report", str(report), "--markdown", md]) == 0
    # then one issue was opened, linking the run, and the second run changed nothing
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("monitor-issue production: opened issue #1")
    assert out[1].startswith("monitor-issue production: already up to date: issue #1")
    (issue,) = _open(github)
    assert "https://github.com/acme/model/actions/runs/77" in str(issue["body"])
