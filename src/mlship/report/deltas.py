"""Metric deltas between the base and the PR, and which way each one moved (pure functions).

DVC's ``metrics diff --json --all`` flattens ``metrics.json`` into dotted keys; :func:`split_metrics_diff`
puts them back into overall and per-slice values. A metric's direction comes from :mod:`mlship.tasks`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mlship.tasks import HIGHER_IS_BETTER

Mark = Literal["better", "worse", "same", "new", "gone", "n/a"]

#: Changes smaller than this are rounding noise: ``evaluate`` writes metrics to 6 decimals.
TOLERANCE = 5e-7


@dataclass(frozen=True)
class Change:
    """One metric at the base and in the PR (``None`` where it is absent)."""

    metric: str
    old: float | None
    new: float | None

    @property
    def delta(self) -> float | None:
        if self.old is None or self.new is None:
            return None
        return self.new - self.old

    @property
    def mark(self) -> Mark:
        return mark(self.metric, self.old, self.new)


def mark(metric: str, old: float | None, new: float | None) -> Mark:
    """``better``/``worse`` by the metric's direction; ``same`` within :data:`TOLERANCE`."""
    if old is None and new is None:
        return "n/a"
    if old is None:
        return "new"
    if new is None:
        return "gone"
    delta = new - old
    if abs(delta) <= TOLERANCE or math.isnan(delta):
        return "same"
    if metric not in HIGHER_IS_BETTER:
        return "n/a"
    improved = delta > 0 if HIGHER_IS_BETTER[metric] else delta < 0
    return "better" if improved else "worse"


def _number(value: Any) -> float | None:
    """A JSON number as it came (an ``int`` stays an ``int``: counts print without decimals)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


@dataclass(frozen=True)
class MetricsDiff:
    """The metrics file at both revisions: overall and per sensitive attribute and group."""

    overall: dict[str, Change]
    slices: dict[str, dict[str, dict[str, Change]]]
    base_has_metrics: bool

    @property
    def changed(self) -> list[Change]:
        return [c for c in self.overall.values() if c.mark not in ("same", "n/a")]


def split_metrics_diff(entries: Mapping[str, Mapping[str, Any]], attributes: Iterable[str]) -> MetricsDiff:
    """Rebuild overall and slice values from DVC's flattened keys (``overall.f1``, ``slices.a.g.f1``).

    A group name may itself contain dots: the attribute is matched from the declared sensitive attributes
    and the metric is the last part, so the group is whatever lies between.
    """
    attributes = tuple(attributes)
    overall: dict[str, Change] = {}
    slices: dict[str, dict[str, dict[str, Change]]] = {}
    base_has_metrics = False
    for key, entry in entries.items():
        old, new = _number(entry.get("old")), _number(entry.get("new"))
        base_has_metrics = base_has_metrics or old is not None
        if key.startswith("overall.") and key.count(".") == 1:
            metric = key.split(".", 1)[1]
            overall[metric] = Change(metric, old, new)
            continue
        for attribute in attributes:
            prefix = f"slices.{attribute}."
            if key.startswith(prefix) and "." in key[len(prefix) :]:
                group, metric = key[len(prefix) :].rsplit(".", 1)
                slices.setdefault(attribute, {}).setdefault(group, {})[metric] = Change(metric, old, new)
                break
    return MetricsDiff(overall, slices, base_has_metrics)


def ordered(changes: Mapping[str, Change], metrics: Iterable[str]) -> list[Change]:
    """The task's metrics in their declared order, then any other numbers (e.g. ``n``) by name."""
    metrics = list(metrics)
    first = [changes[m] for m in metrics if m in changes]
    rest = [changes[m] for m in sorted(changes) if m not in metrics]
    return first + rest


def format_value(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def format_delta(change: Change, digits: int = 4) -> str:
    delta = change.delta
    if delta is None:
        return "—"
    if abs(delta) <= TOLERANCE:
        return "0"
    if isinstance(delta, int):
        return f"{delta:+,}"
    return f"{delta:+.{digits}f}"
