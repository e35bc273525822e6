"""Chart data: resampling onto Mermaid's grid, the precision envelope, binning, the confusion table."""

from __future__ import annotations

import itertools
import re
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlship.markdown import charts

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
curves = st.lists(st.tuples(unit, unit), min_size=1, max_size=200)


@given(st.floats(-1e3, 1e3), st.floats(0.001, 1e3), st.integers(2, 60))
def test_grid_spans_the_range_evenly(low: float, width: float, points: int) -> None:
    values = charts.grid(low, low + width, points)
    assert len(values) == points
    assert values[0] == low
    assert values[-1] == low + width
    assert all(b > a for a, b in itertools.pairwise(values))


def test_a_grid_needs_two_points() -> None:
    with pytest.raises(ValueError, match="two points"):
        charts.grid(0, 1, 1)


@given(curves, st.integers(2, 50))
def test_resampled_values_stay_within_the_curve(points: list[tuple[float, float]], size: int) -> None:
    # given any curve / when it is read on a grid of any size
    out = charts.resample(points, charts.grid(0, 1, size))
    # then there is one value per grid point, never outside the curve's own range
    ys = [y for _, y in points]
    assert len(out) == size
    assert all(min(ys) - 1e-12 <= v <= max(ys) + 1e-12 for v in out)


@given(st.lists(st.tuples(unit, unit), min_size=1, max_size=200))
def test_a_monotone_curve_stays_monotone(raw: list[tuple[float, float]]) -> None:
    # given an ROC-like curve (both coordinates rise together)
    xs = sorted(x for x, _ in raw)
    ys = sorted(y for _, y in raw)
    out = charts.resample(list(zip(xs, ys, strict=True)), charts.grid(0, 1))
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(out))


@given(curves)
def test_the_precision_envelope_never_rises_with_recall_and_covers_every_point(
    points: list[tuple[float, float]],
) -> None:
    envelope = charts.upper_envelope(points)
    ys = [y for _, y in envelope]
    assert all(b <= a for a, b in itertools.pairwise(ys))
    best = dict(envelope)
    assert all(best[x] >= y for x, y in points)


@given(st.lists(st.tuples(st.floats(0, 10), st.floats(-5, 5)), max_size=100), st.integers(2, 12))
def test_binned_means_lie_within_their_bin(pairs: list[tuple[float, float]], bins: int) -> None:
    edges = charts.grid(0, 10, bins + 1)
    means = charts.binned_means(pairs, edges)
    assert len(means) == bins
    for i, mean in enumerate(means):
        members = [y for x, y in pairs if edges[i] <= x < edges[i + 1] or (i == bins - 1 and x == edges[-1])]
        if not members:
            assert mean is None
        else:
            assert mean == pytest.approx(sum(members) / len(members))


@given(st.lists(st.one_of(st.none(), st.floats(-100, 100)), min_size=1, max_size=40))
def test_gaps_are_filled_and_known_values_kept(values: list[float | None]) -> None:
    filled = charts.fill_gaps(values)
    if all(v is None for v in values):
        assert filled is None
        return
    assert filled is not None
    assert len(filled) == len(values)
    for known, out in zip(values, filled, strict=True):
        if known is not None:
            assert out == pytest.approx(known)


@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=2, max_size=5))
def test_mermaid_chart_has_one_line_per_series_with_every_point(points: list[tuple[float, float]]) -> None:
    series = (charts.Series("base", (0.1, 0.2, 0.3)), charts.Series("PR", (0.2, 0.3, 0.4)))
    text = charts.mermaid(
        charts.LineChart('a "quoted" title', "x", "y", (0, 1), (0, 1), series), ["#111", "#222"]
    )
    assert text.startswith("```mermaid\n")
    assert text.endswith("\n```")
    assert "xychart-beta" in text
    assert re.findall(r"line \[(.*)\]", text) == ["0.1, 0.2, 0.3", "0.2, 0.3, 0.4"]
    assert '"plotColorPalette": "#111, #222"' in text
    assert "title \"a 'quoted' title\"" in text


labels = st.sampled_from(["a", "b", "c|d", "e", "f"])


@given(st.dictionaries(st.tuples(labels, labels), st.integers(1, 50), min_size=1), st.integers(1, 6))
def test_the_confusion_table_keeps_every_record(counts: dict[tuple[str, str], int], max_labels: int) -> None:
    # given any confusion counts / when shown with at most `max_labels` labels (the rest folded together)
    table = charts.confusion_table(Counter(counts), None, max_labels=max_labels)
    # then the cells add up to the number of records
    total = 0
    for line in table.splitlines()[2:]:
        cells = [c.strip().strip("*") for c in re.split(r"(?<!\\)\|", line)[2:-1]]
        total += sum(int(c.replace(",", "")) for c in cells)
    assert total == sum(counts.values())


def test_the_confusion_table_shows_the_change_from_the_base() -> None:
    pr = Counter({("x", "x"): 10, ("x", "y"): 2, ("y", "y"): 7})
    base = Counter({("x", "x"): 11, ("x", "y"): 1, ("y", "y"): 7})
    table = charts.confusion_table(pr, base)
    assert "| `x` | **10 (-1)** | 2 (+1) |" in table
    assert "| `y` | 0 | **7** |" in table
