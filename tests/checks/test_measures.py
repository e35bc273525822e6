"""Passing checks show their numbers: each check's measured value and its threshold from params.yaml, read
from Deepchecks' result values (shapes as Deepchecks 0.19.1 returns them), and carried into the verdicts."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from mlship.checks.gates import Baseline, DeltaIntervals, regression_verdicts
from mlship.checks.measures import measure
from mlship.checks.results import CheckOutcome, ConditionOutcome, Measure, SuiteOutcome
from mlship.checks.verdicts import check_verdicts
from mlship.config import load_params
from mlship.tasks import higher_is_better

CHECKS = load_params().checks
scores = st.floats(0.0, 1.0, allow_nan=False)


@given(numeric=st.lists(scores, min_size=1, max_size=5), categorical=st.lists(scores, min_size=1, max_size=5))
def test_feature_drift_measures_the_largest_score_per_kind_against_its_limit(
    numeric: list[float], categorical: list[float]
) -> None:
    # given Feature Drift's value: a score and a method per feature
    value = {f"n{i}": {"Drift score": s, "Method": "Kolmogorov-Smirnov"} for i, s in enumerate(numeric)}
    value |= {f"c{i}": {"Drift score": s, "Method": "Cramer's V"} for i, s in enumerate(categorical)}
    # when measured
    ks, cramer = measure("Feature Drift", value, CHECKS.train_test)
    # then the largest of each kind, against the limit configured for that kind
    assert (ks.quantity, ks.value, ks.threshold) == (
        "largest KS over numeric features",
        max(numeric),
        CHECKS.train_test.max_numeric_drift,
    )
    assert (cramer.value, cramer.threshold) == (max(categorical), CHECKS.train_test.max_categorical_drift)


def test_table_shaped_values_and_per_dataset_headers_are_measured() -> None:
    # given a per-column table (PercentOfNulls) and a check Deepchecks runs per dataset (ROC Report - Test)
    nulls = pd.DataFrame({"Percent of nulls in sample": [0.0, 0.05, 0.02]}, index=["a", "b", "c"])
    (null_share,) = measure("PercentOfNulls", nulls, CHECKS.data_integrity)
    (roc,) = measure("ROC Report - Test Dataset", {0: 0.93, 1: 0.91}, CHECKS.model_evaluation)
    # then the largest share and the lowest AUC, each against its threshold
    assert (null_share.value, null_share.threshold, null_share.limit) == (
        0.05,
        CHECKS.data_integrity.max_null_ratio,
        "<=",
    )
    assert (roc.value, roc.threshold, roc.limit) == (0.91, CHECKS.model_evaluation.min_roc_auc, ">")


def test_an_unknown_check_or_an_unexpected_value_has_no_measure() -> None:
    assert measure("Some Future Check", {"x": 1}, CHECKS.train_test) == ()
    assert measure("Label Drift", ["not", "a", "mapping"], CHECKS.train_test) == ()


def test_a_passing_check_verdict_carries_its_tightest_value_and_threshold() -> None:
    # given a passed check with two measures, one close to its limit
    far = Measure("largest PPS drop from train to test", 0.01, 0.3, "<")
    near = Measure("largest feature-label PPS in train", 0.7, 0.8, "<")
    check = CheckOutcome(
        "Feature Label Correlation Change",
        "passed",
        (ConditionOutcome("c", "PASS", "ok"),),
        None,
        (far, near),
    )
    # when turned into a verdict
    (verdict,) = check_verdicts(SuiteOutcome("train_test", (check,), 0.0))
    # then the value and threshold columns show the tightest, the detail names both quantities
    assert (verdict.passed, verdict.value, verdict.threshold) == (True, 0.7, 0.8)
    assert "largest PPS drop from train to test 0.01 (limit < 0.3)" in verdict.detail
    assert "largest feature-label PPS in train 0.7 (limit < 0.8)" in verdict.detail


def test_the_regression_gate_can_judge_the_delta_interval_instead_of_the_point() -> None:
    # given a metric worse than the baseline by more than allowed, whose delta interval reaches no change
    gates = load_params().gates
    metric = next(iter(gates.max_regression))
    sign = 1.0 if higher_is_better(metric) else -1.0
    baseline = Baseline("main", "0" * 40, {"overall": {metric: 0.5}}, "baseline")
    overall = {metric: 0.5 - sign * (gates.max_regression[metric] + 0.01)}
    low, high = sorted((-sign * (gates.max_regression[metric] + 0.02), -sign * 0.0))
    deltas = DeltaIntervals({metric: (low, high)}, "paired bootstrap")
    by_point = regression_verdicts(overall, baseline, gates, deltas)
    by_interval = regression_verdicts(
        overall, baseline, gates.model_copy(update={"regression_judges": "interval"}), deltas
    )
    # then the point judgement fails it, the interval judgement does not (its interval reaches no change)
    assert not by_point[0].passed
    assert by_interval[0].passed
    assert "delta interval" in by_interval[0].detail
    # and without an interval the interval option falls back to the point value and says so
    fallback = regression_verdicts(
        overall,
        baseline,
        gates.model_copy(update={"regression_judges": "interval"}),
        DeltaIntervals({}, "not found"),
    )
    assert not fallback[0].passed
    assert "judged on the point value (not found)" in fallback[0].detail
