"""Worker runtime settings: the heap is frozen at start-up and once warm; tracing stays off unless asked."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator

import pytest

from mlship.serving.runtime import HeapFreezer, configure_tracing


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Leave the test process's collector as it was."""
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen")
def test_the_heap_is_frozen_at_start_up_and_again_at_the_warm_request() -> None:
    # given a freezer created at a worker's start-up
    freezer = HeapFreezer(warm_after=3)
    at_start = gc.get_freeze_count()
    assert at_start > 0
    # when objects are created during the first requests
    late = [[index] for index in range(1000)]
    freezer.request()
    freezer.request()
    # then they stay collectable until the warm request, which freezes them too (other threads of the test
    # process, e.g. a capture writer, may free a few frozen objects meanwhile: judged by half of the 1,000)
    assert gc.get_freeze_count() - at_start < len(late) // 2
    freezer.request()
    assert gc.get_freeze_count() - at_start > len(late) // 2
    # and later requests freeze nothing more
    more = [[index] for index in range(1000)]
    freezer.request()
    assert gc.get_freeze_count() < at_start + len(late) + len(more)


def test_tracing_off_disables_the_opentelemetry_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    configure_tracing(enabled=False)
    assert os.environ["OTEL_SDK_DISABLED"] == "true"


def test_tracing_on_leaves_the_sdk_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    configure_tracing(enabled=True)
    assert "OTEL_SDK_DISABLED" not in os.environ


def test_an_explicit_setting_in_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "false")
    configure_tracing(enabled=False)
    assert os.environ["OTEL_SDK_DISABLED"] == "false"
