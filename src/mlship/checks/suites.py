"""Deepchecks suites with explicit conditions from ``params.yaml`` (``checks:``).

Every check included here carries a condition: a check without one could never turn a PR red. Checks left
out on purpose, and why:

* ``StringLengthOutOfBounds`` — no free-text columns; every string column is a closed category set.
* ``OutlierSampleDetection`` — slow (nearest neighbours over all rows); ranges are enforced by ``validate``.
* ``IdentifierLabelCorrelation``, ``IndexTrainTestLeakage``, ``DateTrainTestLeakage*`` — the data has no
  identifier, index or date columns.
* ``BoostingOverfit`` — supports only AdaBoost/GradientBoosting/LightGBM/XGBoost/CatBoost, not
  scikit-learn's HistGradientBoosting.
* ``ClassImbalance`` — a class balance is the nature of the data; the label-drift check watches it.
* ``ModelInferenceTime`` — speed is measured by the benchmarks under ``bench/``, not by a CI timer.
* ``ConfusionMatrixReport``, ``CalibrationScore`` — reports without conditions; the same plots come from
  ``evaluate`` through DVC, and the gates judge the metrics.

The checks follow the task declared in the schema. Classifiers only: ``NewLabelTrainTest``, ``RocReport`` and
``ConflictingLabels`` (Deepchecks calls it irrelevant for regression). Not for regression:
``WeakSegmentsPerformance``, which fails inside Deepchecks 0.19.1 with scikit-learn 1.7 for a regressor
("_DummyModel should either be a classifier ..."). Regression runs the rest with Deepchecks' regression
metrics.
"""

from __future__ import annotations

import logging
import re
import time
import warnings
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline

with warnings.catch_warnings():
    # deepchecks 0.19.1 imports pkg_resources (deprecated) at import time; setuptools<81 is pinned for it.
    warnings.simplefilter("ignore", UserWarning)
    from deepchecks.core import CheckFailure
    from deepchecks.tabular import Dataset, Suite
    from deepchecks.tabular import checks as c
    from deepchecks.utils.logger import get_verbosity, set_verbosity

from mlship.checks.measures import SuiteConfig, measure
from mlship.checks.results import CheckOutcome, ConditionOutcome, SuiteOutcome
from mlship.config import DataIntegrityChecks, ModelEvaluationChecks, TrainTestChecks
from mlship.data.schema import Schema, split_xy


@contextmanager
def quiet() -> Iterator[None]:
    """Deepchecks and its dependencies warn freely about things already handled here."""
    level = get_verbosity()
    set_verbosity(logging.ERROR)  # also turns the progress bars off
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            set_verbosity(level)


#: Deepchecks samples rows for the predictive power score with an unseeded generator unless given a seed: the
#: measured value (which the suite's JSON records) would change on every run and with it the stage's hash.
PPS_SEED = 0

_LABEL_TYPES = {"binary": "binary", "multiclass": "multiclass", "regression": "regression"}
_IMPORTANCE_SCORING = {"binary": "roc_auc", "multiclass": "neg_log_loss", "regression": "r2"}


def dataset(frame: pd.DataFrame, schema: Schema) -> Any:
    """A Deepchecks ``Dataset`` declaring features, categorical features, label and its type explicitly."""
    columns = [*schema.feature_names, schema.target.name]
    present = [c for c in columns if c in frame.columns]
    with quiet():
        return Dataset(
            frame[present],
            label=schema.target.name,
            cat_features=[c for c in schema.categorical_names if c in frame.columns],
            features=[c for c in schema.feature_names if c in frame.columns],
            label_type=_LABEL_TYPES[schema.task],
        )


def data_integrity_suite(config: DataIntegrityChecks, classifier: bool = True) -> Any:
    conflicting = (
        [
            c.ConflictingLabels().add_condition_ratio_of_conflicting_labels_less_or_equal(
                config.max_conflicting_label_ratio
            )
        ]
        if classifier
        else []
    )
    return Suite(
        "data_integrity",
        c.IsSingleValue().add_condition_not_single_value(),
        c.SpecialCharacters().add_condition_ratio_of_special_characters_less_or_equal(
            config.max_special_character_ratio
        ),
        c.MixedNulls().add_condition_different_nulls_less_equal_to(config.max_mixed_nulls),
        c.MixedDataTypes().add_condition_rare_type_ratio_not_in_range(config.rare_type_ratio_range),
        c.StringMismatch().add_condition_no_variants(),
        c.PercentOfNulls().add_condition_percent_of_nulls_not_greater_than(config.max_null_ratio),
        c.DataDuplicates().add_condition_ratio_less_or_equal(config.max_duplicate_ratio),
        *conflicting,
        c.FeatureLabelCorrelation(random_state=PPS_SEED).add_condition_feature_pps_less_than(
            config.max_feature_label_pps
        ),
        c.FeatureFeatureCorrelation().add_condition_max_number_of_pairs_above_threshold(
            config.feature_correlation_threshold, config.max_correlated_pairs
        ),
    )


