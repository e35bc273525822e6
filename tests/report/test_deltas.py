"""Metric deltas and marks: direction from the task's metric table, DVC's flattened keys rebuilt."""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from mlship.report.collect import _flatten
from mlship.report.deltas import TOLERANCE, Change, format_delta, mark, split_metrics_diff
from mlship.tasks import HIGHER_IS_BETTER

metrics = st.sampled_from(sorted(HIGHER_IS_BETTER))
values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(metrics, values, values)
def test_better_one_way_is_worse_the_other(metric: str, old: float, new: float) -> None:
    # given two values that differ by more than rounding noise
    assume(abs(new - old) > TOLERANCE)
    # when / then swapping base and PR swaps better and worse
    forward, backward = mark(metric, old, new), mark(metric, new, old)
    assert {forward, backward} == {"better", "worse"}
    # and the direction is the metric's: a rise is better exactly when higher is better
    assert (forward == "better") == ((new > old) == HIGHER_IS_BETTER[metric])


@given(metrics, st.floats(-1e3, 1e3), st.floats(min_value=-TOLERANCE / 2, max_value=TOLERANCE / 2))
def test_rounding_noise_is_the_same(metric: str, old: float, noise: float) -> None:
    assert mark(metric, old, old + noise) == "same"


@given(metrics, values)
def test_a_metric_only_on_one_side_is_new_or_gone(metric: str, value: float) -> None:
    assert mark(metric, None, value) == "new"
    assert mark(metric, value, None) == "gone"
    assert Change(metric, None, value).delta is None
    assert format_delta(Change(metric, None, value)) == "—"


def test_a_count_or_unknown_number_gets_no_mark() -> None:
    assert mark("n", 100, 120) == "n/a"
    assert format_delta(Change("n", 100, 120)) == "+20"


names = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=8)
metric_docs = st.fixed_dictionaries(
    {
        "overall": st.dictionaries(metrics, values, min_size=1),
        "slices": st.dictionaries(
            st.sampled_from(["a", "b.c"]),
            st.dictionaries(names, st.dictionaries(metrics, values, min_size=1), min_size=1),
        ),
    }
)


@given(metric_docs, metric_docs)
def test_dvc_flattened_keys_are_rebuilt_even_with_dots_in_group_names(old: Any, new: Any) -> None:
    # given two metrics documents flattened the way `dvc metrics diff --json --all` flattens them
    flat_old, flat_new = _flatten(old), _flatten(new)
    entries = {
        key: {"old": flat_old.get(key), "new": flat_new.get(key)} for key in set(flat_old) | set(flat_new)
    }
    # when they are split again
    diff = split_metrics_diff(entries, ["a", "b.c"])
    # then every overall and slice value is where it was, on the side it came from
    for side, document in (("old", old), ("new", new)):
        for metric, value in document["overall"].items():
            assert getattr(diff.overall[metric], side) == value
        for attribute, groups in document["slices"].items():
            for group, scores in groups.items():
                for metric, value in scores.items():
                    assert getattr(diff.slices[attribute][group][metric], side) == value
    assert diff.base_has_metrics
