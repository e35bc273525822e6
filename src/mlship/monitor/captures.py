"""Reading captured records robustly: every line is parsed on its own, and what cannot be read is counted
and named (a container killed mid-write leaves a truncated last line), never a traceback."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd


class MonitorError(RuntimeError):
    """A usage or configuration problem: one line on stderr, exit 2."""


REQUIRED = ("request_id", "git_sha", "timestamp")


@dataclass
class Captured:
    """Answered records (one row each), refused requests' fields, and what could not be read."""

    records: pd.DataFrame
    refusals: list[tuple[dt.datetime, list[str]]]
    corrupt: Counter[str] = field(default_factory=Counter)  # file name -> unreadable lines
    files: int = 0


def parse_time(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def parse_line(line: str) -> dict[str, Any] | None:
    """One capture line as a mapping, or ``None`` when it is not one (truncated, corrupt, not an object)."""
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def capture_files(location: Path) -> list[Path]:
    if not location.exists():
        raise MonitorError(f"capture location {location} does not exist")
    if location.is_file():
        return [location]
    return sorted(p for p in location.rglob("*.log*") if p.is_file() and not p.name.endswith(".partial"))


def is_url(text: str) -> bool:
    """``scheme://...``: a capture location fsspec reads (an object-store prefix, ``file://``, ...)."""
    return "://" in text


def download(url: str, into: Path) -> Path:
    """Copy every capture file (``*.log*``) under the prefix ``url`` into ``into``, keeping the layout below
    the prefix; returns ``into``. The protocol's fsspec package must be installed (``s3fs`` for ``s3://``,
    ``gcsfs`` for ``gs://``); a missing package, an unreachable store or a refused read is a usage error."""
    import fsspec  # noqa: PLC0415 - DVC's file-system layer, imported only for a URL

    prefix = url.rstrip("/")
    try:
        fs, root = fsspec.core.url_to_fs(prefix)
        found = [p for p in fs.find(root) if ".log" in p.rsplit("/", 1)[-1] and not p.endswith(".partial")]
        for remote in found:
            target = into / remote[len(root) :].lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            fs.get_file(remote, str(target))
    except ImportError as error:
        raise MonitorError(f"--from {url}: {error}") from None
    except (OSError, ValueError) as error:
        raise MonitorError(f"--from {url}: cannot read it ({type(error).__name__}: {error})") from None
    if not found:
        raise MonitorError(f"capture location {url} holds no capture files")
    return into


def read_captures(location: Path, since: dt.datetime | None = None) -> Captured:
    """Every readable record under ``location`` (files ``*.log*``, rotated ones included) since ``since``."""
    files = capture_files(location)
    if not files:
        raise MonitorError(f"capture location {location} holds no capture files")
    rows: list[dict[str, Any]] = []
    refusals: list[tuple[dt.datetime, list[str]]] = []
    corrupt: Counter[str] = Counter()
    for path in files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as error:
            raise MonitorError(f"cannot read {path}: {error.strerror}") from None
        for line in text.splitlines():
            if not line.strip():
                continue
            item = parse_line(line)
            moment = parse_time(item.get("timestamp", "")) if item is not None else None
            if item is None or moment is None:
                corrupt[path.name] += 1
                continue
            if since is not None and moment < since:
                continue
            if item.get("event") == "refused":
                fields = item.get("fields")
                if isinstance(fields, list):
                    refusals.append((moment, [str(f) for f in fields]))
                else:
                    corrupt[path.name] += 1
                continue
            if any(not isinstance(item.get(key), str) for key in REQUIRED):
                corrupt[path.name] += 1
                continue
            item["timestamp"] = moment
            rows.append(item)
    frame = pd.DataFrame(rows)
    if not frame.empty:
        keys = [k for k in ("timestamp", "request_id", "record") if k in frame.columns]
        frame = frame.sort_values(keys, kind="stable").reset_index(drop=True)
    return Captured(records=frame, refusals=refusals, corrupt=corrupt, files=len(files))


def parse_since(text: str, now: dt.datetime) -> dt.datetime:
    """``7d``, ``12h``, ``30m`` before ``now``, or an ISO 8601 moment."""
    units = {"d": 86400, "h": 3600, "m": 60}
    if text and text[-1] in units and text[:-1].isdigit():
        return now - dt.timedelta(seconds=int(text[:-1]) * units[text[-1]])
    moment = parse_time(text)
    if moment is None:
        raise MonitorError(f"--since {text!r}: give a duration (7d, 12h, 30m) or an ISO 8601 time")
    return moment
