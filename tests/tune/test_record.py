"""The decision and the reviewer's table: a gain is proposed only beyond the chosen candidate's own noise."""

from __future__ import annotations

import pytest
from tests.tune.records import recorded

from mlship.config import Params
from mlship.tune.record import decide, markdown
from mlship.tune.search import Measure


@pytest.mark.parametrize(
    ("best", "current", "higher", "apply"),
    [
        ([0.92, 0.93, 0.94], [0.90, 0.91, 0.92], True, True),  # +0.02 against a spread of 0.008
        ([0.92, 0.93, 0.94], [0.92, 0.925, 0.93], True, False),  # +0.005: within one standard deviation
        ([0.30, 0.31, 0.32], [0.35, 0.36, 0.37], False, True),  # a loss 0.05 lower is better
        ([0.30, 0.31, 0.32], [0.28, 0.29, 0.30], False, False),  # a loss higher is worse, whatever the noise
    ],
)
def test_the_chosen_parameters_are_proposed_only_beyond_one_standard_deviation(
    best: list[float], current: list[float], higher: bool, apply: bool
) -> None:
    # given fold scores of the chosen and the current parameters
    decision = decide(Measure({"a": 2}, best), Measure({"a": 1}, current), higher)
    # then the gain carries the metric's direction and is applied only when larger than the best's spread
    assert decision.apply is apply
    assert (decision.gain > 0) == ((sum(best) > sum(current)) == higher)


def test_the_current_parameters_being_the_best_is_never_a_change() -> None:
    same = Measure({"a": 1}, [0.9, 0.95, 1.0])
    assert not decide(same, Measure({"a": 1}, [0.1, 0.1, 0.1]), True).apply


def test_the_table_shows_current_chosen_gain_and_the_training_split_only(params: Params) -> None:
    # given a record whose chosen trial gains beyond noise
    doc = recorded(params, {"learning_rate": 0.05}, current=[0.90, 0.91, 0.92], best=[0.93, 0.94, 0.95])
    # when it is rendered / then the reviewer reads the verdict, both parameter sets, the gain with its
    # spread, and that only the training split was read
    text = markdown(doc)
    assert "✅ **Proposed**" in text
    assert "**training split only**" in text
    assert "| current | " in text
    assert "| chosen (trial 0) | " in text
    assert "`learning_rate=0.05`" in text
    assert "**+0.0300** ± 0.0000" in text
    assert doc["gain"]["apply"] is True
    assert doc["chosen"]["params"]["learning_rate"] == 0.05
