"""The retraining pull request: real git repositories (an ``origin`` bare repository and a clone) and the
fake GitHub server (a real HTTP server imitating GitHub's REST API, which cannot be reached from here; it
refuses a pull request whose head branch was not pushed to ``origin``, as GitHub does)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.github import fake

from mlship.cli import main

pytestmark = pytest.mark.integration


def _git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return result.stdout.strip()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A clone of ``origin`` on main, as retrain.yml's checkout is (no credentials kept)."""
    origin = tmp_path / "origin.git"
    _git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    work = tmp_path / "work"
    _git(tmp_path, "clone", "-q", str(origin), str(work))
    (work / "dvc.lock").write_text("schema: '2.0'\n", encoding="utf-8")
    (work / "metrics.json").write_text('{"auc": 0.90}\n', encoding="utf-8")
    _git(work, "add", ".")
    _git(work, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "first")
    _git(work, "push", "-q", "origin", "main")
    return work


@pytest.fixture
def github(checkout: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[fake.FakeGitHub]:
    with fake.serve(git=checkout.parent / "origin.git") as server:
        for key, value in server.environ().items():
            monkeypatch.setenv(key, value)
        yield server


def _retrain_pr(checkout: Path, *extra: str) -> int:
    return main(["github", "retrain-pr", "--repo", str(checkout), "--reason", "drift in age", *extra])


def test_the_retrained_results_go_to_a_branch_and_a_pull_request_never_to_main(
    checkout: Path, github: fake.FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a retraining run changed the tracked results
    origin = checkout.parent / "origin.git"
    main_before = _git(origin, "rev-parse", "main")
    (checkout / "metrics.json").write_text('{"auc": 0.91}\n', encoding="utf-8")
    # when the target runs
    assert _retrain_pr(checkout) == 0
    # then main did not move, on origin or in the checkout; the branch holds the change; one PR from it into
    # main says why
    assert _git(origin, "rev-parse", "main") == main_before
    assert _git(checkout, "rev-parse", "main") == main_before
    assert _git(origin, "show", "mlship/retrain:metrics.json") == '{"auc": 0.91}'
    (pull,) = [p["pull"] for p in github.state.pulls()]
    assert (pull["head"]["ref"], pull["base"]["ref"]) == ("mlship/retrain", "main")
    assert "Reason: drift in age" in pull["body"]
    assert capsys.readouterr().out.startswith("retrain-pr: opened pull request #1 from mlship/retrain")


def test_a_rerun_reuses_the_open_pull_request(
    checkout: Path, github: fake.FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a first retraining PR
    (checkout / "metrics.json").write_text('{"auc": 0.91}\n', encoding="utf-8")
    assert _retrain_pr(checkout) == 0
    branch_tip = _git(checkout.parent / "origin.git", "rev-parse", "mlship/retrain")
    # when the job is re-run from a fresh checkout producing the same results
    _git(checkout, "checkout", "-q", "main")
    _git(checkout, "reset", "-q", "--hard", "origin/main")
    (checkout / "metrics.json").write_text('{"auc": 0.91}\n', encoding="utf-8")
    assert _retrain_pr(checkout) == 0
    # then nothing was pushed and no second PR was opened
    assert _git(checkout.parent / "origin.git", "rev-parse", "mlship/retrain") == branch_tip
    assert len(github.state.pulls()) == 1
    assert "already up to date: pull request #1" in capsys.readouterr().out.splitlines()[-1]


def test_nothing_changed_means_no_pull_request(
    checkout: Path, github: fake.FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _retrain_pr(checkout) == 0
    assert github.state.pulls() == []
    assert "nothing changed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("branch", "base"), [("main", "main"), ("master", "main"), ("release", "release"), ("bad..name", "main")]
)
def test_a_forbidden_branch_is_refused_before_anything_is_pushed(
    checkout: Path, github: fake.FakeGitHub, capsys: pytest.CaptureFixture[str], branch: str, base: str
) -> None:
    # given a change and a branch that is the base, a protected name, or not a branch name
    (checkout / "metrics.json").write_text('{"auc": 0.91}\n', encoding="utf-8")
    # when the target runs / then one line, exit 2, nothing committed, pushed or requested
    assert _retrain_pr(checkout, "--branch", branch, "--base", base) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert github.writes() == []
    assert _git(checkout, "rev-list", "--count", "HEAD") == "1"
    assert _git(checkout.parent / "origin.git", "branch", "--list") == "* main"


# --- the tuning pull request (tune.yml): the same machinery on mlship/tune, body = reports/tune.md ---------


def _tune_pr(checkout: Path) -> int:
    return main(["github", "tune-pr", "--repo", str(checkout)])


def _tuned(checkout: Path, rate: str, record: str) -> None:
    """What `make tune`, `make tune-apply` and `make run` leave: params.yaml, metrics and the record."""
    (checkout / "params.yaml").write_text(f"learning_rate: {rate}\n", encoding="utf-8")
    (checkout / "metrics.json").write_text(f'{{"auc": 0.9{rate[-1]}}}\n', encoding="utf-8")
    (checkout / "reports").mkdir(exist_ok=True)
    (checkout / "reports" / "tune.md").write_text(record, encoding="utf-8")


@pytest.fixture
def tuned_checkout(checkout: Path) -> Path:
    """The checkout with params.yaml on main (the record under reports/ is never committed)."""
    (checkout / "params.yaml").write_text("learning_rate: 0.1\n", encoding="utf-8")
    _git(checkout, "add", "params.yaml")
    _git(checkout, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "params")
    _git(checkout, "push", "-q", "origin", "main")
    return checkout


def test_the_tuned_parameters_go_to_mlship_tune_with_the_record_as_body_and_reruns_change_nothing(
    tuned_checkout: Path, github: fake.FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    checkout, origin = tuned_checkout, tuned_checkout.parent / "origin.git"
    main_before = _git(origin, "rev-parse", "main")
    # given --apply changed params.yaml
    _tuned(checkout, "0.05", "## mlship tune\n\nfirst search\n")
    # when the target runs / then one PR from mlship/tune into main carries the record; main did not move
    assert _tune_pr(checkout) == 0
    assert _git(origin, "rev-parse", "main") == main_before
    assert _git(origin, "show", "mlship/tune:params.yaml") == "learning_rate: 0.05"
    (pull,) = [p["pull"] for p in github.state.pulls()]
    assert (pull["head"]["ref"], pull["base"]["ref"]) == ("mlship/tune", "main")
    assert "## mlship tune\n\nfirst search" in pull["body"]
    assert "tune-pr: opened pull request #1 from mlship/tune" in capsys.readouterr().out
    # when re-run from a fresh checkout of main with the same result / then nothing is pushed or opened
    tip = _git(origin, "rev-parse", "mlship/tune")
    _git(checkout, "checkout", "-q", "main")
    _git(checkout, "reset", "-q", "--hard", "origin/main")
    _tuned(checkout, "0.05", "## mlship tune\n\nfirst search\n")
    assert _tune_pr(checkout) == 0
    assert _git(origin, "rev-parse", "mlship/tune") == tip
    assert "already up to date: pull request #1" in capsys.readouterr().out
    # when a later search chose other values / then the same PR gets them and the new record as its body
    _git(checkout, "checkout", "-q", "main")
    _git(checkout, "reset", "-q", "--hard", "origin/main")
    _tuned(checkout, "0.07", "## mlship tune\n\nsecond search\n")
    assert _tune_pr(checkout) == 0
    (pull,) = [p["pull"] for p in github.state.pulls()]
    assert "second search" in pull["body"]
    assert _git(origin, "show", "mlship/tune:params.yaml") == "learning_rate: 0.07"
    assert _git(origin, "rev-parse", "main") == main_before


def test_no_pull_request_when_the_search_changed_no_parameter(
    tuned_checkout: Path, github: fake.FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a run whose gain was noise: params.yaml as on main (the metrics may still differ)
    (tuned_checkout / "metrics.json").write_text('{"auc": 0.91}\n', encoding="utf-8")
    # when the target runs / then nothing is committed, pushed or requested
    assert _tune_pr(tuned_checkout) == 0
    assert github.writes() == []
    assert _git(tuned_checkout.parent / "origin.git", "branch", "--list") == "* main"
    assert "params.yaml unchanged" in capsys.readouterr().out
