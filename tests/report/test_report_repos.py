"""`mlship report` on two-commit fixture repositories (real git, real DVC): tables, deltas, marks, verdicts.

Integration: each case runs `git`, `dvc metrics diff`, `dvc params diff` and the `mlship` CLI as subprocesses.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from tests.report.repos import (
    Revision,
    binary_plots,
    commit,
    fixture_params,
    fixture_schema,
    gates_json,
    metrics_doc,
    mlship,
    new_repo,
    run,
    with_param,
    write_gates,
    write_revision,
)

from mlship.tasks import higher_is_better, metric_names

pytestmark = pytest.mark.integration

GOLDEN = Path(__file__).parent / "golden" / "binary_two_commits.md"
GOLDEN.parent.mkdir(exist_ok=True)
SCHEMA = fixture_schema()
LABELS = SCHEMA.target.classes
LEARNING_RATE = "model.hist_gradient_boosting.learning_rate"
BASE_RATE = fixture_params()["model"]["hist_gradient_boosting"]["learning_rate"]


def _row(report: str, label: str) -> list[str]:
    """The cells of the table row whose first cell is ``label``."""
    for line in report.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells and cells[0] == label:
            return cells
    raise AssertionError(f"no row {label!r} in:\n{report}")


@pytest.fixture(scope="module")
def two_commits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """main: a first pipeline result; branch `pr`: every metric +0.02, one param changed, more errors."""
    root = tmp_path_factory.mktemp("two-commits")
    new_repo(root)
    base_params = fixture_params()
    write_revision(root, Revision(base_params, metrics_doc(SCHEMA), binary_plots(0.0, 3, LABELS)))
    commit(root, "base")
    run(root, "git", "checkout", "-q", "-b", "pr")
    pr_params = with_param(base_params, LEARNING_RATE, BASE_RATE / 2)
    params = write_revision(
        root, Revision(pr_params, metrics_doc(SCHEMA, shift=0.02), binary_plots(0.05, 5, LABELS))
    )
    commit(root, "pr: lower learning rate")
    failed = [("floor", "f1", 0.61, 0.65, "f1 = 0.6100 < floor 0.6500")]
    write_gates(root, params, gates_json(failed, passed=2))
    return root


@pytest.fixture(scope="module")
def report(two_commits: Path) -> str:
    result = mlship(two_commits, "report")
    assert result.returncode == 0, result.stderr
    return (two_commits / "reports" / "report.md").read_text(encoding="utf-8")


def test_the_verdict_comes_first_and_names_each_failed_gate(report: str) -> None:
    # given a PR whose gates.json holds one failure / when the report is written
    # then the first line after the title says it may not merge and names the gate
    lines = [line for line in report.splitlines() if line.strip()]
    assert lines[0].startswith("## mlship report")
    assert lines[1].startswith("❌ **Do not merge**")
    assert "1 gate failed: floor [f1]" in lines[1]


def test_metrics_show_base_pr_delta_and_a_mark_by_direction(report: str) -> None:
    # then every metric of the task has a row: base, PR, +0.0200, and a mark by the metric's direction
    base, pr = metrics_doc(SCHEMA)["overall"], metrics_doc(SCHEMA, shift=0.02)["overall"]
    for metric in metric_names(SCHEMA.task):
        cells = _row(report, f"`{metric}`")
        assert cells[1:4] == [f"{base[metric]:.4f}", f"{pr[metric]:.4f}", "+0.0200"]
        assert cells[4] == ("🟢 better" if higher_is_better(metric) else "🔴 worse")


def test_params_diff_lists_the_changed_key(report: str) -> None:
    assert _row(report, f"`{LEARNING_RATE}`")[1:] == [f"`{BASE_RATE}`", f"`{BASE_RATE / 2}`"]


def test_the_data_is_reported_unchanged_with_row_counts(report: str) -> None:
    assert "unchanged — `data/raw/source.csv`: md5 `000000000000`" in report
    assert "test rows 1,000 → 1,000" in report


def test_slices_have_a_table_per_sensitive_attribute_with_deltas(report: str) -> None:
    # then each attribute has its groups (group names with dots survive DVC's flattened keys)
    for attribute in SCHEMA.sensitive:
        assert f"**{attribute}**" in report
    cells = _row(report, "`group.1`")
    assert cells[1] == "301"
    assert cells[4] == "+0.0200"


def test_gate_failures_are_listed_before_passes(report: str) -> None:
    section = report.split("### Gates and checks", 1)[1].split("###", 1)[0]
    assert section.index("❌ fail") < section.index("✅ pass")
    assert "| ❌ fail | `floor` | f1 | 0.6100 | 0.6500 | f1 = 0.6100 < floor 0.6500 |" in section


def test_charts_are_mermaid_base_vs_pr_and_a_confusion_table(report: str) -> None:
    # then ROC and precision-recall are Mermaid charts with two lines (base, PR) of 21 points each
    blocks = re.findall(r"```mermaid\n(.*?)```", report, flags=re.S)
    assert len(blocks) == 2
    for block in blocks:
        lines = [line for line in block.splitlines() if line.strip().startswith("line [")]
        assert len(lines) == 2
        assert all(len(line.split(",")) == 21 for line in lines)
    # and the confusion matrix shows the PR's counts with the change from the base
    assert f"| `{LABELS[0]}` | **20** | 5 (+2) |" in report


def test_pngs_go_beside_the_report_and_the_report_links_the_artifacts(two_commits: Path, report: str) -> None:
    charts = sorted(p.name for p in (two_commits / "reports" / "report").glob("*.png"))
    assert charts == ["confusion.png", "confusion_base.png", "precision_recall.png", "roc.png"]
    assert "`reports/report/` (this run was not in GitHub Actions)" in report


def test_in_github_actions_the_report_links_the_run_artifacts(two_commits: Path) -> None:
    # given the variables GitHub Actions sets / when the report is written
    github = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "7"}
    out = "reports/ci/report.md"
    result = subprocess.run(
        ["mlship", "report", "--out", out],
        cwd=two_commits,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **github},
    )
    assert result.returncode == 0, result.stderr
    # then the comment links the run's artifacts
    text = (two_commits / out).read_text(encoding="utf-8")
    assert "[the workflow run's artifacts](https://github.com/o/r/actions/runs/7#artifacts)" in text


def _normalise(report: str, root: Path) -> str:
    text = re.sub(r"`[0-9a-f]{8}`", "`<commit>`", report)
    return re.sub(r"@[0-9a-f]{8}", "@<commit>", text).replace(str(root), "<repo>")


def test_the_layout_matches_the_golden_file(two_commits: Path, report: str) -> None:
    # then the whole layout is what the golden file shows (commits masked); UPDATE_GOLDEN=1 rewrites it
    actual = _normalise(report, two_commits)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(actual, encoding="utf-8")
    assert actual == GOLDEN.read_text(encoding="utf-8")


def test_running_the_report_twice_gives_the_same_file(two_commits: Path, report: str) -> None:
    # when the report is written again / then nothing changes (re-runnable)
    assert mlship(two_commits, "report").returncode == 0
    assert (two_commits / "reports" / "report.md").read_text(encoding="utf-8") == report


def test_first_pr_when_the_base_has_no_metrics(tmp_path: Path) -> None:
    # given a main with no pipeline outputs yet and a PR that adds them
    new_repo(tmp_path)
    write_revision(tmp_path, Revision(fixture_params(), None, {}))
    commit(tmp_path, "skeleton")
    run(tmp_path, "git", "checkout", "-q", "-b", "pr")
    write_revision(tmp_path, Revision(fixture_params(), metrics_doc(SCHEMA), binary_plots(0.0, 3, LABELS)))
    commit(tmp_path, "first pipeline run")
    # when / then the report says so, shows the PR's values without deltas, and notes the missing gates
    result = mlship(tmp_path, "report")
    assert result.returncode == 0, result.stderr
    report = (tmp_path / "reports" / "report.md").read_text(encoding="utf-8")
    assert "The base has no metrics yet" in report
    headline = metric_names(SCHEMA.task)[0]
    assert _row(report, f"`{headline}`")[1:5] == ["—", "0.5000", "—", "🆕 new"]
    assert "⚠️ **Not judged**" in report
    assert "red: PR (no base curve)" in report


def test_nothing_changed(tmp_path: Path) -> None:
    # given a PR that changes nothing the pipeline reads
    new_repo(tmp_path)
    params = write_revision(
        tmp_path, Revision(fixture_params(), metrics_doc(SCHEMA), binary_plots(0.0, 3, LABELS))
    )
    commit(tmp_path, "base")
    run(tmp_path, "git", "checkout", "-q", "-b", "pr")
    (tmp_path / "NOTES.md").write_text("docs only\n", encoding="utf-8")
    commit(tmp_path, "docs")
    write_gates(tmp_path, params, gates_json([], passed=4))
    # when / then
    assert mlship(tmp_path, "report").returncode == 0
    report = (tmp_path / "reports" / "report.md").read_text(encoding="utf-8")
    assert "Nothing changed: the metrics, the params and the data are the same as at the base." in report
    assert "✅ **May merge** — all 4 gates and checks passed." in report
    assert "No parameter changed." in report


def test_on_main_itself(tmp_path: Path) -> None:
    new_repo(tmp_path)
    write_revision(tmp_path, Revision(fixture_params(), metrics_doc(SCHEMA), binary_plots(0.0, 3, LABELS)))
    head = commit(tmp_path, "base")
    assert mlship(tmp_path, "report").returncode == 0
    report = (tmp_path / "reports" / "report.md").read_text(encoding="utf-8")
    assert f"This is `main` itself (`{head[:8]}` is the merge base)" in report


def test_the_base_is_found_as_origin_main_in_a_ci_checkout(two_commits: Path, tmp_path: Path) -> None:
    # given a clone checked out at the PR commit, where `main` exists only as origin/main (as in CI)
    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "-q", "--no-local", "--branch", "pr", str(two_commits), str(clone))
    local_main = run(clone, "git", "rev-parse", "--verify", "--quiet", "refs/heads/main", check=False)
    assert local_main.returncode != 0
    shutil_copy_reports(two_commits, clone)
    # when / then the merge base with origin/main is the base
    result = mlship(clone, "report")
    assert result.returncode == 0, result.stderr
    report = (clone / "reports" / "report.md").read_text(encoding="utf-8")
    assert "with `main` at" in report
    assert _row(report, f"`{LEARNING_RATE}`")[1:] == [f"`{BASE_RATE}`", f"`{BASE_RATE / 2}`"]


def shutil_copy_reports(source: Path, target: Path) -> None:
    (target / "reports").mkdir(exist_ok=True)
    (target / "reports" / "gates.json").write_text(
        (source / "reports" / "gates.json").read_text(encoding="utf-8"), encoding="utf-8"
    )


def test_a_shallow_clone_is_refused_with_a_clear_message(two_commits: Path, tmp_path: Path) -> None:
    # given a depth-1 clone (GitHub's checkout default)
    clone = tmp_path / "shallow"
    run(tmp_path, "git", "clone", "-q", "--depth", "1", "--branch", "pr", f"file://{two_commits}", str(clone))
    # when
    result = mlship(clone, "report")
    # then it fails, asks for the full history, and prints no traceback
    assert result.returncode != 0
    assert "fetch-depth: 0" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (clone / "reports" / "report.md").exists()


def test_repro_check_fails_on_an_uncommitted_lock_change_and_the_report_says_so(two_commits: Path) -> None:
    # given the committed outputs, reproduced unchanged
    clean = mlship(two_commits, "repro-check")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    # when dvc.lock differs from the commit (as after a `dvc repro` that produced something else)
    lock = two_commits / "dvc.lock"
    original = lock.read_text(encoding="utf-8")
    lock.write_text(original.replace("0" * 32, "1" * 32), encoding="utf-8")
    try:
        result = mlship(two_commits, "repro-check")
        # then it fails naming the file and the fix, and records the result for the report
        assert result.returncode == 1
        assert "modified: dvc.lock" in result.stdout
        assert "run `make run` and commit" in result.stdout
        recorded = json.loads((two_commits / "reports" / "repro-check.json").read_text(encoding="utf-8"))
        assert recorded["passed"] is False
        assert recorded["files"] == [{"path": "dvc.lock", "status": "modified"}]
        assert mlship(two_commits, "report", "--out", "reports/repro/report.md").returncode == 0
        report = (two_commits / "reports" / "repro" / "report.md").read_text(encoding="utf-8")
        assert "the committed pipeline outputs differ from the reproduced ones (`dvc.lock`)" in report
        assert "| `dvc.lock` | modified |" in report
    finally:
        lock.write_text(original, encoding="utf-8")
        assert mlship(two_commits, "repro-check").returncode == 0


def test_repro_check_fails_on_a_new_uncommitted_plot_file(two_commits: Path) -> None:
    extra = two_commits / "plots" / "extra.json"
    extra.write_text("[]", encoding="utf-8")
    try:
        result = mlship(two_commits, "repro-check")
        assert result.returncode == 1
        assert "not committed: plots/extra.json" in result.stdout
    finally:
        extra.unlink()


def test_without_a_main_branch_the_report_says_there_is_nothing_to_compare(tmp_path: Path) -> None:
    # given a repository whose only branch is not the baseline branch
    new_repo(tmp_path)
    write_revision(tmp_path, Revision(fixture_params(), metrics_doc(SCHEMA), binary_plots(0.0, 3, LABELS)))
    commit(tmp_path, "only commit")
    run(tmp_path, "git", "branch", "-m", "main", "trunk")
    # when / then the report is written, says why there is no base, and shows the values without deltas
    result = mlship(tmp_path, "report")
    assert result.returncode == 0, result.stderr
    report = (tmp_path / "reports" / "report.md").read_text(encoding="utf-8")
    assert "No merge base with `main` (neither `main` nor `origin/main` exists here)" in report
    assert _row(report, f"`{metric_names(SCHEMA.task)[0]}`")[1:5] == ["—", "0.5000", "—", "🆕 new"]
    assert "No base to compare params with." in report


def test_without_a_metrics_file_the_report_names_the_fix(tmp_path: Path) -> None:
    new_repo(tmp_path)
    write_revision(tmp_path, Revision(fixture_params(), None, {}))
    commit(tmp_path, "skeleton")
    result = mlship(tmp_path, "report")
    assert result.returncode == 1
    assert "metrics.json does not exist: run `make run`" in result.stderr
    assert "Traceback" not in result.stderr
