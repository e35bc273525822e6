"""Charts that GitHub renders inside the comment: Mermaid ``xychart-beta`` lines and Markdown tables.

Mermaid's line series are y-values at evenly spaced x positions, so every curve is first resampled onto one
shared grid (:func:`resample`), which also keeps the comment small whatever the size of the plot file.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

#: Points per line: enough to show a curve's shape, few enough to keep the comment short.
GRID_POINTS = 21


@dataclass(frozen=True)
class Series:
    """One line of a chart: its name (``base`` / ``PR``) and y-values on the chart's grid."""

    name: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class LineChart:
    title: str
    x_label: str
    y_label: str
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    series: tuple[Series, ...]


def grid(low: float, high: float, points: int = GRID_POINTS) -> list[float]:
    """``points`` evenly spaced values from ``low`` to ``high`` inclusive."""
    if points < 2:
        raise ValueError("a grid needs at least two points")
    step = (high - low) / (points - 1)
    return [low + i * step for i in range(points - 1)] + [high]


def _interp(x: float, xs: Sequence[float], ys: Sequence[float]) -> float:
    """Linear interpolation on sorted ``xs`` (clamped at the ends; equal xs keep the larger y)."""
    if x <= xs[0]:
        return max(y for x0, y in zip(xs, ys, strict=True) if x0 == xs[0])
    if x >= xs[-1]:
        return max(y for x0, y in zip(xs, ys, strict=True) if x0 == xs[-1])
    lo = bisect_right(xs, x) - 1  # the last point at or before x; xs[0] < x < xs[-1] here
    hi = lo + 1
    x0, x1, y0, y1 = xs[lo], xs[hi], ys[lo], ys[hi]
    if x1 == x0:
        return max(y0, y1)
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def resample(points: Sequence[tuple[float, float]], at: Sequence[float]) -> list[float]:
    """A curve given as (x, y) points, read at each x in ``at`` (points need not be sorted; NaNs dropped)."""
    clean = sorted((x, y) for x, y in points if not (math.isnan(x) or math.isnan(y)))
    if not clean:
        raise ValueError("a curve needs at least one point")
    xs = [x for x, _ in clean]
    ys = [y for _, y in clean]
    return [_interp(x, xs, ys) for x in at]


def upper_envelope(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Interpolated precision: for each recall, the best precision at that recall or higher.

    A precision-recall curve is not a function of recall; this is the usual monotone version of it.
    """
    ordered = sorted(points, key=lambda p: (-p[0], -p[1]))
    best = -math.inf
    envelope: list[tuple[float, float]] = []
    for x, y in ordered:
        best = max(best, y)
        envelope.append((x, best))
    return sorted(envelope)


def binned_means(pairs: Sequence[tuple[float, float]], edges: Sequence[float]) -> list[float | None]:
    """Mean of the second value per bin of the first (``None`` for an empty bin); the last bin is closed."""
    sums = [0.0] * (len(edges) - 1)
    counts = [0] * (len(edges) - 1)
    for x, y in pairs:
        if math.isnan(x) or math.isnan(y) or x < edges[0] or x > edges[-1]:
            continue
        index = min(bisect_right(edges, x) - 1, len(sums) - 1)
        sums[index] += y
        counts[index] += 1
    return [s / c if c else None for s, c in zip(sums, counts, strict=True)]


def fill_gaps(values: Sequence[float | None]) -> list[float] | None:
    """Empty bins take the value interpolated from their neighbours; ``None`` when every bin is empty."""
    known = [(float(i), v) for i, v in enumerate(values) if v is not None]
    if not known:
        return None
    return resample(known, [float(i) for i in range(len(values))])


def _number(value: float) -> str:
    text = f"{value:.4g}"
    return "0" if text == "-0" else text


def mermaid(chart: LineChart, palette: Sequence[str]) -> str:
    """A fenced Mermaid ``xychart-beta`` block; lines are drawn in ``palette`` order."""
    colours = ", ".join(palette[: len(chart.series)])
    theme = '{"themeVariables": {"xyChart": {"plotColorPalette": "' + colours + '"}}}'
    x_lo, x_hi = chart.x_range
    y_lo, y_hi = chart.y_range
    lines = [
        "```mermaid",
        f"%%{{init: {theme}}}%%",
        "xychart-beta",
        f'    title "{_quote(chart.title)}"',
        f'    x-axis "{_quote(chart.x_label)}" {_number(x_lo)} --> {_number(x_hi)}',
        f'    y-axis "{_quote(chart.y_label)}" {_number(y_lo)} --> {_number(y_hi)}',
    ]
    lines += [f"    line [{', '.join(_number(v) for v in s.values)}]" for s in chart.series]
    lines.append("```")
    return "\n".join(lines)


def _quote(text: str) -> str:
    return text.replace('"', "'")


Confusion = Counter[tuple[str, str]]


def confusion_table(pr: Confusion, base: Confusion | None, max_labels: int = 12) -> str:
    """Rows: actual label; columns: predicted label; cells: the PR's count and its change from the base.

    With more than ``max_labels`` labels, the most frequent ones are shown and the rest are grouped.
    """
    support = Counter[str]()
    for (actual, predicted), count in [*pr.items(), *(base or Counter()).items()]:
        support[actual] += count
        support[predicted] += 0
    labels = sorted(support, key=lambda label: (-support[label], label))
    shown = sorted(labels[:max_labels])
    other = "(other)"
    if len(labels) > max_labels:
        shown.append(other)

    def fold(matrix: Confusion) -> Confusion:
        folded = Counter[tuple[str, str]]()
        for (actual, predicted), count in matrix.items():
            a = actual if actual in shown else other
            p = predicted if predicted in shown else other
            folded[(a, p)] += count
        return folded

    pr_f = fold(pr)
    base_f = fold(base) if base is not None else None
    header = "| actual ↓ / predicted → | " + " | ".join(_cell(label) for label in shown) + " |"
    rule = "|---|" + "---:|" * len(shown)
    rows = [header, rule]
    for actual in shown:
        cells = []
        for predicted in shown:
            count = pr_f[(actual, predicted)]
            text = f"{count:,}"
            if base_f is not None:
                delta = count - base_f[(actual, predicted)]
                text += f" ({delta:+,})" if delta else ""
            cells.append(f"**{text}**" if actual == predicted else text)
        rows.append(f"| {_cell(actual)} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _cell(text: str) -> str:
    return "`" + text.replace("`", "'").replace("|", "\\|").replace("\n", " ") + "`"
