"""The number each check was judged by, next to its threshold from ``params.yaml`` (``checks:``).

Each function reads one Deepchecks check's ``CheckResult.value`` and returns what its condition compares,
named for what it is ("largest Kolmogorov-Smirnov score over the numeric features", not "value"). A check
whose value has an unexpected shape gets no measure: its row then shows the conditions' text alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mlship.checks.results import Measure
from mlship.config import DataIntegrityChecks, ModelEvaluationChecks, TrainTestChecks


def _largest(values: Iterable[Any]) -> float:
    numbers = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    return max(numbers) if numbers else 0.0


def _column(frame: Any, name: str) -> list[Any]:
    return list(frame[name]) if name in getattr(frame, "columns", ()) else []


Extractor = Callable[[Any, Any], list[Measure]]


def _single_value(value: Mapping[str, Any], _: Any) -> list[Measure]:
    fewest = min((int(n) for n in value.values()), default=0)
    return [Measure("fewest distinct values in a column", fewest, 1, ">")]


def _special_characters(value: Mapping[str, Any], config: Any) -> list[Measure]:
    limit = config.max_special_character_ratio
    return [Measure("largest share of special characters in a column", _largest(value.values()), limit, "<=")]


def _mixed_nulls(value: Mapping[str, Any], config: Any) -> list[Measure]:
    columns = value.get("columns", {})
    most = max((len(kinds) for kinds in columns.values()), default=0)
    limit = config.max_mixed_nulls
    return [Measure("most spellings of a missing value in a column", most, limit, "<=")]


def _mixed_types(value: Mapping[str, Any], config: Any) -> list[Measure]:
    rare = [min(shares.values()) for shares in value.values() if isinstance(shares, Mapping) and shares]
    low, high = config.rare_type_ratio_range
    largest = _largest(rare)
    # The condition fails inside [low, high]; report against the bound the value sits nearer to.
    return (
        [Measure("largest rare-type share in a column", largest, low, "<")]
        if largest < low
        else [Measure("largest rare-type share in a column", largest, high, ">")]
    )


def _variants(columns: Mapping[str, Any], quantity: str) -> list[Measure]:
    found = sum(len(variants) for variants in columns.values() if isinstance(variants, Mapping))
    return [Measure(quantity, found, 0, "<=")]


def _string_mismatch(value: Mapping[str, Any], _: Any) -> list[Measure]:
    return _variants(value.get("columns", {}), "strings with several spellings")


def _string_mismatch_comparison(value: Mapping[str, Any], _: Any) -> list[Measure]:
    return _variants(value, "spellings in test not seen in train")


def _nulls(value: Any, config: Any) -> list[Measure]:
    share = _largest(_column(value, "Percent of nulls in sample"))
    return [Measure("largest share of missing values in a column", share, config.max_null_ratio, "<=")]


def _duplicates(value: Any, config: Any) -> list[Measure]:
    return [Measure("share of duplicate rows", float(value), config.max_duplicate_ratio, "<=")]


def _conflicting(value: Mapping[str, Any], config: Any) -> list[Measure]:
    share = float(value["percent_of_conflicting_samples"])
    return [Measure("share of rows with conflicting labels", share, config.max_conflicting_label_ratio, "<=")]


def _feature_label(value: Mapping[str, Any], config: Any) -> list[Measure]:
    limit = config.max_feature_label_pps
    return [Measure("largest feature-label PPS", _largest(value.values()), limit, "<")]


def _feature_feature(value: Any, config: Any) -> list[Measure]:
    threshold = config.feature_correlation_threshold
    names = list(value.columns)
    pairs = sum(1 for i, a in enumerate(names) for b in names[i + 1 :] if float(value.loc[a, b]) > threshold)
    return [
        Measure(f"feature pairs correlated above {threshold:g}", pairs, config.max_correlated_pairs, "<=")
    ]


def _size(value: Mapping[str, Any], config: Any) -> list[Measure]:
    ratio = float(value["Test"]) / float(value["Train"])
    return [Measure("test/train size ratio", ratio, config.min_test_train_size_ratio, ">")]


def _new_labels(value: Mapping[str, Any], config: Any) -> list[Measure]:
    return [
        Measure("labels in test not seen in train", len(value["new_labels"]), config.max_new_labels, "<=")
    ]


def _new_categories(value: Any, config: Any) -> list[Measure]:
    share = _largest(_column(value, "Ratio of New Categories"))
    return [
        Measure("largest share of unseen categories in a column", share, config.max_new_category_ratio, "<=")
    ]


def _samples_mix(value: Mapping[str, Any], config: Any) -> list[Measure]:
    share = float(value["ratio"])
    return [Measure("share of test rows also in train", share, config.max_test_rows_in_train, "<=")]


def _pps_change(value: Mapping[str, Any], config: Any) -> list[Measure]:
    train, test = value["train"], value["test"]
    difference = _largest(float(train[f]) - float(test.get(f, 0.0)) for f in train)
    return [
        Measure("largest PPS drop from train to test", difference, config.max_pps_difference, "<"),
        Measure("largest feature-label PPS in train", _largest(train.values()), config.max_pps_in_train, "<"),
    ]


def _feature_drift(value: Mapping[str, Any], config: Any) -> list[Measure]:
    def scores(method: str) -> list[float]:
        return [float(v["Drift score"]) for v in value.values() if v.get("Method") == method]

    numeric, categorical = scores("Kolmogorov-Smirnov"), scores("Cramer's V")
    measures = []
    if numeric:
        measures.append(
            Measure("largest KS over numeric features", max(numeric), config.max_numeric_drift, "<")
        )
    if categorical:
        measures.append(
            Measure(
                "largest Cramer's V over categorical features",
                max(categorical),
                config.max_categorical_drift,
                "<",
            )
        )
    return measures


def _label_drift(value: Mapping[str, Any], config: Any) -> list[Measure]:
    method = value.get("Method", "score")
    return [Measure(f"label drift ({method})", float(value["Drift score"]), config.max_label_drift, "<")]


def _multivariate(value: Mapping[str, Any], config: Any) -> list[Measure]:
    score = float(value["domain_classifier_drift_score"])
    return [Measure("domain-classifier drift score", score, config.max_multivariate_drift, "<")]


def _train_test_performance(value: Any, config: Any) -> list[Measure]:
    rows = value.to_dict("records")
    train = {(r["Class"], r["Metric"]): float(r["Value"]) for r in rows if r["Dataset"] == "Train"}
    drops = [
        (train[(r["Class"], r["Metric"])] - float(r["Value"])) / abs(train[(r["Class"], r["Metric"])])
        for r in rows
        if r["Dataset"] == "Test" and train.get((r["Class"], r["Metric"]))
    ]
    limit = config.max_train_test_degradation
    return [Measure("largest relative drop from train to test (metric, class)", _largest(drops), limit, "<")]


def _roc(value: Mapping[Any, Any], config: Any) -> list[Measure]:
    lowest = min(float(v) for v in value.values())
    return [Measure("lowest one-vs-rest ROC AUC over the classes", lowest, config.min_roc_auc, ">")]


def _prediction_drift(value: Mapping[str, Any], config: Any) -> list[Measure]:
    score = float(value["Drift score"])
    return [
        Measure(f"prediction drift ({value.get('Method', 'score')})", score, config.max_prediction_drift, "<")
    ]


def _gain(simple: float, origin: float, perfect: float) -> float | None:
    distance = perfect - simple
    return None if distance == 0 or origin == perfect else (origin - simple) / distance


def _simple_model(value: Mapping[str, Any], config: Any) -> list[Measure]:
    gains: list[float] = []
    for metric, scores in value["scores"].items():
        perfect = float(value["scorers_perfect"][metric])
        entries = scores.values() if all(isinstance(s, Mapping) for s in scores.values()) else [scores]
        for entry in entries:
            gain = _gain(float(entry["Simple"]), float(entry["Origin"]), perfect)
            if gain is not None:
                gains.append(gain)
    if not gains:
        return []
    limit = config.min_gain_over_simple
    return [
        Measure("smallest gain over Deepchecks' naive model (per metric and class)", min(gains), limit, ">")
    ]


def _weak_segments(value: Mapping[str, Any], config: Any) -> list[Measure]:
    segments = value["weak_segments_list"]
    average = float(value["avg_score"])
    worst = min(float(s) for s in segments.iloc[:, 0]) if len(segments) else average
    drop = (average - worst) / abs(average) if average else 0.0
    limit = config.max_weak_segment_drop
    return [Measure("worst segment's relative drop from the average score", drop, limit, "<=")]


def _unused(value: Mapping[str, Any], config: Any) -> list[Measure]:
    unused = len(value["unused features"]["high variance"])
    limit = config.max_unused_high_variance_features
    return [Measure("unused high-variance features", unused, limit, "<=")]


EXTRACTORS: dict[str, Extractor] = {
    "Single Value in Column": _single_value,
    "Special Characters": _special_characters,
    "Mixed Nulls": _mixed_nulls,
    "Mixed Data Types": _mixed_types,
    "String Mismatch": _string_mismatch,
    "PercentOfNulls": _nulls,
    "Percent Of Nulls": _nulls,
    "Data Duplicates": _duplicates,
    "Conflicting Labels": _conflicting,
    "Feature Label Correlation": _feature_label,
    "Feature-Feature Correlation": _feature_feature,
    "Datasets Size Comparison": _size,
    "New Label Train Test": _new_labels,
    "New Category Train Test": _new_categories,
    "String Mismatch Comparison": _string_mismatch_comparison,
    "Train Test Samples Mix": _samples_mix,
    "Feature Label Correlation Change": _pps_change,
    "Feature Drift": _feature_drift,
    "Label Drift": _label_drift,
    "Multivariate Drift": _multivariate,
    "Train Test Performance": _train_test_performance,
    "ROC Report": _roc,
    "Prediction Drift": _prediction_drift,
    "Simple Model Comparison": _simple_model,
    "Weak Segments Performance": _weak_segments,
    "Unused Features": _unused,
}


SuiteConfig = DataIntegrityChecks | TrainTestChecks | ModelEvaluationChecks


def measure(header: str, value: Any, config: SuiteConfig) -> tuple[Measure, ...]:
    """What the check named ``header`` measured against ``config`` (its suite's ``checks:`` block); ``()``
    for an unknown check, a value of an unexpected shape or a threshold of another suite."""
    name = header.split(" - ", maxsplit=1)[0]
    extractor = EXTRACTORS.get(name)
    if extractor is None:
        return ()
    try:
        return tuple(m for m in extractor(value, config) if math.isfinite(m.value))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, ZeroDivisionError):  # shape
        return ()
