"""Benchmark the pull-request loop as pr.yml runs it, job by job, in fresh clones of this repository.

Each job's steps run in order through the same step runner the tests use (tests/workflows/steps.py): `uses:`
steps become their local equivalents (checkout = the clone, setup = `make setup` with this machine's warm uv
cache, cache restore = copying a saved .dvc/cache in), every `run:` is the real `make` target.

Measured:
  * the `pipeline` job cold: a fresh clone, no DVC cache (every stage runs);
  * the `pipeline` job after a params-only change (`model.hist_gradient_boosting.learning_rate` halved,
    committed with its `make run` outputs as a data scientist would), with the DVC cache the cold run left
    restored (what actions/cache restores from the previous run);
  * the `check` job (with --jobs check), fresh clone.

Usage: .venv/bin/python bench/pr_loop.py [--jobs pipeline,check] [--quick] [--root PATH]
  --quick      the cheapest job alone (`check`, unless --jobs names others), in this interpreter's environment
               (no `make setup` into the clone) and without its mypy hook (SKIP=mypy; the test suite runs the
               check job whole): proves the script and the step runner work, not figures
  --root PATH  the checkout whose working tree is cloned and whose pr.yml runs (default: this repository)
Prints a markdown table (paste it into docs/benchmarks.md with the command used).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from tests.workflows import policy  # noqa: E402  # the step runner lives with the tests that use it
from tests.workflows.steps import JobRun, clone_with_working_tree, run_job  # noqa: E402

PARAM = ("model", "hist_gradient_boosting", "learning_rate")
HEADER = "| job | time | steps (s) |"
JOBS = ("pipeline", "check")


def _run(cwd: Path, *args: str) -> None:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")


def _report(label: str, job: JobRun) -> list[str]:
    for step in job.failed:
        print(f"{label}: step failed: {step.name}\n{step.output[-1500:]}", file=sys.stderr)
    steps = ", ".join(
        f"{s.name.split(':')[0]} {s.seconds:.1f}{' (FAILED)' if s.returncode else ''}"
        for s in job.steps
        if s.seconds >= 0.05 or s.returncode
    )
    return [f"| {label} | {job.seconds:.1f} s | {steps} |"]


def params_only_change(clone: Path) -> None:
    """Halve the learning rate, run the pipeline as the data scientist would, and commit the result."""
    path = clone / "params.yaml"
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    node = params
    for key in PARAM[:-1]:
        node = node[key]
    text = path.read_text(encoding="utf-8")
    old = f"learning_rate: {node[PARAM[-1]]}"
    assert old in text, f"{old!r} not in params.yaml"
    path.write_text(text.replace(old, f"learning_rate: {node[PARAM[-1]] / 2}", 1), encoding="utf-8")
    _run(clone, "make", "run")
    _run(clone, "git", "add", "-A")
    _run(clone, "git", "-c", "user.name=b", "-c", "user.email=b@example.com", "commit", "-q", "-m", "lr/2")
    # what a CI checkout has: the commit, nothing git ignores (no .venv, data, models, reports, DVC cache)
    _run(clone, "git", "clean", "-q", "-fdX")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--jobs", help=f"comma-separated jobs to time, from {', '.join(JOBS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="the check job alone: no figures")
    parser.add_argument("--root", type=Path, default=HERE, help="the checkout to clone (default: this one)")
    args = parser.parse_args()
    root = args.root.resolve()
    jobs = args.jobs.split(",") if args.jobs else (["check"] if args.quick else list(JOBS))
    unknown = [job for job in jobs if job not in JOBS]
    if unknown:
        parser.error(f"unknown job(s): {', '.join(unknown)}")
    workflow = policy.load(root / ".github" / "workflows" / "pr.yml")
    rows = [HEADER, "|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="mlship-pr-loop-") as tmp:
        work = Path(tmp)
        comment = work / "comment.md"
        if "pipeline" in jobs:
            cold = clone_with_working_tree(work / "cold", root)
            start = time.perf_counter()
            job = run_job(workflow, "pipeline", cold, comment=comment)
            rows += _report("pipeline, cold (no DVC cache)", job)
            print(f"cold pipeline job done in {time.perf_counter() - start:.0f} s", file=sys.stderr)
            saved = work / "dvc-cache"
            shutil.copytree(cold / ".dvc" / "cache", saved)
            changed = clone_with_working_tree(work / "params", root)
            params_only_change(changed)
            job = run_job(workflow, "pipeline", changed, comment=comment, cache=saved)
            rows += _report("pipeline, params-only change, DVC cache restored", job)
        if "check" in jobs:
            fresh = clone_with_working_tree(work / "check", root)
            # --quick: this interpreter's environment as the clone's .venv (the hooks run .venv/bin/...), and
            # no setup stamp (make's command-line variable, through MAKEFLAGS, reaches every make the job
            # starts), so its setup step installs nothing into the clone; and pre-commit skips mypy, whose
            # cold cache is most of the job (`make test` runs the check job whole in tests/workflows/)
            same = {}
            if args.quick:
                (fresh / ".venv").symlink_to(sys.prefix, target_is_directory=True)
                same = {"MAKEFLAGS": "STAMP=", "SKIP": "mypy"}
            label = "check, fresh clone" + (", this environment, no mypy" if args.quick else "")
            rows += _report(label, run_job(workflow, "check", fresh, comment=comment, extra_env=same))
    print("\n".join(rows))
    failed = [row for row in rows if "(FAILED)" in row]
    if failed:
        sys.exit(f"bench/pr_loop.py: {len(failed)} job(s) had a failing step (see above)")


if __name__ == "__main__":
    main()
