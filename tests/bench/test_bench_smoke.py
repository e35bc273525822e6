"""Every benchmark under bench/ still runs: each script's quick mode on what the run already built.

A quick mode exercises its script's code paths once with the least work (see each script's docstring); this
proves the script starts, talks to the current code and prints its result table, not that any figure is good
(figures go to docs/benchmarks.md, produced by the full runs). The scripts run on the artifacts `make test`
and `make test-template` built for this working tree (tests/bench/conftest.py): the reproduced pipeline, the
shipped image and its source repository, the fork proof's binary fork; none builds a model, bento or image of
its own. The scripts that need system tools (wrk for serving, the container tools for shipping) fail with a
message naming them when they are missing: `make bench-smoke` installs them (tools/machine.sh).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.bench]

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"

#: Bench modules that are not scripts: the no-op service is served by bench/serving.py.
NOT_SCRIPTS = frozenset({"noop_service.py"})
#: Scripts run by hand only, and why. Their pure parts are tested beside this file.
BY_HAND = {
    "fresh_machine.py": "a fresh Debian root with apt installs: ~11 min even in --quick (docs/benchmarks.md)",
}

#: Each script and the header line of the result table its quick mode must print.
SMOKE = {
    "checks.py": "| suite (in-process, imports excluded) | seconds |",
    "monitor.py": "| measurement | value |",
    "report.py": "| measurement | seconds |",
    "fork.py": "| task | dataset | `make run` | peak memory (largest process) |",
    "pipeline.py": "| measurement | time |",
    "pr_loop.py": "| job | time | steps (s) |",
    "serving.py": (
        "| service | p50 c=1 (ms) | p99 c=1 (ms) | req/s c=16 | p99 c=16 (ms) | worker CPU split c=16 "
        "| req/s c=16 keep-alive | worker CPU split keep-alive | errors |"
    ),
    "shipping.py": "| shipping step | time |",
}


def test_every_bench_script_has_a_smoke_run() -> None:
    # given the scripts under bench/
    scripts = {path.name for path in BENCH.glob("*.py")} - NOT_SCRIPTS - set(BY_HAND)
    # then each has a quick-mode smoke case here, and every case names a script that exists
    assert scripts == set(SMOKE), f"without a smoke case: {sorted(scripts - set(SMOKE))}; " + (
        f"no such script: {sorted(set(SMOKE) - scripts)}"
    )


@pytest.mark.parametrize(
    "script",
    # each script on whichever worker is free (the scripts share nothing but what the run built)
    [pytest.param(script, marks=pytest.mark.xdist_group(f"bench-{script}")) for script in sorted(SMOKE)],
)
def test_quick_mode_runs_and_prints_its_table(
    script: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    # given what the run built for this working tree: a reproduced clone, the shipped image's source, a fork
    env = {k: v for k, v in os.environ.items() if k != "MLSHIP_PARAMS"}
    if script == "shipping.py":
        shipped = request.getfixturevalue("shipped")
        arguments = ["--root", str(shipped.source)]
        env["MLSHIP_SIGNING_HOME"] = str(shipped.signing_home)  # the run's key, which signed nothing yet
    elif script == "fork.py":
        arguments = ["--adopted", str(request.getfixturevalue("adopted_fork"))]
    else:
        arguments = ["--root", str(request.getfixturevalue("reproduced_clone"))]
    # when the script runs in its quick mode on it (from elsewhere: it must not rely on cwd)
    result = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick", *arguments],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    # then it exits 0 and printed its result table
    output = f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
    assert result.returncode == 0, f"bench/{script} --quick exited {result.returncode}\n{output}"
    assert SMOKE[script] in result.stdout.splitlines(), f"bench/{script} printed no result table\n{output}"
    # and the shipping script deployed the image `make test` built: it built none of its own
    if script == "shipping.py":
        assert "| make image (reused: this commit's image was built) |" in result.stdout, output