def train_test_suite(config: TrainTestChecks, seed: int, classifier: bool) -> Any:
    labels = (
        [c.NewLabelTrainTest().add_condition_new_labels_number_less_or_equal(config.max_new_labels)]
        if classifier
        else []
    )
    return Suite(
        "train_test",
        c.DatasetsSizeComparison().add_condition_test_train_size_ratio_greater_than(
            config.min_test_train_size_ratio
        ),
        *labels,
        c.NewCategoryTrainTest().add_condition_new_category_ratio_less_or_equal(
            config.max_new_category_ratio
        ),
        c.StringMismatchComparison().add_condition_no_new_variants(),
        c.TrainTestSamplesMix().add_condition_duplicates_ratio_less_or_equal(config.max_test_rows_in_train),
        c.FeatureLabelCorrelationChange(random_state=seed)
        .add_condition_feature_pps_difference_less_than(config.max_pps_difference)
        .add_condition_feature_pps_in_train_less_than(config.max_pps_in_train),
        c.FeatureDrift(random_state=seed).add_condition_drift_score_less_than(
            config.max_categorical_drift, config.max_numeric_drift
        ),
        c.LabelDrift(random_state=seed).add_condition_drift_score_less_than(config.max_label_drift),
        c.MultivariateDrift(random_state=seed).add_condition_overall_drift_value_less_than(
            config.max_multivariate_drift
        ),
    )


def model_evaluation_suite(config: ModelEvaluationChecks, seed: int, classifier: bool) -> Any:
    roc = [c.RocReport().add_condition_auc_greater_than(config.min_roc_auc)] if classifier else []
    # n_top_features is the cost driver: 10 (the default) took 66 s here, 5 takes 2 s.
    segments = (
        [
            c.WeakSegmentsPerformance(
                n_top_features=config.weak_segment_features,
                n_samples=config.weak_segment_samples,
                random_state=seed,
            ).add_condition_segments_relative_performance_greater_than(config.max_weak_segment_drop)
        ]
        if classifier
        else []
    )
    return Suite(
        "model_evaluation",
        c.TrainTestPerformance().add_condition_train_test_relative_degradation_less_than(
            config.max_train_test_degradation
        ),
        *roc,
        c.PredictionDrift().add_condition_drift_score_less_than(config.max_prediction_drift),
        c.SimpleModelComparison(random_state=seed).add_condition_gain_greater_than(
            config.min_gain_over_simple
        ),
        *segments,
        c.UnusedFeatures(
            random_state=seed
        ).add_condition_number_of_high_variance_unused_features_less_or_equal(
            config.max_unused_high_variance_features
        ),
    )


def feature_importance(
    model: Pipeline, test: pd.DataFrame, config: ModelEvaluationChecks, seed: int, schema: Schema
) -> pd.Series:
    """Permutation importance on a fixed test sample, computed once for every check that needs it.

    Deepchecks would otherwise compute it itself on the full data (~100 s on two cores).
    """
    sample = test.sample(n=min(config.importance_rows, len(test)), random_state=seed)
    features, target = split_xy(sample, schema)
    scoring = _IMPORTANCE_SCORING[schema.task]
    if schema.task == "binary" and np.unique(target).size < 2:
        scoring = "neg_log_loss"
    result = permutation_importance(
        model,
        features,
        target,
        scoring=scoring,
        n_repeats=config.importance_repeats,
        random_state=seed,
        n_jobs=1,
    )
    importances = np.clip(result.importances_mean, 0.0, None)
    total = importances.sum()
    normalized = importances / total if total > 0 else np.full(len(importances), 1.0 / len(importances))
    return pd.Series(normalized, index=schema.feature_names)


#: Deepchecks' own words when a check has nothing to judge; anything else that stops a check is an error.
NOTHING_TO_JUDGE = (
    # WeakSegmentsPerformance on data the model fits (almost) perfectly: no errors to find segments in.
    "unable to train an error model to find weak segments",
)


