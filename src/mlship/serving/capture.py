"""Capture: every answered record, written off the serving path through BentoML's monitoring API.

Each answered ``/predict`` request becomes one JSON line per record in BentoML's default monitor layout
(``<directory>/<service name>/data/data.<writer>.log``, the files log forwarders such as Fluent Bit tail):
the validated input features, the answer (``prediction`` fields), the model version and git sha, the request
id (also returned in the ``x-request-id`` header), a UTC timestamp and the request's latency. Refused
requests are one line each naming the refused fields, never their values.

The request thread only stamps the time and appends the request to an in-memory queue. One writer thread per
process wakes every 0.1 s (``$MLSHIP_CAPTURE_INTERVAL_S``) and, for everything queued, logs the records
through ``bentoml.monitor`` (whose monitor, ``CaptureMonitor``, formats the lines), writes them in one go,
rotates the file by size and by day, and deletes rotated files past the size cap (oldest first) or older than
``retention_days``. A stopping service writes what is queued from its shutdown hook (``close_writers``). Files
are created readable by their owner only (0600, directories 0700). Columns the schema marks ``pii: true`` are
never logged raw: dropped, or replaced by a keyed hash (HMAC-SHA256 with the key in ``$MLSHIP_PII_KEY`` or the
file ``$MLSHIP_PII_KEY_FILE``; without a key they are dropped).
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import contextvars
import datetime as dt
import functools
import hashlib
import hmac
import json
import logging
import math
import os
import queue
import random
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bentoml
from bentoml._internal.monitoring.base import MonitorBase  # the documented base of custom monitors
from pydantic import ValidationError

REQUEST_ID_HEADER = "x-request-id"
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/-]{1,128}$")
PII_KEY_ENV = "MLSHIP_PII_KEY"
PII_KEY_FILE_ENV = "MLSHIP_PII_KEY_FILE"
DIRECTORY_ENV = "MLSHIP_CAPTURE_DIR"
SEGMENTS = 8  # the size cap is split over this many files, so rotation frees an eighth at a time
WRITE_INTERVAL_S = 0.1  # the writer thread writes what was queued this often (a killed process loses <= this)
INTERVAL_ENV = "MLSHIP_CAPTURE_INTERVAL_S"  # another interval (seconds, > 0, at most an hour)
logger = logging.getLogger(__name__)

_META: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "mlship_capture_meta", default=None
)
#: Where ``CaptureMonitor.export_data`` puts the records of a job the writer thread runs (unset elsewhere).
_SINK: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar(
    "mlship_capture_sink", default=None
)
#: What the writer queue holds: records to write, or a job that exports them through ``bentoml.monitor``.
Item = list[dict[str, Any]] | Callable[[], object]


def request_id(supplied: str | None) -> str:
    """The client's request id when it is a plain token (letters, digits, ``._:@/-``, at most 128), else a
    new one."""
    if supplied and _CLIENT_REQUEST_ID.match(supplied):
        return supplied
    return uuid.uuid4().hex


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def pii_key(environ: Mapping[str, str]) -> bytes | None:
    """The keyed hash's secret: ``$MLSHIP_PII_KEY``, or the content of the file ``$MLSHIP_PII_KEY_FILE``."""
    if environ.get(PII_KEY_ENV):
        return environ[PII_KEY_ENV].encode()
    path = environ.get(PII_KEY_FILE_ENV)
    if path:
        with contextlib.suppress(OSError):
            key = Path(path).read_bytes().strip()
            return key or None
    return None


def pii_hash(value: Any, key: bytes) -> str | None:
    """A keyed hash of ``value`` (``None`` stays ``None``): equal values stay equal, the value is not kept."""
    if value is None:
        return None
    text = json.dumps(value, sort_keys=True)
    return "hmac-sha256:" + hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def redact(record: Mapping[str, Any], pii: Iterable[str], mode: str, key: bytes | None) -> dict[str, Any]:
    """``record`` with its personal columns dropped (``drop``, or ``hash`` without a key) or hashed."""
    marked = set(pii)
    if mode == "hash" and key is not None:
        return {name: pii_hash(value, key) if name in marked else value for name, value in record.items()}
    return {name: value for name, value in record.items() if name not in marked}


