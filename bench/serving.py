"""Benchmark the service against the framework's floor and the in-process model, in one run.

Side by side, with the same single-record request (a real record of the test split):
  * the no-op service (``bench/noop_service.py``: same request/response types and workers, no model),
  * the real service (``mlship.service:ModelService`` with the model of this workspace),
  * the in-process ``predict`` of the same record (the compiled predictor the service uses, and the plain
    ``Pipeline.predict_proba`` on a one-row DataFrame for reference).
For each service: latency p50/p99 at concurrency 1 (20 s); throughput and p99 at concurrency 16 for 30 s
with a new connection per request (both workers busy), then 30 s over 16 keep-alive connections (BentoML's
workers share one listening socket and the first to wake accepts every pending connection, so kept-alive
connections may all land on one worker: the per-worker CPU split shows it); then the real service under a
60 s soak at concurrency 16 with its memory (RSS of the server and its workers) sampled every second. wrk
runs one load thread; servers run one at a time, on a private BentoML home.

Needs: ``make repro`` (the model) and ``wrk`` (``apt-get install wrk``).
Usage: .venv/bin/python bench/serving.py [--quick]   (--quick: 5 s phases, for trying the script)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
from threadpoolctl import threadpool_limits

from mlship import telemetry
from mlship.config import load_params
from mlship.data.schema import CENSUS, read_processed
from mlship.serving.contract import record_model
from mlship.serving.predictor import CompiledPredictor, PipelinePredictor
from mlship.serving.process import Server, serve
from mlship.serving.store import save
from mlship.train import load_model

ROOT = Path(__file__).resolve().parent.parent
BENTOML = Path(sys.executable).parent / "bentoml"

WRK_SCRIPT = """
local f = assert(io.open(os.getenv("WRK_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
if os.getenv("WRK_CLOSE") == "1" then wrk.headers["Connection"] = "close" end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, '
    .. '"errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


@dataclass(frozen=True)
class Load:
    """One wrk run: request count, duration, latency percentiles (ms), errors (incl. non-2xx) and the
    CPU seconds each worker spent (how evenly the connections were spread)."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    worker_cpu: tuple[float, ...] = ()

    @property
    def split(self) -> str:
        total = sum(self.worker_cpu) or 1.0
        return "/".join(f"{cpu / total:.0%}" for cpu in self.worker_cpu)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def workers(server: Server) -> list[psutil.Process]:
    return [p for p in server.processes() if "_bentoml_impl.worker" in " ".join(p.cmdline())]


def cpu_seconds(processes: list[psutil.Process]) -> list[float]:
    return [sum(p.cpu_times()[:2]) for p in processes]


def wrk(
    server: Server, body: Path, script: Path, connections: int, seconds: int, *, close: bool = False
) -> Load:
    """wrk against ``/predict``; ``close``: a new connection per request (``Connection: close``)."""
    procs = workers(server)
    before = cpu_seconds(procs)
    result = subprocess.run(
        [
            *("wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"),
            *("-s", str(script), f"{server.url}/predict"),
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "WRK_BODY_FILE": str(body), "WRK_CLOSE": "1" if close else "0"},
    )
    spent = tuple(after - start for after, start in zip(cpu_seconds(procs), before, strict=True))
    line = next(x for x in result.stdout.splitlines() if x.startswith("WRK_JSON "))
    raw = json.loads(line.removeprefix("WRK_JSON "))
    return Load(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1e3,
        p99_ms=raw["p99_us"] / 1e3,
        errors=raw["errors"],
        worker_cpu=spent,
    )


class MemorySampler(threading.Thread):
    """RSS (MiB) of a server's whole process tree, once a second, until stopped."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.samples: list[float] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(1.0):
            total = 0
            for process in self.server.processes():
                try:
                    total += process.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
            self.samples.append(total / 2**20)

    def stop(self) -> list[float]:
        self.halt.set()
        self.join()
        return self.samples


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1)]


def in_process(record: dict[str, Any], model_path: Path, repeats: int) -> dict[str, tuple[float, float]]:
    """p50/p99 (ms): one record through each path; then batches through the two tree evaluators."""
    pipeline = load_model(model_path)
    compiled, generic = CompiledPredictor(pipeline, CENSUS), PipelinePredictor(pipeline, CENSUS)
    model = record_model(CENSUS)
    frame = pd.DataFrame([record])[CENSUS.feature_names]
    for name in CENSUS.categorical_names:
        frame[name] = frame[name].astype(object)
    cases = {
        "validate + compiled predictor (the service's path)": lambda: compiled.predict_proba(
            [model.model_validate(record)]
        ),
        "validate + records -> DataFrame -> Pipeline.predict_proba": lambda: generic.predict_proba(
            [model.model_validate(record)]
        ),
        "Pipeline.predict_proba on a ready one-row DataFrame": lambda: pipeline.predict_proba(frame),
    }
    records = [model.model_validate(record)] * 256
    for size in (1, 16, 64, 128, 256):
        batch = records[:size]
        cases[f"{size} records, generated trees"] = lambda b=batch: compiled.generated.predict_proba(
            compiled.rows(b)
        )
        cases[f"{size} records, scikit-learn's trees"] = lambda b=batch: compiled.trees.predict_proba(
            compiled.matrix(b)
        )
    results = {}
    for name, call in cases.items():
        for _ in range(20):
            call()
        times = []
        for _ in range(repeats if "trees" not in name else max(100, repeats // 10)):
            start = time.perf_counter()
            call()
            times.append((time.perf_counter() - start) * 1e3)
        results[name] = (statistics.median(times), percentile(times, 99))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 s phases (try the script, not for figures)")
    args = parser.parse_args()
    c1_seconds, c16_seconds, soak_seconds = (5, 5, 10) if args.quick else (20, 30, 60)
    if shutil.which("wrk") is None:
        sys.exit("bench/serving.py: wrk not found (apt-get install wrk)")

    telemetry.disable()
    params = load_params(ROOT / "params.yaml")
    model_path, test_path = ROOT / params.paths.model, ROOT / params.paths.test
    if not model_path.exists() or not test_path.exists():
        sys.exit("bench/serving.py: no model yet (run `make repro` first)")

    work = Path(tempfile.mkdtemp(prefix="mlship-bench-"))
    os.environ["BENTOML_HOME"] = str(work / "bentoml")
    os.environ["MLSHIP_PARAMS"] = str(ROOT / "params.yaml")
    save(params, repo=ROOT, version="bench")

    row = read_processed(test_path)[CENSUS.feature_names].iloc[0].to_dict()
    record = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
    record = {k: (int(v) if k in CENSUS.numeric_names and v is not None else v) for k, v in record.items()}
    body, script = work / "body.json", work / "post.lua"
    body.write_text(json.dumps({"records": [record]}), encoding="utf-8")
    script.write_text(WRK_SCRIPT, encoding="utf-8")

    with threadpool_limits(limits=params.service.threads_per_worker):
        local = in_process(record, model_path, repeats=300 if args.quick else 3000)

    services = {
        "no-op service": "bench.noop_service:NoopClassifier",
        "real service": "mlship.service:ModelService",
    }
    loads: dict[str, dict[str, Load]] = {}
    soak: list[float] = []
    soak_load: Load | None = None
    for label, target in services.items():
        with serve(target, cwd=ROOT, log=work / f"{label}.log", bentoml=BENTOML) as server:
            wrk(server, body, script, 16, 3, close=True)  # warm-up: both workers loaded, caches hot
            loads[label] = {
                "c1": wrk(server, body, script, 1, c1_seconds),
                "c16": wrk(server, body, script, 16, c16_seconds, close=True),
                "c16 keep-alive": wrk(server, body, script, 16, c16_seconds),
            }
            if label == "real service":
                sampler = MemorySampler(server)
                sampler.start()
                soak_load = wrk(server, body, script, 16, soak_seconds, close=True)
                soak = sampler.stop()
            print(f"{label}: done", file=sys.stderr)

    shutil.rmtree(work, ignore_errors=True)
    report(
        loads=loads,
        local=local,
        soak=soak,
        soak_load=soak_load,
        c1_seconds=c1_seconds,
        c16_seconds=c16_seconds,
        soak_seconds=soak_seconds,
    )


def report(
    *,
    loads: dict[str, dict[str, Load]],
    local: dict[str, tuple[float, float]],
    soak: list[float],
    soak_load: Load | None,
    c1_seconds: int,
    c16_seconds: int,
    soak_seconds: int,
) -> None:
    noop, real = loads["no-op service"], loads["real service"]
    print(
        "| | p50 c=1 (ms) | p99 c=1 (ms) | req/s c=16 | p99 c=16 (ms) | worker CPU split c=16 "
        "| req/s c=16 keep-alive | worker CPU split keep-alive | errors |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for label, load in loads.items():
        c1, c16, kept = load["c1"], load["c16"], load["c16 keep-alive"]
        print(
            f"| {label} | {c1.p50_ms:.2f} | {c1.p99_ms:.2f} | {c16.rps:.0f} | {c16.p99_ms:.1f} | {c16.split} "
            f"| {kept.rps:.0f} | {kept.split} | {c1.errors + c16.errors + kept.errors} |"
        )
    print()
    print(
        f"concurrency 1: {c1_seconds} s, one keep-alive connection; concurrency 16: {c16_seconds} s with "
        f"a new connection per request, then {c16_seconds} s over 16 keep-alive connections."
    )
    print(f"real p50 - no-op p50 at c=1: {real['c1'].p50_ms - noop['c1'].p50_ms:+.2f} ms (target <= 2 ms)")
    print(f"real / no-op throughput at c=16: {real['c16'].rps / noop['c16'].rps:.0%} (target >= 80 %)")
    print()
    print("| in-process, one record | p50 (ms) | p99 (ms) |")
    print("|---|---|---|")
    for name, (p50, p99) in local.items():
        print(f"| {name} | {p50:.3f} | {p99:.3f} |")
    if soak and soak_load is not None:
        first, last = statistics.mean(soak[:5]), statistics.mean(soak[-5:])
        print()
        print(
            f"soak: {soak_seconds} s at c=16, {soak_load.requests} requests ({soak_load.rps:.0f} req/s), "
            f"{soak_load.errors} errors, p99 {soak_load.p99_ms:.1f} ms; RSS of server + workers: "
            f"first 5 s {first:.0f} MiB, last 5 s {last:.0f} MiB ({last - first:+.1f} MiB), "
            f"max {max(soak):.0f} MiB"
        )


if __name__ == "__main__":
    main()
