"""The service's capture: personal columns never reach disk, files are owner-only, rotation keeps the
size cap, retention deletes old files, request ids and refused fields are what the client can rely on."""

from __future__ import annotations

import json
import os
import stat
import string
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from tests.strategies import request_records

from mlship.config import MonitoringConfig
from mlship.data.schema import Schema
from mlship.serving import capture


def _pii_schema(schema: Schema) -> tuple[Schema, str]:
    """The project's schema with its first categorical feature marked personal."""
    name = schema.categorical[0].name if schema.categorical else schema.features[0].name
    features = [c.model_copy(update={"pii": True}) if c.name == name else c for c in schema.features]
    return schema.model_copy(update={"features": tuple(features)}), name


def _lines(directory: Path) -> list[dict[str, Any]]:
    """Every complete line written so far: the writer thread may be half way through the last one."""
    found: list[dict[str, Any]] = []
    for path in sorted(directory.rglob("*.log*")):
        if path.name.endswith(".partial"):
            continue
        text = path.read_text()
        found += [json.loads(line) for line in text[: text.rfind("\n") + 1].splitlines()]
    return found


@pytest.mark.parametrize("mode", ["drop", "hash"])
def test_a_personal_column_never_reaches_disk(
    mode: str, schema: Schema, split_frames: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a schema marking a column personal, and records carrying distinctive values in it
    marked, name = _pii_schema(schema)
    records = [SimpleNamespace(**r) for r in request_records(split_frames[1].head(50), schema)]
    raw_values = {str(getattr(r, name)) for r in records if getattr(r, name) is not None}
    config = MonitoringConfig(directory=tmp_path, pii=mode)
    environ = {capture.PII_KEY_ENV: "secret-key"} if mode == "hash" else {}
    # when: the service captures them
    cap = capture.from_config(f"svc-{mode}-{tmp_path.name}", config, marked, environ)
    assert cap is not None
    cap.answered(records, [{"value": 1.0}] * len(records), {"request_id": "r1", "git_sha": "s"})
    deadline = time.monotonic() + 10  # the writer thread writes in the background
    while len(_lines(tmp_path)) < len(records) and time.monotonic() < deadline:
        time.sleep(0.02)
    # then: the raw values appear nowhere on disk; dropped or replaced by a keyed hash
    lines = _lines(tmp_path)
    assert len(lines) == len(records)
    text = "".join(p.read_text() for p in tmp_path.rglob("*.log*"))
    for value in raw_values:
        assert f'"{name}":"{value}"' not in text
    if mode == "drop":
        assert all(name not in line for line in lines)
    else:
        assert all(line[name] is None or line[name].startswith("hmac-sha256:") for line in lines)
    # and: the files are readable by their owner only
    for path in tmp_path.rglob("*"):
        mode_bits = stat.S_IMODE(path.stat().st_mode)
        assert mode_bits & 0o077 == 0, f"{path} is {oct(mode_bits)}"


@given(st.one_of(st.none(), st.integers(), st.text(max_size=20), st.floats(allow_nan=False)))
def test_the_keyed_hash_is_stable_keyed_and_hides_the_value(value: Any) -> None:
    # given a value / when hashed under two keys / then stable per key, different across keys, value absent
    first = capture.pii_hash(value, b"k1")
    if value is None:
        assert first is None
        return
    assert first == capture.pii_hash(value, b"k1")
    assert first != capture.pii_hash(value, b"k2")
    assert first is not None
    assert first.startswith("hmac-sha256:")


@given(st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.integers(), min_size=1))
def test_redact_drops_or_hashes_exactly_the_marked_columns(record: dict[str, int]) -> None:
    # given a record and marked columns / when redacted / then unmarked columns are untouched
    dropped = capture.redact(record, ["a", "b"], "drop", None)
    assert set(dropped) == set(record) - {"a", "b"}
    assert capture.redact(record, ["a"], "hash", None) == capture.redact(record, ["a"], "drop", None)
    hashed = capture.redact(record, ["a"], "hash", b"k")
    assert set(hashed) == set(record)
    assert all(hashed[k] == v for k, v in record.items() if k != "a")


@given(st.text(max_size=200))
def test_request_id_keeps_a_plain_client_token_else_makes_one(supplied: str) -> None:
    rid = capture.request_id(supplied)
    assert 1 <= len(rid) <= 128
    plain = 0 < len(supplied) <= 128 and all(
        ch.isascii() and (ch.isalnum() or ch in "._:@/-") for ch in supplied
    )
    assert (rid == supplied) == plain


