"""A Deepchecks result reduced to verdicts: a check that could not run fails, unless Deepchecks says there was
nothing to judge — then the gates list it as not judged, never as a pass."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import pytest

from mlship.checks import verdicts
from mlship.checks.results import SuiteOutcome

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from deepchecks.core import CheckFailure
    from deepchecks.core.errors import DeepchecksProcessError
    from deepchecks.tabular import checks as c

from mlship.checks.suites import summarize


def _outcome(exception: Exception) -> SuiteOutcome:
    result = SimpleNamespace(results=[CheckFailure(c.WeakSegmentsPerformance(), exception)])
    return summarize("model_evaluation", result, 0.0, {})


def test_nothing_to_judge_is_not_judged_and_listed() -> None:
    # given the error Deepchecks raises when the model makes too few errors to find segments in
    outcome = _outcome(
        DeepchecksProcessError(
            "WeakSegmentsPerformance was unable to train an error model to find weak segments. "
            "Try increasing n_samples or supply additional features."
        )
    )
    # then the check is not judged, the suite still passes, and the gates print a NOT JUDGED line for it
    assert [check.status for check in outcome.checks] == ["not_judged"]
    assert outcome.passed
    (verdict,) = verdicts.check_verdicts(outcome)
    assert verdict.status == "not_judged"
    assert verdict.line().startswith("NOT JUDGED check:model_evaluation [Weak Segments Performance]")


@pytest.mark.parametrize("exception", [ValueError("bad input"), DeepchecksProcessError("something else")])
def test_any_other_check_that_could_not_run_fails(exception: Exception) -> None:
    outcome = _outcome(exception)
    assert [check.status for check in outcome.checks] == ["error"]
    assert not outcome.passed
    (verdict,) = verdicts.check_verdicts(outcome)
    assert verdict.status == "fail"
    assert "could not run" in verdict.detail
