"""What a model costs to serve, measured the way the service serves it: the one measuring code path.

The pull request's ``mlship cost`` (its model against the merge base's), ``mlship monitor`` (the offline
latency of the served version) and ``bench/serving.py`` (the in-process rows) all time the service's own path:
``compile_predictor`` at start-up, then each request's records validated by the request contract
(``record_model``) and scored by the compiled predictor.

Two models are timed in one process, interleaved: each round runs A-B-B-A (the next B-A-A-B), every block the
same records, so a machine that gets busier slows both alike, and the ratio's interval
(:mod:`mlship.stats.ratio`) resamples whole rounds. Memory and load time come from a fresh subprocess per
model (``python -m mlship.serving.cost MODEL SCHEMA``): the resident memory the model adds once the libraries
are imported, and the seconds ``joblib.load`` + ``compile_predictor`` take, as a starting service spends them.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from mlship.config import CostMeasurement
from mlship.data.schema import CategoricalColumn, Schema, load_schema
from mlship.serving.contract import record_model
from mlship.serving.predictor import Predictor, compile_predictor
from mlship.serving.runtime import freeze_heap
from mlship.stats.ratio import RatioInterval, percentile_ratio

Record = dict[str, Any]
Timings = list[list[float]]  # rounds x calls, seconds


class CostError(RuntimeError):
    """A measurement that could not be made (printed as one line, no traceback)."""


def request_record(row: Mapping[str, Any], schema: Schema) -> Record:
    """A processed row's features as the JSON record the service takes (missing values as ``None``)."""
    record: Record = {}
    for column in schema.features:
        value = row[column.name]
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            record[column.name] = None
        elif isinstance(column, CategoricalColumn):
            record[column.name] = str(value)
        elif column.kind == "boolean":
            record[column.name] = bool(value)
        else:
            record[column.name] = int(value) if column.kind == "integer" else float(value)
    return record


def sample_records(frame: pd.DataFrame, schema: Schema, n: int, seed: int) -> list[Record]:
    """``n`` request records drawn (seeded, with replacement when ``frame`` is smaller) from ``frame``."""
    if frame.empty:
        raise CostError("no records to measure with: the test split is empty")
    rng = np.random.default_rng(seed)
    rows = frame.iloc[rng.integers(0, len(frame), size=n)]
    return [request_record({str(k): v for k, v in row.items()}, schema) for row in rows.to_dict("records")]


@dataclass(frozen=True)
class Loaded:
    """A model as the service holds it after start-up."""

    predictor: Predictor
    record: type[BaseModel]
    seconds: float

    def call(self, records: Sequence[Record]) -> Callable[[], object]:
        """One request: validate ``records`` by the contract, then score them."""
        validate, predict = self.record.model_validate, self.predictor.predict
        return lambda: predict([validate(r) for r in records])


def load(model: Path | Any, schema: Schema) -> Loaded:
    """Load (a path) and compile a model as the service's start-up does, timed."""
    import joblib  # noqa: PLC0415 - only where a model is loaded

    started = time.perf_counter()
    pipeline = joblib.load(model) if isinstance(model, Path) else model
    predictor = compile_predictor(pipeline, schema)
    return Loaded(predictor, record_model(schema), time.perf_counter() - started)


def _time(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def interleaved(calls: Sequence[Sequence[Callable[[], object]]], rounds: int) -> list[Timings]:
    """Time ``calls[side][i]`` for every side, A-B-B-A in even rounds and B-A-A-B in odd ones (one side: A-A).

    Each round times every call of a side, half in each of its two blocks; returns, per side, the round's
    timings in seconds (rounds x calls)."""
    sides = len(calls)
    if sides not in (1, 2) or any(not c for c in calls) or len({len(c) for c in calls}) != 1:
        raise ValueError("one or two sides, each with the same number of calls")
    half = (len(calls[0]) + 1) // 2
    timings: list[Timings] = [[] for _ in range(sides)]
    for number in range(rounds):
        order = [0, 1, 1, 0] if sides == 2 else [0, 0]
        if number % 2:
            order = [1 - side for side in order] if sides == 2 else order
        done = [0] * sides
        this_round: list[list[float]] = [[] for _ in range(sides)]
        for side in order:
            start = done[side]
            block = calls[side][start : start + half] if done[side] == 0 else calls[side][start:]
            this_round[side] += [_time(call) for call in block]
            done[side] += len(block)
        for side in range(sides):
            timings[side].append(this_round[side])
    return timings


@dataclass(frozen=True)
class Footprint:
    """What loading the model costs a fresh process."""

    model_bytes: int
    rss_bytes: int
    load_s: float
    predictor: str


def footprint(model: Path, schema_path: Path, threads: int = 1) -> Footprint:
    """Load ``model`` in a fresh Python process (``python -m mlship.serving.cost``) and read what it costs.

    The process gets the service worker's OpenMP threads (``threads``, as the image sets OMP_NUM_THREADS):
    more would spin-wait for a core another process holds (minutes instead of seconds on a busy machine)."""
    result = subprocess.run(
        [sys.executable, "-m", "mlship.serving.cost", str(model), str(schema_path)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "OMP_NUM_THREADS": str(threads)},
    )
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:]
        raise CostError(f"loading {model} in a fresh process failed: {' '.join(tail)}")
    document = json.loads(result.stdout.strip().splitlines()[-1])
    return Footprint(
        model.stat().st_size, int(document["rss_bytes"]), float(document["load_s"]), document["predictor"]
    )