def refused_fields(error: ValidationError) -> list[str]:
    """The request fields a validation error names, without record positions (``records.3.age`` → ``age``)."""
    fields = set()
    for item in error.errors():
        parts = [str(part) for part in item["loc"] if not isinstance(part, int)]
        if parts and parts[0] == "records" and len(parts) > 1:
            parts = parts[1:]
        fields.add(".".join(parts) or "<body>")
    return sorted(fields)


# --- the writer thread ---


class CaptureWriter:
    """Appends JSON lines to ``directory`` from a background thread; the caller never touches the disk.

    The caller only appends to a queue: the writer wakes every ``interval`` seconds (or at once on ``flush``
    and ``close``) and writes everything queued in one go. Waking it per request would hand the interpreter
    lock to a third thread on every answer, which costs the serving threads far more than the writing."""

    def __init__(
        self,
        directory: Path,
        max_bytes: int,
        retention_days: float,
        name: str | None = None,
        interval: float = WRITE_INTERVAL_S,
    ) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.segment_bytes = max(1, max_bytes // SEGMENTS)
        self.retention_s = retention_days * 86400.0
        self.name = name or f"data.{socket.gethostname()}-{os.getpid()}"
        self.interval = interval
        self.queue: queue.SimpleQueue[Item | None] = queue.SimpleQueue()
        self.pending = 0
        self.idle = threading.Condition()
        self.wake = threading.Event()
        self.thread = self._start()
        atexit.register(self.close)  # a process that exits normally writes what it answered first

    def _start(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name="mlship-capture", daemon=True)
        thread.start()
        return thread

    @property
    def active(self) -> Path:
        return self.directory / f"{self.name}.log"

    def submit(self, item: Item) -> None:
        """Queue records to write, or a job (run on the writer thread) that produces them. A closed writer
        starts again (a process that serves after a service instance shut down loses nothing)."""
        with self.idle:
            self.pending += 1
            if not self.thread.is_alive():
                self.thread = self._start()
        self.queue.put(item)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted is on disk (tests, shutdown)."""
        self.wake.set()
        with self.idle:
            return self.idle.wait_for(lambda: self.pending == 0, timeout)

    def close(self) -> None:
        if self.thread.is_alive():
            self.queue.put(None)
            self.wake.set()
            self.thread.join(timeout=10)

    def _drain(self) -> tuple[list[Item], bool]:
        """Everything queued now, and whether ``close`` asked the writer to stop."""
        items: list[Item] = []
        while True:
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                return items, False
            if item is None:
                return items, True
            items.append(item)

    @staticmethod
    def _records(items: list[Item]) -> list[dict[str, Any]]:
        """The records of ``items``: lists as they are, jobs run here (what they export is collected)."""
        records: list[dict[str, Any]] = []
        for item in items:
            if not callable(item):
                records.extend(item)
                continue
            token = _SINK.set(records)
            try:
                item()
            except Exception as error:  # a record that cannot be captured must not stop capture
                logger.warning("capture of a request failed (%s); its records dropped", error)
            finally:
                _SINK.reset(token)
        return records

    def _run(self) -> None:
        handle = None
        day = ""
        size = 0
        stop = False
        while not stop:
            self.wake.wait(self.interval)
            self.wake.clear()
            items, stop = self._drain()
            if not items:
                continue
            try:
                lines = [json.dumps(r, separators=(",", ":")) + "\n" for r in self._records(items)]
                today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
                for line in lines:  # the file is rotated as soon as it reaches its segment's size
                    if handle is None or day != today or size >= self.segment_bytes:
                        if handle is not None:
                            handle.close()
                            self._rotate()
                        handle = self._open()
                        size, day = handle.tell(), today
                    handle.write(line)
                    size += len(line)
                if handle is not None:
                    handle.flush()
            except (
                OSError,
                TypeError,
                ValueError,
            ) as error:  # a full or read-only disk must not stop serving
                logger.warning("capture write failed (%s); records dropped", error)
                handle = None
            finally:
                with self.idle:
                    self.pending -= len(items)
                    self.idle.notify_all()
        if handle is not None:
            handle.close()

    def _open(self) -> Any:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(OSError):
            self.directory.chmod(0o700)
        descriptor = os.open(self.active, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(descriptor, 0o600)
        return os.fdopen(descriptor, "a", encoding="utf-8")

    def _rotate(self) -> None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        with contextlib.suppress(FileNotFoundError):
            self.active.rename(self.active.with_name(f"{self.active.name}.{stamp}"))
        prune(self.directory, self.max_bytes, self.retention_s, time.time())


def prune(directory: Path, max_bytes: int, retention_s: float, now: float) -> list[Path]:
    """Delete rotated capture files older than the retention, then the oldest until all fit ``max_bytes``.

    Files still being written (``*.log``) are never deleted; returns what was deleted."""
    files = []
    for path in directory.glob("*.log*"):
        with contextlib.suppress(FileNotFoundError):
            stat = path.stat()
            files.append((stat.st_mtime, path.name, path, stat.st_size))
    files.sort()
    total = sum(size for *_, size in files)
    deleted = []
    for mtime, _, path, size in files:
        if path.suffix == ".log":
            continue
        if now - mtime > retention_s or total > max_bytes:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                deleted.append(path)
            total -= size
    return deleted


# --- the BentoML monitor ---


class CaptureMonitor(MonitorBase[Any]):
    """A ``bentoml.monitor`` class writing one JSON line per record through ``CaptureWriter``.

    Options (``monitor_options``): ``log_path`` (the directory), ``max_bytes``, ``retention_days``. The
    request's metadata (request id, version, latency, ...) is attached with ``annotate`` before the
    ``bentoml.monitor`` block ends."""

    PRESERVED_COLUMNS = ("timestamp", "request_id")

    def __init__(
        self,
        name: str,
        log_path: str,
        max_bytes: int,
        retention_days: float,
        interval: float = WRITE_INTERVAL_S,
        **options: Any,
    ) -> None:
        super().__init__(name, **options)
        # The columns are the schema's: known from the start, so BentoML does not collect them from the first
        # request (where ``log_batch`` warns "duplicated" once per value of every column).
        self.columns_schema = {}
        self.writer = writer_for(Path(log_path) / name / "data", max_bytes, retention_days, interval)

    def export_schema(self, columns_schema: dict[str, dict[str, str]]) -> None:
        """The columns are the schema's: nothing to write (the reader knows them from ``schema.yaml``)."""

    def export_data(self, datas: dict[str, collections.deque[Any]]) -> None:
        meta = _META.get() or {}
        columns = list(datas)
        rows = zip(*(datas[c] for c in columns), strict=True)
        records = [
            {**meta, "record": i, **dict(zip(columns, row, strict=True))} for i, row in enumerate(rows)
        ]
        for column in datas.values():
            column.clear()
        sink = _SINK.get()
        if sink is not None:  # on the writer thread: written with the rest of its batch
            sink.extend(records)
        else:
            self.writer.submit(records)


#: How ``bentoml.monitor`` names a custom monitor class (BentoML's ``monitoring.type`` takes the same form).
MONITOR_CLASS = f"{__name__}.CaptureMonitor"


def annotate(**meta: Any) -> None:
    """Metadata every record of the current request carries (request id, model version, latency, ...)."""
    _META.set(meta)


@dataclass
class Capture:
    """What the service calls: ``answered`` per answered request, ``refused`` per refused one."""

    name: str
    directory: Path
    features: list[str]
    numeric: set[str]
    pii: list[str]
    pii_mode: str
    key: bytes | None
    sample_rate: float
    max_bytes: int
    retention_days: float
    interval: float = WRITE_INTERVAL_S

    def options(self) -> dict[str, Any]:
        return {
            "log_path": str(self.directory),
            "max_bytes": self.max_bytes,
            "retention_days": self.retention_days,
            "interval": self.interval,
        }

    def answered(self, records: list[Any], outputs: list[dict[str, Any]], meta: dict[str, Any]) -> None:
        """Capture one answered request (sampled): the request thread stamps the time and queues it; the
        writer thread logs its features, outputs and metadata through ``bentoml.monitor``."""
        if self.sample_rate < 1.0 and random.random() >= self.sample_rate:  # noqa: S311 (sampling, not security)
            return
        stamped = {**meta, "timestamp": utc_now(), "sample_rate": self.sample_rate}
        self.writer.submit(functools.partial(self.monitor, records, outputs, stamped))

    @functools.cached_property
    def writer(self) -> CaptureWriter:
        """The writer of this capture's data files (the one its ``CaptureMonitor`` writes through)."""
        return writer_for(
            self.directory / self.name / "data", self.max_bytes, self.retention_days, self.interval
        )

    def monitor(self, records: list[Any], outputs: list[dict[str, Any]], meta: dict[str, Any]) -> None:
        """One request's records through BentoML's monitoring API (``CaptureMonitor`` exports them)."""
        annotate(**meta)
        with bentoml.monitor(self.name, monitor_class=MONITOR_CLASS, monitor_options=self.options()) as mon:
            for name in self.features:
                values = [getattr(record, name) for record in records]
                if name in self.pii:
                    if self.pii_mode != "hash" or self.key is None:
                        continue  # dropped: never leaves this process
                    values = [pii_hash(value, self.key) for value in values]
                    mon.log_batch(values, name, "feature", "categorical")
                    continue
                mon.log_batch(values, name, "feature", "numerical" if name in self.numeric else "categorical")
            for field in outputs[0] if outputs else {}:
                mon.log_batch([o[field] for o in outputs], f"prediction.{field}", "prediction", "categorical")
        annotate()

    def refused(self, fields: list[str]) -> None:
        """Count a refused request by the fields it got wrong (never its values)."""
        writer = writer_for(
            self.directory / self.name / "refused", self.max_bytes, self.retention_days, self.interval
        )
        writer.submit([{"event": "refused", "timestamp": utc_now(), "fields": fields}])


_WRITERS: dict[Path, CaptureWriter] = {}
_WRITERS_LOCK = threading.Lock()


def writer_for(
    directory: Path, max_bytes: int, retention_days: float, interval: float = WRITE_INTERVAL_S
) -> CaptureWriter:
    """The process's one writer of ``directory`` (created on first use)."""
    with _WRITERS_LOCK:
        if directory not in _WRITERS:
            _WRITERS[directory] = CaptureWriter(directory, max_bytes, retention_days, interval=interval)
        return _WRITERS[directory]


def close_writers() -> None:
    """Write everything queued and stop every writer of this process (the service's shutdown hook: BentoML's
    HTTP server re-raises SIGTERM once it has answered its last request, so ``atexit`` never runs there)."""
    with _WRITERS_LOCK:
        writers = list(_WRITERS.values())
    for writer in writers:
        writer.close()


class RefusalCounter(logging.Filter):
    """Counts a refused request's fields from BentoML's request-exception record (installed before the
    filter that shortens that record to one line)."""

    def __init__(self, capture: Capture) -> None:
        super().__init__()
        self.capture = capture

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ValidationError):
            self.capture.refused(refused_fields(error))
        return True