def test_refused_fields_name_the_fields_without_positions_or_values() -> None:
    class Body(BaseModel):
        records: list[dict[str, int]]

    with pytest.raises(ValidationError) as error:
        Body.model_validate({"records": [{"age": 1}, {"age": "secret-value"}]})
    assert capture.refused_fields(error.value) == ["age"]


def test_the_writer_rotates_and_keeps_the_size_cap(tmp_path: Path) -> None:
    # given a writer with a small cap / when far more than the cap is written
    writer = capture.CaptureWriter(tmp_path, max_bytes=64 * 1024, retention_days=30, name="data.t")
    record = {"x": "y" * 500}
    for _ in range(600):
        writer.submit([record] * 2)
    assert writer.flush()
    writer.close()
    # then: rotated files exist, the total stays within the cap plus one segment, the newest lines survive
    files = list(tmp_path.glob("data.t.log*"))
    assert len(files) > 2
    total = sum(p.stat().st_size for p in files)
    assert total <= 64 * 1024 + writer.segment_bytes + 2048
    assert (tmp_path / "data.t.log").stat().st_size > 0


def test_prune_deletes_files_past_retention_but_never_the_active_one(tmp_path: Path) -> None:
    old, active, recent = tmp_path / "d.log.1", tmp_path / "d.log", tmp_path / "d.log.2"
    for path in (old, active, recent):
        path.write_text("{}\n")
    now = time.time()
    os.utime(old, (now - 40 * 86400, now - 40 * 86400))
    os.utime(active, (now - 40 * 86400, now - 40 * 86400))
    deleted = capture.prune(tmp_path, max_bytes=10**9, retention_s=30 * 86400, now=now)
    assert deleted == [old]
    assert active.exists()
    assert recent.exists()


@given(st.lists(st.integers(min_value=1, max_value=500), min_size=1, max_size=12), st.integers(1, 3000))
def test_prune_keeps_within_the_cap_oldest_first(sizes: list[int], cap: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        now = time.time()
        for i, size in enumerate(sizes):
            path = directory / f"d.log.{i:03d}"
            path.write_bytes(b"x" * size)
            os.utime(path, (now - 1000 + i, now - 1000 + i))
        capture.prune(directory, max_bytes=cap, retention_s=10**9, now=now)
        kept = sorted(directory.iterdir())
        assert sum(p.stat().st_size for p in kept) <= cap or not kept
        names = [p.name for p in kept]
        assert names == [f"d.log.{i:03d}" for i in range(len(sizes) - len(names), len(sizes))]


def test_capture_off_or_unwritable_is_none(schema: Schema, tmp_path: Path) -> None:
    assert capture.from_config("svc", MonitoringConfig(enabled=False, directory=tmp_path), schema, {}) is None
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert capture.from_config("svc", MonitoringConfig(directory=blocker / "sub"), schema, {}) is None


@given(st.floats(min_value=0.001, max_value=3600.0))
def test_the_write_interval_is_taken_from_the_environment(seconds: float) -> None:
    assert capture.write_interval({capture.INTERVAL_ENV: repr(seconds)}) == seconds


@given(
    st.one_of(
        st.floats().filter(lambda x: not 0.0 < x <= 3600.0).map(repr),
        st.text(alphabet=string.ascii_letters + " "),  # words ("inf" and "nan" included) and blanks
    )
)
def test_a_bad_write_interval_falls_back_to_the_default(text: str) -> None:
    # given a value that is not a number of seconds in (0, 3600] / then the default, never an error
    assert capture.write_interval({capture.INTERVAL_ENV: text}) == capture.WRITE_INTERVAL_S


def test_a_closed_writer_writes_again_on_the_next_submit(tmp_path: Path) -> None:
    # given a writer that wrote and was closed (a service instance's shutdown hook)
    writer = capture.CaptureWriter(tmp_path, max_bytes=10**6, retention_days=30, name="data.t")
    writer.submit([{"n": 1}])
    writer.close()
    # when records are submitted afterwards in the same process
    writer.submit([{"n": 2}])
    # then they are written too, after the first
    assert writer.flush(timeout=10)
    writer.close()
    assert _lines(tmp_path) == [{"n": 1}, {"n": 2}]
