"""`make run` on each fork-proof dataset: time and peak memory of adopting a team's data.

For each task (binary, multiclass, regression) the dataset the fork proof uses (tests/test_fork.py) is written
into a fresh clone of this repository, adopted with `mlship init`, and `make run` is timed in a child process.
Peak memory is the largest resident set of any process `make run` started, as a child measuring only its own
descendants reports it (``RUSAGE_CHILDREN`` in a fresh interpreter per dataset).

    .venv/bin/python bench/fork.py            # figures go to docs/benchmarks.md ("Fork proof")
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_fork import DATASETS  # noqa: E402 - the fork proof's datasets, after the path is set


def measure(task: str, workdir: Path) -> tuple[float, float]:
    """Seconds and peak MiB of `make run` in a fresh clone that adopted ``task``'s dataset."""
    dataset = DATASETS[task]
    clone = workdir / task
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    dataset.build().to_csv(clone / "data" / dataset.file, index=False)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("MLSHIP_PARAMS", None)
    sensitive = [arg for name in dataset.sensitive for arg in ("--sensitive", name)]
    init = ["mlship", "init", f"data/{dataset.file}", "--target", dataset.target, *sensitive]
    subprocess.run(init, cwd=clone, env=env, check=True, capture_output=True)
    subprocess.run(["make", "setup"], cwd=clone, env=env, check=True, capture_output=True)
    probe = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "subprocess.run(['make', 'run'], check=True, capture_output=True); "
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=clone, env=env, check=True, capture_output=True
    )
    seconds, peak_kib = result.stdout.split()
    return float(seconds), int(peak_kib) / 1024


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="mlship-fork-bench-") as tmp:
        print("| task | dataset | `make run` | peak memory (largest process) |")
        print("|---|---|---|---|")
        for task in sorted(DATASETS):
            seconds, peak = measure(task, Path(tmp))
            print(f"| {task} | {DATASETS[task].file} | {seconds:.1f} s | {peak:.0f} MiB |")


if __name__ == "__main__":
    main()