def count_refusals(capture: Capture, logger_name: str) -> None:
    """Install ``RefusalCounter`` first on BentoML's HTTP logger (idempotent)."""
    target = logging.getLogger(logger_name)
    if not any(isinstance(f, RefusalCounter) for f in target.filters):
        target.filters.insert(0, RefusalCounter(capture))


def from_config(
    name: str, config: Any, schema: Any, environ: Mapping[str, str] = os.environ
) -> Capture | None:
    """The service's capture from ``params.yaml``'s ``monitoring`` and the schema; ``None`` when off or when
    the directory cannot be created (one warning: serving goes on without capture)."""
    if not config.enabled or config.sample_rate == 0.0:
        return None
    directory = Path(environ.get(DIRECTORY_ENV) or config.directory)
    try:
        (directory / name).mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        logger.warning("capture off: cannot create %s (%s)", directory, error)
        return None
    key = pii_key(environ)
    interval = write_interval(environ)
    if schema.pii_names and config.pii == "hash" and key is None:
        logger.warning("no %s: personal columns are dropped from the capture instead of hashed", PII_KEY_ENV)
    return Capture(
        name=name,
        directory=directory,
        features=list(schema.feature_names),
        numeric=set(schema.numeric_names),
        pii=list(schema.pii_names),
        pii_mode=config.pii,
        key=key,
        sample_rate=config.sample_rate,
        max_bytes=config.max_bytes,
        retention_days=config.retention_days,
        interval=interval,
    )


def write_interval(environ: Mapping[str, str]) -> float:
    """The writer's interval: ``$MLSHIP_CAPTURE_INTERVAL_S`` when it is a number of seconds in (0, 3600], else
    the default (a value out of range is named in one warning)."""
    text = environ.get(INTERVAL_ENV, "").strip()
    if not text:
        return WRITE_INTERVAL_S
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 < value <= 3600.0:
        logger.warning(
            "%s=%r is not a number of seconds in (0, 3600]: writing every %s s",
            INTERVAL_ENV,
            text,
            WRITE_INTERVAL_S,
        )
        return WRITE_INTERVAL_S
    return value
