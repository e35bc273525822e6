"""The pull-request jobs, step by step, in a fresh clone of the repository (as the runner would see it).

Integration: clones the repository (with the working tree committed on a branch), then runs each job's
steps with :mod:`tests.workflows.steps`. A renamed make target, a missing file or a step that fails on a
clean checkout fails here rather than on GitHub. CML itself is not run (it cannot be installed here): its
step writes the comment body to a file, which is checked.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.shared import Reproduced
from tests.workflows import policy
from tests.workflows.steps import clone_with_working_tree, run_job

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


@pytest.mark.parametrize("job", ["check", "test", "integration", "template"])
def test_the_check_and_test_jobs_run_their_targets_in_a_clone(
    clone: Path, pr_workflow: dict[str, object], tmp_path: Path, job: str
) -> None:
    # when the job's steps run (the test jobs collect the suite rather than running it again, which this
    # test is already part of)
    extra = {"PYTEST_ARGS": "--collect-only -q"} if job != "check" else {}
    outcome = run_job(pr_workflow, job, clone, comment=tmp_path / "unused.md", extra_env=extra)
    # then every step passed
    assert not outcome.failed, "\n".join(f"{s.name}: {s.output}" for s in outcome.failed)
    assert [s.name for s in outcome.steps][-1].startswith("make ")
