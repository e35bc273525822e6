"""The pull-request jobs, step by step, in a fresh clone of the repository (as the runner would see it).

Integration: clones the repository (with the working tree committed on a branch), then runs each job's
steps with :mod:`tests.workflows.steps`. A renamed make target, a missing file or a step that fails on a
clean checkout fails here rather than on GitHub. CML itself is not run (it cannot be installed here): its
step writes the comment body to a file, which is checked.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from tests.workflows import policy
from tests.workflows.steps import run_job

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout


def clone_with_working_tree(target: Path) -> Path:
    """A clone of the repository whose HEAD is a commit of the current working tree, on a PR branch.

    `main` exists only as `origin/main`, as in a GitHub Actions checkout of a pull request.
    """
    _git(target.parent, "clone", "-q", "--no-local", str(ROOT), str(target))
    _git(target, "checkout", "-q", "-B", "step-runner")
    files = _git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    tracked = set(_git(target, "ls-files", "-z").split("\0"))
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    for name in filter(None, tracked - set(files)):
        (target / name).unlink(missing_ok=True)
    _git(target, "add", "-A")
    _git(
        target,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "working tree",
    )
    return target


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clone_with_working_tree(tmp_path_factory.mktemp("runner") / "repo")


@pytest.fixture(scope="module")
def pr_workflow() -> dict[str, object]:
    return policy.load(ROOT / ".github" / "workflows" / "pr.yml")


def test_the_pipeline_job_reproduces_judges_reports_and_writes_one_comment(
    clone: Path, pr_workflow: dict[str, object], tmp_path: Path
) -> None:
    # given a fresh clone and the DVC cache a previous run left (what actions/cache restores)
    comment = tmp_path / "comment.md"
    # when every step of the `pipeline` job runs in order
    job = run_job(pr_workflow, "pipeline", clone, comment=comment, cache=ROOT / ".dvc" / "cache")
    # then every step passed: repro, the reproducibility gate, the gates, the report, the artifact
    assert not job.failed, "\n".join(f"{s.name}: {s.output}" for s in job.failed)
    names = [s.name for s in job.steps]
    assert names[2:6] == ["make repro", "make repro-check", "make gates", "make report"]
    # and the comment CML would post is the report, verdict first
    body = comment.read_text(encoding="utf-8")
    assert body.splitlines()[2].startswith(("✅ **May merge**", "❌ **Do not merge**"))
    assert "### Metrics" in body
    assert "✅ `dvc repro` reproduced the committed" in body


@pytest.mark.parametrize("job", ["check", "test", "integration"])
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
