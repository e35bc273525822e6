"""Benchmark the pipeline commands a data scientist waits on.

Measures, each in a fresh `git clone` of this repository:
  * `make run` with a cold package cache (empty UV_CACHE_DIR: every wheel downloaded) and a warm one;
  * a no-op `dvc repro` (median of several runs);
  * `dvc repro` after a params-only change (model.seed), and which stages it re-ran.

Usage: .venv/bin/python bench/pipeline.py [--skip-cold] [--repeats N] [--quick] [--root PATH]
  --quick      every measurement once with the least work: no cold-cache run, this interpreter's environment
               (no `make setup` in the clone), one no-op repeat, the
               checkout's DVC cache copied into the clone (stages restored, not run) and a params-only change
               that re-runs only `evaluate` (`evaluate.calibration_bins`); proves the script runs, not figures
  --root PATH  the checkout to clone (its committed HEAD; default: this repository)
Prints a markdown table (paste it into docs/benchmarks.md with the command used).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent.parent
HEADER = "| measurement | time |"


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed in {cwd}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return elapsed, result.stdout + result.stderr


def fresh_clone(root: Path, parent: Path, name: str) -> Path:
    target = parent / name
    subprocess.run(["git", "clone", "-q", str(root), str(target)], check=True)
    return target


def link_or_copy(source: str, target: str) -> None:
    """Hard-link a cache file (DVC never writes into one), or copy it across file systems."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def dvc_cache(root: Path) -> Path | None:
    """The DVC cache the checkout uses (``.dvc/cache``, or where ``dvc cache dir`` points), if it has one."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dvc"), "cache", "dir"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    cache = Path(result.stdout.strip()) if result.returncode == 0 and result.stdout.strip() else None
    return cache if cache is not None and cache.is_dir() else None


def change_param(clone: Path, section: str, key: str) -> str:
    """Add 1 to a number in params.yaml; returns the key changed."""
    params_path = clone / "params.yaml"
    params = yaml.safe_load(params_path.read_text())
    params[section][key] = params[section][key] + 1
    params_path.write_text(yaml.safe_dump(params, sort_keys=False))
    return f"{section}.{key}"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT"}}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if ".venv" not in p)
    env.update(extra)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--skip-cold", action="store_true", help="skip the cold-cache run (it downloads)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="each measurement once, least work: no figures")
    parser.add_argument("--root", type=Path, default=HERE, help="the checkout to clone (default: this one)")
    args = parser.parse_args()
    root = args.root.resolve()
    repeats = 1 if args.quick else args.repeats
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="mlship-bench-") as scratch:
        base = Path(scratch)
        if not (args.skip_cold or args.quick):
            cold = fresh_clone(root, base, "cold")
            seconds, _ = timed(["make", "run"], cold, clean_env(UV_CACHE_DIR=str(base / "uv-cache")))
            rows.append(("`make run`, fresh clone, cold package cache", f"{seconds:.1f} s"))
        warm = fresh_clone(root, base, "warm")
        label = "`make run`, fresh clone, warm package cache"
        cache = dvc_cache(root) if args.quick else None
        if cache is not None:
            shutil.copytree(cache, warm / ".dvc" / "cache", copy_function=link_or_copy)
            label += ", DVC cache of the checkout"
        env, make_run, venv = clean_env(), ["make", "run"], warm / ".venv"
        if args.quick:  # this interpreter's environment, a fresh stamp: nothing installed into the clone
            venv = Path(sys.prefix)
            (warm / ".bench-synced").touch()
            make_run += [f"VENV={venv}", f"STAMP={warm / '.bench-synced'}"]
            label += ", this environment"
        seconds, _ = timed(make_run, warm, env)
        rows.append((label, f"{seconds:.1f} s"))

        env_dvc = clean_env(PATH=f"{venv / 'bin'}{os.pathsep}{clean_env()['PATH']}")
        noop = [timed(["dvc", "repro"], warm, env_dvc)[0] for _ in range(repeats)]
        rows.append((f"no-op `dvc repro` (median of {repeats})", f"{statistics.median(noop):.2f} s"))
        seconds, _ = timed(make_run, warm, env)
        rows.append(("no-op `make run`", f"{seconds:.2f} s"))

        changed = change_param(warm, *(("evaluate", "calibration_bins") if args.quick else ("model", "seed")))
        seconds, output = timed(["dvc", "repro"], warm, env_dvc)
        ran = ", ".join(re.findall(r"Running stage '([^']+)'", output))
        rows.append(
            (f"`dvc repro` after a params-only change (`{changed}`); re-ran: {ran}", f"{seconds:.1f} s")
        )

    print(f"{HEADER}\n|---|---|")
    for label, value in rows:
        print(f"| {label} | {value} |")


if __name__ == "__main__":
    main()
