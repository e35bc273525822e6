"""Benchmark the service against the framework's floor and the in-process model, in one run.

Side by side, with the same single-record request (the first record of the test split, whatever dataset
the checkout adopted):
  * the no-op service (``bench/noop_service.py``: same request/response types for the schema's task, same
    workers, no model),
  * the real service (``mlship.service:ModelService`` with the model of the checkout), twice: with the
    capture of served records off (``monitoring.enabled: false``) and on (the default: every record written
    by ``src/mlship/serving/capture.py`` to a private directory), so capture's cost is measured side by side,
  * the in-process prediction of the same record (the predictor the service compiles at start-up, the
    generic records -> DataFrame -> Pipeline path, and the plain Pipeline on a ready one-row DataFrame; for
    the compiled gradient-boosting path also batch sizes through its two tree evaluators).
For each service (``SERVICES``): latency p50/p99 at concurrency 1 (20 s); throughput and p99 at concurrency
16 for 30 s with a new connection per request (both workers busy), then 30 s over 16 keep-alive connections
(BentoML's workers share one listening socket and the first to wake accepts every pending connection, so
kept-alive connections may all land on one worker: the per-worker CPU split shows it); then the real
service under a 60 s soak at concurrency 16 with its memory (RSS of the server and its workers) sampled
every second. wrk runs one load thread; servers run one at a time, on a private BentoML home.

Needs: ``make repro`` in the checkout (the model and the test split) and ``wrk`` (``apt-get install wrk``).
Usage: .venv/bin/python bench/serving.py [--quick] [--root PATH]
  --quick      1 s phases, a 1 s warm-up, a 2 s soak and a few in-process repeats: proves the script runs
               end to end (both services served and loaded, every table printed), not figures
  --root PATH  the checkout to measure (params.yaml, its model and test split; default: this repository)
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import yaml
from threadpoolctl import threadpool_limits

from mlship import telemetry
from mlship.config import load_params
from mlship.data.schema import Schema, load_schema, read_processed
from mlship.serving import cost
from mlship.serving.contract import record_model
from mlship.serving.cost import request_record
from mlship.serving.predictor import CompiledPredictor, PipelinePredictor
from mlship.serving.process import Server, serve
from mlship.serving.store import save
from mlship.train import load_model

HERE = Path(__file__).resolve().parent.parent  # the repository holding this script (and bench/noop_service)
BENTOML = Path(sys.executable).parent / "bentoml"
HEADER = "| service | p50 c=1 (ms) | p99 c=1 (ms) | req/s c=16 | p99 c=16 (ms) | worker CPU split c=16 "
HEADER += "| req/s c=16 keep-alive | worker CPU split keep-alive | errors |"


@dataclass(frozen=True)
class Service:
    """One service served in turn: its BentoML target (from this repository) and whether it captures."""

    target: str
    capture: bool = False


#: The services compared, in order. The first is the floor the others are compared with; capture's cost is
#: CAPTURE_ON against CAPTURE_OFF; the soak runs on SOAKED (the real service as it ships: capture on).
CAPTURE_OFF, CAPTURE_ON = "real service, capture off", "real service, capture on"
SERVICES = {
    "no-op service": Service("bench.noop_service:NoopService"),
    CAPTURE_OFF: Service("mlship.service:ModelService", capture=False),
    CAPTURE_ON: Service("mlship.service:ModelService", capture=True),
}
SOAKED = CAPTURE_ON


@dataclass(frozen=True)
class Phases:
    """How long each load phase runs (seconds) and how many in-process repeats are timed."""

    warmup: int
    c1: int
    c16: int
    soak: int
    repeats: int


FULL = Phases(warmup=3, c1=20, c16=30, soak=60, repeats=3000)
QUICK = Phases(warmup=1, c1=1, c16=1, soak=2, repeats=30)


@dataclass(frozen=True)
class Rounds:
    """Capture's cost, interleaved: both real services up at once (an idle one costs nothing), loaded in
    turn, ``count`` rounds in A-B-B-A order, so a machine that speeds up or slows down during the run (a
    shared virtual machine does) weighs on both alike."""

    count: int
    c1: int
    c16: int


FULL_ROUNDS = Rounds(count=6, c1=5, c16=8)
QUICK_ROUNDS = Rounds(count=1, c1=1, c16=1)

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
        while True:
            total = 0
            for process in self.server.processes():
                try:
                    total += process.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
            self.samples.append(total / 2**20)
            if self.halt.wait(1.0):
                return

    def stop(self) -> list[float]:
        self.halt.set()
        self.join()
        return self.samples


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1)]


def tree_cases(compiled: CompiledPredictor, batch: list[Any]) -> dict[str, Callable[[], object]]:
    """One batch through each of the compiled predictor's tree evaluators."""
    cases: dict[str, Callable[[], object]] = {}
    generated = compiled.generated
    if generated is not None:
        cases[f"{len(batch)} records, generated trees"] = lambda: generated.predict(compiled.rows(batch))
    cases[f"{len(batch)} records, scikit-learn's trees"] = lambda: compiled.trees.predict(
        compiled.matrix(batch)
    )
    return cases


