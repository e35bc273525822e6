"""The pull-request jobs, step by step, in a fresh clone of the repository (as the runner would see it).

Integration: clones the repository (with the working tree committed on a branch), then runs each job's
steps with :mod:`tests.workflows.steps`. A renamed make target, a missing file or a step that fails on a
clean checkout fails here rather than on GitHub. CML itself is not run (it cannot be installed here): its
step writes the comment body to a file, which is checked.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from tests.github import fake
from tests.monitor.traffic import capture_traffic, shift
from tests.shared import Reproduced, git
from tests.tune.records import recorded
from tests.workflows import policy
from tests.workflows.steps import KNOWN_EXPRESSIONS, clone_with_working_tree, run_job

from mlship.config import Params
from mlship.data.schema import Schema
from mlship.train import load_model
from mlship.tune import record

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A fresh clone per job, as each GitHub job starts from its own checkout."""
    return clone_with_working_tree(tmp_path / "repo")


@pytest.fixture(scope="module")
def pr_workflow() -> dict[str, object]:
    return policy.load(ROOT / ".github" / "workflows" / "pr.yml")


def test_the_pipeline_job_reproduces_judges_reports_and_writes_one_comment(
    clone: Path, pr_workflow: dict[str, object], tmp_path: Path, reproduced: Reproduced
) -> None:
    # given a fresh clone and the DVC cache a previous run of the same pipeline left (what actions/cache
    # restores: the run-cache makes unchanged stages a checkout)
    comment = tmp_path / "comment.md"
    # when every step of the `pipeline` job runs in order
    job = run_job(pr_workflow, "pipeline", clone, comment=comment, cache=reproduced.cache)
    # then every step ran: repro, the reproducibility gate, the gates, the report, the artifact, the comment;
    # only the gates step may fail, and only when the gates' own verdict is a failure (a fork's data may
    # fail them on day one: the report still goes out, saying so)
    gates = json.loads((clone / "reports" / "gates.json").read_text(encoding="utf-8"))
    expected_failures = [] if gates["passed"] else ["make gates"]
    assert [s.name for s in job.failed] == expected_failures, "\n".join(
        f"{s.name}: {s.output}" for s in job.failed
    )
    names = [s.name for s in job.steps]
    made = [n for n in names if n.startswith("make ")]
    assert made == ["make cache-pull", "make repro", "make repro-check", "make gates", "make report"]
    assert names[-2:] == ["actions/upload-artifact (reports/)", f"cml comment update -> {comment.name}"]
    # and the comment CML would post is the report, verdict first
    body = comment.read_text(encoding="utf-8")
    verdict = "✅ **May merge**" if gates["passed"] else "❌ **Do not merge**"
    assert body.splitlines()[2].startswith(verdict)
    assert "### Metrics" in body
    assert "✅ `dvc repro` reproduced the committed" in body


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One clone for the check and test jobs: the first job's setup step creates its environment, the later
    jobs' setup steps find it up to date (what differs between these jobs is the make target they run)."""
    return clone_with_working_tree(tmp_path_factory.mktemp("jobs") / "repo")


@pytest.mark.parametrize(
    ("workflow", "job"),
    [
        ("pr.yml", "check"),
        ("pr.yml", "test"),
        ("pr.yml", "integration"),
        ("pr.yml", "shipping"),
        ("pr.yml", "containers"),
        ("template.yml", "template"),
    ],
)
def test_the_check_and_test_jobs_run_their_targets_in_a_clone(
    checkout: Path, tmp_path: Path, workflow: str, job: str
) -> None:
    # given the job as its workflow declares it
    document = policy.load(ROOT / ".github" / "workflows" / workflow)
    # when the job's steps run (the test jobs collect their tier rather than running it again, which this
    # test is already part of)
    extra = {"PYTEST_ARGS": "--collect-only -q"} if job != "check" else {}
    outcome = run_job(document, job, checkout, comment=tmp_path / "unused.md", extra_env=extra)
    # then every step passed, the last being the job's make target
    assert not outcome.failed, "\n".join(f"{s.name}: {s.output}" for s in outcome.failed)
    assert [s.name for s in outcome.steps][-1].startswith("make ")
    # and a test job collected tests of its own tier: never none (pytest's exit 5 fails the step)
    if job != "check":
        assert " tests collected" in outcome.steps[-1].output or " test collected" in outcome.steps[-1].output


# --- the production loop: monitor.yml and retrain.yml ----------------------------------------------------
# GitHub's API is the fake server of tests/github/fake.py (a real HTTP server imitating GitHub's REST
# protocol; GitHub cannot be reached from here), accepting the token the step runner gives the workflows.

