"""`make run` on each fork-proof dataset: time and peak memory of adopting a team's data.

For each task (binary, multiclass, regression) the dataset the fork proof uses (tests/test_fork.py) is written
into a fresh clone of this repository, adopted with `mlship init`, and `make run` is timed in a child process.
Peak memory is the largest resident set of any process `make run` started, as a child measuring only its own
descendants reports it (``RUSAGE_CHILDREN`` in a fresh interpreter per dataset).

    .venv/bin/python bench/fork.py            # figures go to docs/benchmarks.md ("Fork proof")

Options: --tasks binary,multiclass,regression (default: all); --quick: one task (the first in sorted order
unless --tasks names others) with this interpreter's environment instead of a `make setup` in the clone,
proving the script runs, not figures; --root PATH: the checkout to clone (its
committed HEAD; default: this repository). The datasets always come from this repository's fork proof.
--adopted PATH (with --quick): a fork that already adopted the task's dataset and ran `make run` (the fork
proof's, which `make test-template` publishes): its working tree is copied and `make run` timed there (a
no-op reproduction) instead of adopting the dataset again, so the smoke run builds no model of its own.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))
HEADER = "| task | dataset | `make run` | peak memory (largest process) |"

from tests.test_fork import DATASETS  # noqa: E402 - the fork proof's datasets, after the path is set


def measure(
    task: str, root: Path, workdir: Path, quick: bool = False, adopted: Path | None = None
) -> tuple[float, float]:
    """Seconds and peak MiB of `make run` in a fresh clone that adopted ``task``'s dataset (``quick``: with
    this interpreter's environment instead of the clone's own ``make setup``; ``adopted``: a copy of that
    already adopted fork instead of a clone adopting it)."""
    dataset = DATASETS[task]
    clone = workdir / task
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("MLSHIP_PARAMS", None)
    if adopted is not None:
        shutil.copytree(adopted, clone, symlinks=True)
        env["PYTHONPATH"] = str(clone / "src")  # the fork's own code
    else:
        subprocess.run(["git", "clone", "-q", str(root), str(clone)], check=True)
        dataset.build().to_csv(clone / "data" / dataset.file, index=False)
        sensitive = [arg for name in dataset.sensitive for arg in ("--sensitive", name)]
        init = ["mlship", "init", f"data/{dataset.file}", "--target", dataset.target, *sensitive]
        subprocess.run(init, cwd=clone, env=env, check=True, capture_output=True)
    make_run = ["make", "run"]
    if quick:  # this environment's tools, a fresh stamp: nothing installed into the clone
        stamp = clone / ".bench-synced"
        stamp.touch()
        make_run += [f"VENV={sys.prefix}", f"STAMP={stamp}"]
    else:
        subprocess.run(["make", "setup"], cwd=clone, env=env, check=True, capture_output=True)
    probe = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        f"subprocess.run({make_run!r}, check=True, capture_output=True); "
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=clone, env=env, check=True, capture_output=True
    )
    seconds, peak_kib = result.stdout.split()
    return float(seconds), int(peak_kib) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tasks", help=f"comma-separated, from {', '.join(sorted(DATASETS))} (default: all)")
    parser.add_argument("--quick", action="store_true", help="one task: proves the script runs, no figures")
    parser.add_argument("--root", type=Path, default=HERE, help="the checkout to clone (default: this one)")
    parser.add_argument("--adopted", type=Path, help="with --quick: a fork that adopted the task's dataset")
    args = parser.parse_args()
    if args.adopted is not None and not args.quick:
        parser.error("--adopted is a quick-mode option (its `make run` reproduces nothing: no figures)")
    tasks = args.tasks.split(",") if args.tasks else sorted(DATASETS)
    unknown = [task for task in tasks if task not in DATASETS]
    if unknown:
        parser.error(f"unknown task(s): {', '.join(unknown)}")
    if args.quick:
        tasks = tasks[:1]
    with tempfile.TemporaryDirectory(prefix="mlship-fork-bench-") as tmp:
        print(f"{HEADER}\n|---|---|---|---|")
        for task in tasks:
            seconds, peak = measure(task, args.root.resolve(), Path(tmp), args.quick, args.adopted)
            print(f"| {task} | {DATASETS[task].file} | {seconds:.1f} s | {peak:.0f} MiB |")


if __name__ == "__main__":
    main()