def in_process(
    record: dict[str, Any], model_path: Path, schema: Schema, repeats: int
) -> dict[str, tuple[float, float]]:
    """p50/p99 (ms): one record through each path; then batches through the two tree evaluators (when the
    service compiles the model: scikit-learn's gradient boosting as ``mlship.train`` builds it)."""
    loaded = cost.load(model_path, schema)  # the service's start-up, as `mlship cost` measures it
    served, pipeline = loaded.predictor, load_model(model_path)
    generic = PipelinePredictor(pipeline, schema)
    model = record_model(schema)
    validated = model.model_validate(record)
    frame = generic.frame([validated])
    plain = pipeline.predict_proba if schema.target.is_classifier else pipeline.predict
    cases: dict[str, Callable[[], object]] = {
        f"validate + {type(served).__name__} (the service's path)": loaded.call([record]),
        "validate + records -> DataFrame -> Pipeline (PipelinePredictor)": lambda: generic.predict(
            [model.model_validate(record)]
        ),
        "Pipeline on a ready one-row DataFrame": lambda: plain(frame),
    }
    if isinstance(served, CompiledPredictor):
        for size in (1, 16, 64, 128, 256):
            cases.update(tree_cases(served, [validated] * size))
    results = {}
    for name, call in cases.items():
        for _ in range(min(20, repeats)):
            call()
        times = []
        for _ in range(repeats if "trees" not in name else max(10, repeats // 10)):
            start = time.perf_counter()
            call()
            times.append((time.perf_counter() - start) * 1e3)
        results[name] = (statistics.median(times), percentile(times, 99))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 s phases: proves the script runs, no figures")
    parser.add_argument("--root", type=Path, default=HERE, help="the checkout to measure (default: this one)")
    args = parser.parse_args()
    phases = QUICK if args.quick else FULL
    root = args.root.resolve()
    if shutil.which("wrk") is None:
        sys.exit("bench/serving.py: wrk not found (apt-get install wrk; `make test` installs it)")

    telemetry.disable()
    params_path = root / "params.yaml"
    params = load_params(params_path)
    schema = load_schema(root / params.data.schema_path)
    model_path, test_path = root / params.paths.model, root / params.paths.test
    if not model_path.exists() or not test_path.exists():
        sys.exit(f"bench/serving.py: no model in {root} yet (run `make repro` there first)")

    work = Path(tempfile.mkdtemp(prefix="mlship-bench-"))
    os.environ["BENTOML_HOME"] = str(work / "bentoml")
    os.environ["MLSHIP_PARAMS"] = str(params_path)
    save(params, repo=root, version="bench")
    environments = {
        label: service_env(service, params_path, params.data.schema_path, work)
        for label, service in SERVICES.items()
    }

    row = {str(name): value for name, value in read_processed(test_path, schema).iloc[0].items()}
    record = request_record(row, schema)
    body, script = work / "body.json", work / "post.lua"
    body.write_text(json.dumps({"records": [record]}), encoding="utf-8")
    script.write_text(WRK_SCRIPT, encoding="utf-8")

    with threadpool_limits(limits=params.service.threads_per_worker):
        local = in_process(record, model_path, schema, repeats=phases.repeats)

    try:
        loads, soak, soak_load = one_after_the_other(environments, body, script, work, phases)
        rounds = interleaved(environments, body, script, work, QUICK_ROUNDS if args.quick else FULL_ROUNDS)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(loads=loads, local=local, soak=soak, soak_load=soak_load, phases=phases, task=schema.task)
    report_rounds(rounds, QUICK_ROUNDS if args.quick else FULL_ROUNDS)


def one_after_the_other(
    environments: dict[str, dict[str, str]], body: Path, script: Path, work: Path, phases: Phases
) -> tuple[dict[str, dict[str, Load]], list[float], Load | None]:
    """Each service in turn: concurrency 1, 16, 16 kept alive; the soak on SOAKED (memory sampled)."""
    loads: dict[str, dict[str, Load]] = {}
    soak: list[float] = []
    soak_load: Load | None = None
    for label, service in SERVICES.items():
        log, env = work / f"{label}.log", environments[label]
        with serve(service.target, cwd=HERE, log=log, bentoml=BENTOML, env=env) as server:
            wrk(server, body, script, 16, phases.warmup, close=True)  # both workers loaded, caches hot
            loads[label] = {
                "c1": wrk(server, body, script, 1, phases.c1),
                "c16": wrk(server, body, script, 16, phases.c16, close=True),
                "c16 keep-alive": wrk(server, body, script, 16, phases.c16),
            }
            if label == SOAKED:
                sampler = MemorySampler(server)
                sampler.start()
                soak_load = wrk(server, body, script, 16, phases.soak, close=True)
                soak = sampler.stop()
        if service.capture:
            files = [f for f in (work / "capture").rglob("*") if f.is_file() and f.parent.name == "data"]
            if sum(len(f.read_bytes().splitlines()) for f in files) == 0:
                sys.exit(f"bench/serving.py: {label} captured nothing under {work / 'capture'}")
        print(f"{label}: done", file=sys.stderr)
    return loads, soak, soak_load


def interleaved(
    environments: dict[str, dict[str, str]], body: Path, script: Path, work: Path, rounds: Rounds
) -> list[dict[str, dict[str, Load]]]:
    """Per round, capture off and on (A-B-B-A), each at concurrency 1 then 16 (new connection per request)."""
    results: list[dict[str, dict[str, Load]]] = []
    target = SERVICES[CAPTURE_ON].target
    with (
        serve(
            target, cwd=HERE, log=work / "off-2.log", bentoml=BENTOML, env=environments[CAPTURE_OFF]
        ) as off,
        serve(target, cwd=HERE, log=work / "on-2.log", bentoml=BENTOML, env=environments[CAPTURE_ON]) as on,
    ):
        servers = {CAPTURE_OFF: off, CAPTURE_ON: on}
        for server in servers.values():
            wrk(server, body, script, 16, 2, close=True)
        for number in range(rounds.count):
            order = [CAPTURE_OFF, CAPTURE_ON] if number % 2 == 0 else [CAPTURE_ON, CAPTURE_OFF]
            result: dict[str, dict[str, Load]] = {}
            for label in order:
                result[label] = {
                    "c1": wrk(servers[label], body, script, 1, rounds.c1),
                    "c16": wrk(servers[label], body, script, 16, rounds.c16, close=True),
                }
            results.append(result)
    return results


def report_rounds(results: list[dict[str, dict[str, Load]]], rounds: Rounds) -> None:
    print()
    print(
        f"capture's cost, interleaved ({rounds.count} rounds, A-B-B-A; per round {rounds.c1} s at c=1, "
        f"{rounds.c16} s at c=16 with a new connection per request, for each):"
    )
    print("| round | req/s c=16 off / on (ratio) | p50 c=1 off / on (delta) |")
    print("|---|---|---|")
    ratios, deltas = [], []
    for number, result in enumerate(results, 1):
        off, on = result[CAPTURE_OFF], result[CAPTURE_ON]
        ratio, delta = on["c16"].rps / off["c16"].rps, on["c1"].p50_ms - off["c1"].p50_ms
        ratios.append(ratio)
        deltas.append(delta)
        print(
            f"| {number} | {off['c16'].rps:.0f} / {on['c16'].rps:.0f} ({ratio:.0%}) | "
            f"{off['c1'].p50_ms:.2f} / {on['c1'].p50_ms:.2f} ms ({delta:+.2f} ms) |"
        )
    print(
        f"capture's cost, median of the rounds: throughput at c=16 on / off {statistics.median(ratios):.0%} "
        f"(target >= 90 %); p50 at c=1 on - off {statistics.median(deltas):+.2f} ms (target <= +0.2 ms)"
    )


def service_env(service: Service, params_path: Path, schema_path: Path, work: Path) -> dict[str, str]:
    """The environment one service is served with: capture on writes to a private directory; capture off
    serves a copy of params.yaml (its schema beside it, as the service resolves it) with capture disabled."""
    env = {**os.environ, "MLSHIP_CAPTURE_DIR": str(work / "capture")}
    if service.capture:
        return env
    copy = work / "capture-off" / "params.yaml"
    raw = yaml.safe_load(params_path.read_text(encoding="utf-8"))
    raw.setdefault("monitoring", {})["enabled"] = False
    (copy.parent / schema_path).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(params_path.parent / schema_path, copy.parent / schema_path)
    copy.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return {**env, "MLSHIP_PARAMS": str(copy)}


def report(
    *,
    loads: dict[str, dict[str, Load]],
    local: dict[str, tuple[float, float]],
    soak: list[float],
    soak_load: Load | None,
    phases: Phases,
    task: str,
) -> None:
    print(HEADER)
    print("|---|---|---|---|---|---|---|---|---|")
    for label, load in loads.items():
        c1, c16, kept = load["c1"], load["c16"], load["c16 keep-alive"]
        print(
            f"| {label} | {c1.p50_ms:.2f} | {c1.p99_ms:.2f} | {c16.rps:.0f} | {c16.p99_ms:.1f} | {c16.split} "
            f"| {kept.rps:.0f} | {kept.split} | {c1.errors + c16.errors + kept.errors} |"
        )
    print()
    print(
        f"task: {task}; concurrency 1: {phases.c1} s, one keep-alive connection; concurrency 16: "
        f"{phases.c16} s with a new connection per request, then {phases.c16} s over 16 keep-alive "
        "connections."
    )
    floor_label, floor = next(iter(loads.items()))
    for label, load in loads.items():
        if label == floor_label:
            continue
        print(
            f"{label} p50 - {floor_label} p50 at c=1: {load['c1'].p50_ms - floor['c1'].p50_ms:+.2f} ms "
            "(target <= 2 ms)"
        )
        print(
            f"{label} / {floor_label} throughput at c=16: {load['c16'].rps / floor['c16'].rps:.0%} "
            "(target >= 80 %)"
        )
    off, on = loads[CAPTURE_OFF], loads[CAPTURE_ON]
    print(
        "capture's cost, one after the other: throughput at c=16 on / off "
        f"{on['c16'].rps / off['c16'].rps:.0%}; p50 at c=1 on - off "
        f"{on['c1'].p50_ms - off['c1'].p50_ms:+.2f} ms (the interleaved rounds below are the figure to judge)"
    )
    print()
    print("| in-process, one record unless said | p50 (ms) | p99 (ms) |")
    print("|---|---|---|")
    for name, (p50, p99) in local.items():
        print(f"| {name} | {p50:.3f} | {p99:.3f} |")
    if soak and soak_load is not None:
        first, last = statistics.mean(soak[:5]), statistics.mean(soak[-5:])
        print()
        print(
            f"soak ({SOAKED}): {phases.soak} s at c=16, {soak_load.requests} requests ({soak_load.rps:.0f} "
            f"req/s), {soak_load.errors} errors, p99 {soak_load.p99_ms:.1f} ms; RSS of server + workers: "
            f"first 5 s {first:.0f} MiB, last 5 s {last:.0f} MiB ({last - first:+.1f} MiB), "
            f"max {max(soak):.0f} MiB"
        )


if __name__ == "__main__":
    main()
