"""Reading captures robustly: truncated or corrupt lines are counted and named, never a traceback; an empty or
missing location is a one-line usage error (exit 2)."""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import json
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlship.cli import main
from mlship.monitor.captures import MonitorError, download, parse_line, parse_since, read_captures

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def _record(i: int, **extra: object) -> dict[str, object]:
    return {
        "request_id": f"r{i}",
        "git_sha": "a" * 40,
        "timestamp": "2026-01-01T00:00:00Z",
        "record": 0,
        **extra,
    }


@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=30), st.data())
def test_truncated_lines_are_counted_and_the_rest_read(ids: list[int], data: st.DataObject) -> None:
    # given: whole lines, some cut short (a container killed mid-write)
    lines = [json.dumps(_record(i)) for i in ids]
    cut = data.draw(st.sets(st.integers(0, len(lines) - 1)))
    text = "\n".join(line[: len(line) // 2] if n in cut else line for n, line in enumerate(lines))
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "data.0.log").write_text(text + "\n", encoding="utf-8")
        # when: read
        captured = read_captures(Path(folder))
    # then: every whole line is a record, every cut one is counted against its file
    assert len(captured.records) == len(lines) - len(cut)
    assert sum(captured.corrupt.values()) == len(cut)
    assert set(captured.corrupt) <= {"data.0.log"}


@given(st.text(max_size=200))
def test_parse_line_never_raises(line: str) -> None:
    assert parse_line(line) is None or isinstance(parse_line(line), dict)


def test_refusals_are_read_apart_and_since_filters(tmp_path: Path) -> None:
    (tmp_path / "data.log").write_text(
        "\n".join(
            [
                json.dumps(_record(1)),
                json.dumps(_record(2, timestamp="2025-01-01T00:00:00Z")),
                json.dumps({"event": "refused", "timestamp": "2026-01-01T00:00:01Z", "fields": ["age"]}),
                json.dumps({"request_id": 5}),
            ]
        ),
        encoding="utf-8",
    )
    captured = read_captures(tmp_path, since=dt.datetime(2025, 6, 1, tzinfo=dt.UTC))
    assert list(captured.records["request_id"]) == ["r1"]
    assert [fields for _, fields in captured.refusals] == [["age"]]
    assert captured.corrupt == {"data.log": 1}


def test_a_missing_or_empty_location_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(MonitorError, match="does not exist"):
        read_captures(tmp_path / "nowhere")
    with pytest.raises(MonitorError, match="no capture files"):
        read_captures(tmp_path)


@contextmanager
def _served(directory: Path) -> Iterator[str]:
    """``directory`` over HTTP by Python's own file server (directory listings as links), on a free port."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_url_prefix_is_read_like_the_directory_it_holds(tmp_path: Path) -> None:
    # given captures of two writers, one rotated, under a prefix (as a forwarder ships them to a store)
    store = tmp_path / "store" / "production"
    for name, ids in (("svc/data/data.a.log", [1, 2]), ("svc/data/data.b.log.20260101", [3])):
        (store / name).parent.mkdir(parents=True, exist_ok=True)
        (store / name).write_text("".join(json.dumps(_record(i)) + "\n" for i in ids), encoding="utf-8")
    (store / "svc" / "data" / "notes.txt").write_text("not a capture\n", encoding="utf-8")
    expected = sorted(read_captures(store).records["request_id"])
    # when it is read through a file:// URL and over HTTP (fsspec, as for s3:// or gs:// with their package)
    with _served(store) as http_url:
        urls = [f"file://{store}", http_url]
        copies = [download(url, tmp_path / f"copy-{n}") for n, url in enumerate(urls)]
    # then the same records are read, and only the capture files were copied
    for copy in copies:
        assert sorted(read_captures(copy).records["request_id"]) == expected == ["r1", "r2", "r3"]
        assert not list(copy.rglob("*.txt"))


@pytest.mark.parametrize(
    ("text", "expected"), [("7d", NOW - dt.timedelta(days=7)), ("30m", NOW - dt.timedelta(minutes=30))]
)
def test_since_takes_durations_and_iso_times(text: str, expected: dt.datetime) -> None:
    assert parse_since(text, NOW) == expected
    assert parse_since("2026-01-01T00:00:00Z", NOW) == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(MonitorError):
        parse_since("yesterday", NOW)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "{tmp}/nowhere"], "does not exist"),
        (["--from", "{tmp}"], "no capture files"),
        (["--env", "nosuch"], "unknown environment"),
        (["--from", "nosuchproto://bucket/prefix"], "--from nosuchproto://bucket/prefix:"),
        (["--from", "file://{tmp}"], "no capture files"),
        (["--from", "{tmp}", "--since", "soon"], "--since"),
    ],
)
def test_the_cli_says_one_line_and_exits_2(
    tmp_path: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a bad location, environment or time / when `mlship monitor` runs / then one line, exit 2
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert main(["monitor", *argv, "--out", str(tmp_path / "m.md")]) == 2
    stderr = capsys.readouterr().err
    assert message in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_the_installed_command_reports_a_usage_error_without_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mlship.cli", "monitor", "--from", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("mlship monitor: error:")
    assert "Traceback" not in result.stderr