LOOP_TOKEN = KNOWN_EXPRESSIONS["${{ secrets.GITHUB_TOKEN }}"]


def _judged(clone: Path) -> dict[str, Any]:
    return dict(json.loads((clone / "reports" / "monitor.json").read_text(encoding="utf-8")))


def test_the_monitor_jobs_open_the_issue_dispatch_retraining_then_close_it(
    clone: Path,
    tmp_path: Path,
    reproduced: Reproduced,
    params: Params,
    schema: Schema,
    split_frames: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    """The real `make monitor` judges traffic captured by the service's capture code into production's local
    capture directory, against the served commit's training data found through git and the DVC cache the
    judge job restores (the run's reproduced pipeline, as actions/cache would restore it)."""
    monitor = policy.load(ROOT / ".github" / "workflows" / "monitor.yml")
    model = load_model(reproduced.path / params.paths.model)
    served = git(clone, "rev-parse", "HEAD").strip()
    captures = clone / params.deploy.runtime_dir / "production" / "capture"
    test = split_frames[1].head(1000)
    with fake.serve(token=LOOP_TOKEN) as github:
        env = {"GITHUB_REPOSITORY": github.state.repository, "GITHUB_API_URL": github.url}

        def run(job: str) -> list[str]:
            outcome = run_job(
                monitor, job, clone, comment=tmp_path / "unused.md", extra_env=env, cache=reproduced.cache
            )
            return [s.name for s in outcome.failed] + [f"ran: {s.name}" for s in outcome.steps]

        # given production served this commit's model to traffic with a numeric feature moved and a rare
        # category flooded (drift past retrain_on)
        shifted, numeric, category = shift(test, schema)
        capture_traffic(captures, "shifted", shifted, model, params, schema, served)
        # when the three jobs run (the issue and retrain jobs see the judge's reports/, as its artifact)
        judged = run("judge")
        report = _judged(clone)
        issue = run("issue")
        retrain = run("retrain")
        # then only the judge failed (an alert turns the run red) naming exactly the moved features, its
        # report was uploaded anyway, one issue was opened and retrain.yml was dispatched once
        assert judged[0] == "make monitor", judged
        drifted = {name for name, d in report["drift"]["features"].items() if d["drifted"]}
        assert drifted == {numeric, category}, report["alerts"]
        assert (report["judged"], report["retrain"], report["records"]) == (True, True, len(test))
        assert "ran: actions/upload-artifact (reports/)" in judged
        assert issue[-1] == "ran: make monitor-issue"
        assert retrain[-1] == "ran: make retrain-dispatch"
        assert "make monitor-issue" not in issue
        assert "make retrain-dispatch" not in retrain
        (opened,) = github.state.issue_list()
        assert (opened["title"], opened["state"]) == ("mlship monitor: production", "open")
        assert [r["path"] for r in github.state.runs] == [".github/workflows/retrain.yml"]
        # when the next run sees traffic like the training data / then it is healthy and the issue is closed
        # (the retrain job's other outcomes are tests/github/test_dispatch.py's)
        shutil.rmtree(captures)
        capture_traffic(captures, "unshifted", test, model, params, schema, served)
        assert "make monitor" not in run("judge"), _judged(clone)["alerts"]
        assert _judged(clone)["healthy"] is True
        assert "make monitor-issue" not in run("issue")
        assert opened["state"] == "closed"


def _bare_origin(clone: Path, tmp_path: Path) -> tuple[Path, str]:
    """A bare repository as the clone's ``origin``, holding its HEAD as ``main``; and main's tip."""
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    subprocess.run(["git", "remote", "set-url", "origin", str(origin)], cwd=clone, check=True)
    subprocess.run(["git", "push", "-q", "origin", "HEAD:refs/heads/main"], cwd=clone, check=True)
    return origin, _git_out(origin, "rev-parse", "main")


def _git_out(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def test_the_retrain_job_refreshes_and_proposes_a_branch_never_main(clone: Path, tmp_path: Path) -> None:
    """`make run` is replaced by a stand-in that changes the tracked metrics (a retrained result): the
    pipeline itself is proven in a clone by the pull-request pipeline test above, and a cold `dvc repro`
    would not fit this test's time. Everything else runs for real: refresh-data, the commit, the push to a
    bare `origin`, the pull request on the fake GitHub server."""
    retrain = policy.load(ROOT / ".github" / "workflows" / "retrain.yml")
    origin, main_tip = _bare_origin(clone, tmp_path)
    stand_in = {"make run": """printf '{"retrained": true}\\n' > metrics.json"""}
    with fake.serve(token=LOOP_TOKEN, git=origin) as github:
        env = {"GITHUB_REPOSITORY": github.state.repository, "GITHUB_API_URL": github.url}
        # when the job runs
        outcome = run_job(
            retrain, "retrain", clone, comment=tmp_path / "u.md", extra_env=env, stand_ins=stand_in
        )
        # then every step passed, the data source was refreshed (the default is a pinned package), the
        # branch mlship/retrain holds the result, main did not move and one pull request was opened from it
        assert not outcome.failed, "\n".join(f"{s.name}: {s.output}" for s in outcome.failed)
        made = [s.name for s in outcome.steps if s.name.startswith("make ")]
        assert made == [
            "make cache-pull",
            "make refresh-data",
            "make run",
            "make cache-push",
            "make retrain-pr",
        ]
        assert "refresh-data:" in outcome.steps[3].output
        assert _git_out(origin, "rev-parse", "main") == main_tip
        assert _git_out(origin, "show", "mlship/retrain:metrics.json") == '{"retrained": true}\n'
        (pull,) = [p["pull"] for p in github.state.pulls()]
        assert (pull["head"]["ref"], pull["base"]["ref"]) == ("mlship/retrain", "main")
        assert "Reason: by hand" in pull["body"]


def test_the_tune_job_proposes_the_applied_choice_on_mlship_tune_never_main(
    clone: Path, tmp_path: Path, params: Params
) -> None:
    """Two stand-ins, each proven elsewhere: `make tune` copies in a search's record (made by the real
    record writer; `mlship tune` itself runs in tests/tune/test_command.py: 20 trials on the census do not
    fit this test's time) and `make run` changes the tracked metrics as the retrain test's does. Everything
    else runs for real: `mlship tune --apply` on the clone's params.yaml, the commit, the push to a bare
    `origin`, the pull request on the fake GitHub server; then the job again from main, as a re-run."""
    tune = policy.load(ROOT / ".github" / "workflows" / "tune.yml")
    origin, main_tip = _bare_origin(clone, tmp_path)
    # given a search whose choice beats the current parameters beyond noise
    name = "learning_rate" if params.model.estimator == "hist_gradient_boosting" else "C"
    doc = recorded(params, {name: 0.0421}, current=[0.90, 0.91, 0.92], best=[0.93, 0.94, 0.95])
    record.write(doc, tmp_path / "tune.json", tmp_path / "tune.md")
    stand_in = {
        "make tune": f"mkdir -p reports && cp {tmp_path}/tune.json {tmp_path}/tune.md reports/",
        "make run": """printf '{"tuned": true}\\n' > metrics.json""",
    }
    with fake.serve(token=LOOP_TOKEN, git=origin) as github:
        env = {"GITHUB_REPOSITORY": github.state.repository, "GITHUB_API_URL": github.url}

        def run() -> list[str]:
            outcome = run_job(
                tune, "tune", clone, comment=tmp_path / "u.md", extra_env=env, stand_ins=stand_in
            )
            assert not outcome.failed, "\n".join(f"{s.name}: {s.output}" for s in outcome.failed)
            return [s.name for s in outcome.steps if s.name.startswith("make ")]

        # when the job runs
        made = run()
        # then every step passed; the branch mlship/tune holds the applied value and the results, main did
        # not move, and one pull request from the branch carries the search's record
        assert made == [
            "make cache-pull",
            "make tune",
            "make tune-apply",
            "make run",
            "make cache-push",
            "make tune-pr",
        ]
        assert f"{name}: 0.0421" in _git_out(origin, "show", "mlship/tune:params.yaml")
        assert _git_out(origin, "show", "mlship/tune:metrics.json") == '{"tuned": true}\n'
        assert _git_out(origin, "rev-parse", "main") == main_tip
        (pull,) = [p["pull"] for p in github.state.pulls()]
        assert (pull["head"]["ref"], pull["base"]["ref"]) == ("mlship/tune", "main")
        assert (tmp_path / "tune.md").read_text(encoding="utf-8") in pull["body"]
        # when the job runs again from main with the same search / then nothing is pushed, no second PR
        tip = _git_out(origin, "rev-parse", "mlship/tune")
        subprocess.run(["git", "checkout", "-q", "-B", "rerun", main_tip.strip()], cwd=clone, check=True)
        run()
        assert _git_out(origin, "rev-parse", "mlship/tune") == tip
        assert _git_out(origin, "rev-parse", "main") == main_tip
        assert len(github.state.pulls()) == 1