def _rss() -> int:
    import psutil  # noqa: PLC0415

    gc.collect()
    return int(psutil.Process().memory_info().rss)


def _probe(model: Path, schema_path: Path) -> dict[str, Any]:
    """In the fresh process: import what the service imports, then load and compile ``model``."""
    from mlship import numerics  # noqa: PLC0415

    numerics.pin()
    import joblib  # noqa: PLC0415, F401 - imported before the first reading, as in the service
    import sklearn.ensemble  # noqa: PLC0415, F401

    schema = load_schema(schema_path)
    before = _rss()
    loaded = load(model, schema)
    after = _rss()
    return {
        "rss_bytes": after - before,
        "load_s": loaded.seconds,
        "predictor": type(loaded.predictor).__name__,
    }


@dataclass(frozen=True)
class Side:
    """One model's own figures: one-record latency percentiles (ms), throughput and footprint."""

    p50_ms: float
    p99_ms: float
    records_per_s: float
    footprint: Footprint


@dataclass(frozen=True)
class Ratios:
    """PR / base, each with its interval: one-record latency p50 and p99, and the batch time."""

    p50: RatioInterval
    p99: RatioInterval
    batch: RatioInterval


@dataclass(frozen=True)
class Measurement:
    pr: Side
    base: Side | None
    ratios: Ratios | None
    settings: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _side(single: Timings, batch: Timings, batch_records: int, print_: Footprint) -> Side:
    flat = np.asarray(single, dtype=np.float64).ravel() * 1e3
    batch_median = float(np.median(np.asarray(batch, dtype=np.float64)))
    return Side(
        p50_ms=float(np.percentile(flat, 50)),
        p99_ms=float(np.percentile(flat, 99)),
        records_per_s=batch_records / batch_median,
        footprint=print_,
    )


def measure(
    models: Mapping[str, Path],
    schema_path: Path,
    records: Sequence[Record],
    settings: CostMeasurement,
    *,
    resamples: int,
    seed: int,
    confidence: float,
    threads: int = 1,
) -> Measurement:
    """Measure ``models["pr"]`` (and ``models["base"]`` beside it, when given) on ``records``.

    Every round times the same ``2 * calls_per_block`` records one at a time (half in each block), and every
    batch is the first ``batch_records`` of ``records`` (repeated if fewer)."""
    names = [name for name in ("base", "pr") if name in models]
    if "pr" not in names:
        raise ValueError("models must include 'pr'")
    per_round = settings.calls_per_block * 2
    if len(records) < per_round:
        raise CostError(f"{len(records)} record(s) to measure with, {per_round} needed per round")
    schema = load_schema(schema_path)
    prints = {name: footprint(models[name], schema_path, threads) for name in names}
    loaded = {name: load(models[name], schema) for name in names}
    freeze_heap()  # as a service worker does after start-up
    batch = (list(records) * (settings.batch_records // len(records) + 1))[: settings.batch_records]
    single_calls = [[loaded[n].call([record]) for record in records[:per_round]] for n in names]
    for calls in single_calls:  # warm-up: first calls fill caches and lazy paths
        for call in calls[:10]:
            call()
    single = interleaved(single_calls, settings.rounds)
    batch_calls = [[loaded[n].call(batch)] * 2 for n in names]
    batches = interleaved(batch_calls, settings.batch_rounds)
    sides = {
        name: _side(single[i], batches[i], settings.batch_records, prints[name])
        for i, name in enumerate(names)
    }
    ratios = None
    if "base" in sides:

        def ratio(base: Timings, pr: Timings, q: float) -> RatioInterval:
            return percentile_ratio(base, pr, q, resamples=resamples, seed=seed, confidence=confidence)

        ratios = Ratios(
            p50=ratio(single[0], single[1], 50),
            p99=ratio(single[0], single[1], 99),
            batch=ratio(batches[0], batches[1], 50),
        )
    return Measurement(sides["pr"], sides.get("base"), ratios, settings.model_dump())


def latency(model: Any, schema: Schema, records: Sequence[Record], rounds: int) -> tuple[float, float]:
    """One model's one-record latency p50 and p99 (ms), timed as ``measure`` times it: ``model`` is a fitted
    pipeline (or a path to one), compiled as the service compiles it; every round times every record."""
    loaded = load(model, schema)
    calls = [loaded.call([record]) for record in records]
    for call in calls[:10]:
        call()
    (timings,) = interleaved([calls], rounds)
    flat = np.asarray(timings, dtype=np.float64).ravel() * 1e3
    return float(np.percentile(flat, 50)), float(np.percentile(flat, 99))


def file_md5(path: Path) -> str:
    """The md5 DVC records for a file output (of its bytes)."""
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


if __name__ == "__main__":  # the fresh process of ``footprint``: its one line of JSON on stdout
    sys.stdout.write(json.dumps(_probe(Path(sys.argv[1]), Path(sys.argv[2]))) + "\n")
