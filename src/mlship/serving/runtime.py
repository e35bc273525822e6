"""What a long-running service worker needs from the Python runtime to keep its tail latency short.

A worker holds ~150k long-lived objects (BentoML, pandas, scikit-learn, the model). Python's full garbage
collection walks every one of them (~70 ms on a 2-core machine) every few seconds under load: that was the
p99 at concurrency 1. ``HeapFreezer`` moves the long-lived heap out of the collector's sight
(``gc.freeze``): once at start-up and once after the first requests, when the framework's lazy imports and
caches are in place. Later garbage is collected as usual.

``configure_tracing`` keeps OpenTelemetry off unless asked for (``service.tracing``): with no exporter,
BentoML still records a span per request, kept alive with the request's context until its timeout timer
expires.
"""

from __future__ import annotations

import gc
import itertools
import os

#: Requests after which the heap is frozen a second time (the framework is warm by then).
WARM_AFTER = 100


def freeze_heap() -> None:
    """Collect what is garbage now, then exempt everything left from future collections."""
    gc.collect()
    gc.freeze()


class HeapFreezer:
    """Freezes the heap when created (a worker's start-up) and again at the ``warm_after``-th request."""

    def __init__(self, warm_after: int = WARM_AFTER) -> None:
        self.warm_after = warm_after
        self.requests = itertools.count(1)  # next() is atomic under the GIL: safe from the API threads
        freeze_heap()

    def request(self) -> None:
        """Count one request; freeze once the worker is warm."""
        if next(self.requests) == self.warm_after:
            freeze_heap()


def configure_tracing(enabled: bool) -> None:
    """Switch the OpenTelemetry SDK off for this process unless tracing is enabled (an explicit
    ``OTEL_SDK_DISABLED`` in the environment wins). Call before BentoML builds its tracer provider."""
    if not enabled:
        os.environ.setdefault("OTEL_SDK_DISABLED", "true")