def summarize(
    suite: str, result: Any, seconds: float, rows: dict[str, int], config: SuiteConfig | None = None
) -> SuiteOutcome:
    """Reduce a Deepchecks ``SuiteResult`` to check names, statuses, the details that decided them and, with
    ``config``, the measured value of each check next to its threshold (:mod:`mlship.checks.measures`).

    A check that could not run is an error (a failed gate), except where Deepchecks says there is nothing
    to judge (``NOTHING_TO_JUDGE``): that is ``not_judged``, listed as such by the gates.
    """
    outcomes: list[CheckOutcome] = []
    for item in result.results:
        if isinstance(item, CheckFailure):
            reason = f"{type(item.exception).__name__}: {item.exception}"
            empty = any(phrase in str(item.exception) for phrase in NOTHING_TO_JUDGE)
            outcomes.append(CheckOutcome(item.header, "not_judged" if empty else "error", (), reason))
            continue
        conditions = tuple(
            ConditionOutcome(cr.name, cr.category.name, " ".join(str(cr.details).split()))
            for cr in item.conditions_results
        )
        # Every condition here is explicit, so missing it fails — including the ones Deepchecks calls WARN.
        failed = any(cr.category != "PASS" for cr in conditions)
        header = item.get_header()
        measures = measure(header, item.value, config) if config is not None else ()
        ordered = tuple(sorted(measures, key=lambda m: m.headroom))
        outcomes.append(CheckOutcome(header, "failed" if failed else "passed", conditions, None, ordered))
    return SuiteOutcome(suite, tuple(outcomes), round(seconds, 2), rows)


def only(suite: Any, checks: Collection[str] | None) -> Any:
    """The suite reduced to the named checks (their headers, e.g. ``"Label Drift"``), each with its
    condition; ``None`` keeps every check. An unknown name is an error, never an empty suite."""
    if checks is None:
        return suite

    def key(name: str) -> str:  # a header reads "Percent Of Nulls" where its check says "PercentOfNulls"
        return name.replace(" ", "").lower()

    wanted = {key(name): name for name in checks}
    kept = [check for check in suite.checks.values() if key(check.name()) in wanted]
    unknown = set(wanted) - {key(check.name()) for check in kept}
    if unknown:
        names = ", ".join(sorted(wanted[name] for name in unknown))
        raise ValueError(f"no check named {names} in the {suite.name} suite")
    return Suite(suite.name, *kept)


def _run(
    suite: Any, name: str, rows: dict[str, int], html: Path | None, config: SuiteConfig, **kwargs: Any
) -> SuiteOutcome:
    start = time.perf_counter()
    with quiet():
        result = suite.run(with_display=False, **kwargs)
    outcome = summarize(name, result, time.perf_counter() - start, rows, config)
    if html is not None:
        save_html(result, name, html)
    return outcome


_STYLER_ID = re.compile(r"T_[0-9a-f]{5}(?![0-9a-f])")


def save_html(result: Any, name: str, path: Path) -> None:
    """Save the full offline report (JavaScript inlined, no CDN), byte-identical for identical results.

    Deepchecks defaults to a random id per report and pandas' ``Styler`` to a random id per table; both
    are replaced by stable ones so the DVC output hash depends on the content only.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with quiet():
        result.save_as_html(str(partial), as_widget=False, connected=False, unique_id=name)
    ids: dict[str, str] = {}
    text = partial.read_text(encoding="utf-8")
    path.write_text(
        _STYLER_ID.sub(lambda m: ids.setdefault(m.group(0), f"T_{len(ids):05d}"), text), encoding="utf-8"
    )
    partial.unlink()


def run_data_integrity(
    frame: pd.DataFrame,
    config: DataIntegrityChecks,
    schema: Schema,
    html: Path | None = None,
    checks: Collection[str] | None = None,
) -> SuiteOutcome:
    """The data-integrity suite (``checks``: only the named ones, e.g. to judge one corruption)."""
    return _run(
        only(data_integrity_suite(config, schema.target.is_classifier), checks),
        "data_integrity",
        {"rows": len(frame)},
        html,
        config,
        train_dataset=dataset(frame, schema),
    )


def run_train_test(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    config: TrainTestChecks,
    seed: int,
    schema: Schema,
    html: Path | None = None,
    checks: Collection[str] | None = None,
) -> SuiteOutcome:
    """The train-test suite (``checks``: only the named ones)."""
    rows = {"train": len(train), "test": len(test)}
    return _run(
        only(train_test_suite(config, seed, schema.target.is_classifier), checks),
        "train_test",
        rows,
        html,
        config,
        train_dataset=dataset(train, schema),
        test_dataset=dataset(test, schema),
    )


def run_model_evaluation(
    model: Pipeline,
    *,
    train: pd.DataFrame,
    test: pd.DataFrame,
    config: ModelEvaluationChecks,
    seed: int,
    schema: Schema,
    html: Path | None = None,
) -> SuiteOutcome:
    rows = {"train": len(train), "test": len(test)}
    classifier = schema.target.is_classifier
    predictions: dict[str, Any] = {}
    if classifier:
        predictions = {
            "y_proba_train": model.predict_proba(train[schema.feature_names]),
            "y_proba_test": model.predict_proba(test[schema.feature_names]),
            "model_classes": list(range(len(schema.target.classes))),
        }
    return _run(
        model_evaluation_suite(config, seed, classifier),
        "model_evaluation",
        rows,
        html,
        config,
        train_dataset=dataset(train, schema),
        test_dataset=dataset(test, schema),
        model=model,
        feature_importance=feature_importance(model, test, config, seed, schema),
        **predictions,
    )
