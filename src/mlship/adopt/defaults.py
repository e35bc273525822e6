"""Every setting ``mlship init`` writes into ``params.yaml``, with the reason for each value.

Three kinds of value:

* **facts of the adopted file**: the data source (path and sha256), where ingest copies it, the service
  name, whether the split is stratified (classifiers) — nothing to judge;
* **generic policy**: the same for every dataset of a task (e.g. ROC AUC at least 0.70). They are starting
  points for the team's own review, written with a comment saying so;
* **derived from the file**, where a fixed number could not fit every dataset: the "no better than
  guessing" ceilings (a loss no worse than predicting the base rate or the mean), drift limits above the
  sampling noise of a split this size, and data-quality limits a margin above what the file shows today (so
  the adopted data passes and a worse file fails).

The model's size settings are derived too: below ``SMALL_DATA_ROWS`` rows gradient boosting stops early on a
seeded validation share and grows smaller trees (200 full trees overfit a few thousand rows: worse than a
constant forecast). The other settings not listed here (the estimator, ``evaluate``, ``service`` runtime
settings, ``paths`` other than ``raw``) fit any dataset and are left as they are.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from mlship.data.schema import Schema
from mlship.tasks import headline_metric


@dataclass(frozen=True)
class Setting:
    """One value and the end-of-line comment written beside it."""

    value: Any
    comment: str = ""


@dataclass(frozen=True)
class Section:
    """Settings under one key. ``exact``: afterwards the mapping holds these keys and no others."""

    entries: Mapping[str, Setting | Section]
    exact: bool = False
    #: Comment lines written above the section's key (replacing any there), e.g. for ``model.monotonic``.
    above: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Profile:
    """What the defaults need to know about the adopted data."""

    schema: Schema
    rows: int
    #: Share of rows per label (classifiers), in label order.
    label_shares: tuple[float, ...]
    #: Standard deviation of a regression target (population), else 0.
    target_std: float
    #: Largest share of missing values in one feature column.
    max_null_ratio: float
    #: Share of rows that repeat an earlier row exactly (features and target).
    duplicate_ratio: float
    #: Share of rows whose features also occur with another target value.
    conflicting_ratio: float
    #: Share of test rows (features and target) that also occur in train under the configured split:
    #: what Deepchecks' Train Test Samples Mix measures. Discrete data repeats rows naturally.
    test_rows_in_train: float = 0.0


def repeated_test_share(frame: pd.DataFrame, schema: Schema, test_size: float, seed: int) -> float:
    """The share of test rows that repeat a training row exactly, under the split the pipeline makes
    (same size, seed and stratification; the labels as text, so it is an estimate within a few rows)."""
    from sklearn.model_selection import train_test_split  # noqa: PLC0415 (heavy; only `mlship init` needs it)

    if len(frame) < 2:
        return 0.0
    keys = pd.util.hash_pandas_object(frame.fillna("\x00missing"), index=False).to_numpy()
    stratify = frame[schema.target.name].astype(str) if schema.target.is_classifier else None
    try:
        train, test = train_test_split(keys, test_size=test_size, random_state=seed, stratify=stratify)
    except ValueError:  # a label too rare to stratify: the split stage will say so; estimate unstratified
        train, test = train_test_split(keys, test_size=test_size, random_state=seed)
    return float(pd.Series(test).isin(set(train)).mean())


def profile(frame: pd.DataFrame, schema: Schema, test_size: float = 0.2, seed: int = 42) -> Profile:
    """Measure ``frame`` (the file as text, canonical names) for the derived defaults; ``test_size`` and
    ``seed`` are the split's (``split:`` in ``params.yaml``)."""
    target = schema.target
    features = frame[schema.feature_names]
    label_shares: tuple[float, ...] = ()
    target_std = 0.0
    if target.is_classifier:
        counts = frame[target.name].astype(str).value_counts()
        label_shares = tuple(float(counts.get(label, 0)) / len(frame) for label in target.labels)
    else:
        target_std = float(pd.to_numeric(frame[target.name]).std(ddof=0))
    keys = pd.util.hash_pandas_object(features.fillna("\x00missing"), index=False)
    labels_per_key = frame[target.name].groupby(keys.to_numpy()).transform("nunique")
    return Profile(
        schema=schema,
        rows=len(frame),
        label_shares=label_shares,
        target_std=target_std,
        max_null_ratio=float(features.isna().mean().max()),
        duplicate_ratio=float(frame.duplicated().mean()),
        conflicting_ratio=float((labels_per_key.to_numpy() > 1).mean()),
        test_rows_in_train=repeated_test_share(
            frame[[*schema.feature_names, target.name]], schema, test_size, seed
        ),
    )


def ceil_to(value: float, places: int) -> float:
    """``value`` rounded up to ``places`` decimals (float noise such as 7.000000001 does not round up)."""
    scale = 10**places
    return float(math.ceil(round(value * scale, 6)) / scale)


def ceil_significant(value: float, digits: int = 3) -> float:
    """``value`` rounded up to ``digits`` significant digits (readable limits in the target's unit)."""
    if value <= 0:
        return 0.0
    return ceil_to(value, digits - 1 - math.floor(math.log10(value)))


def with_headroom(observed: float, floor: float, margin: float = 0.05) -> float:
    """A limit ``margin`` above what the data shows (at least ``floor``, at most 1), two decimals."""
    return min(1.0, max(floor, ceil_to(observed + margin, 2)))


#: Two-sample Kolmogorov-Smirnov critical value factor for alpha = 0.001: sqrt(-ln(alpha / 2) / 2).
_KS_FACTOR = math.sqrt(-math.log(0.001 / 2) / 2)


def split_sizes(rows: int, test_size: float) -> tuple[int, int]:
    """Train and test rows of a split of ``rows`` (scikit-learn rounds the test share up)."""
    test = math.ceil(rows * test_size)
    return rows - test, test


def sampling_drift(rows: int, test_size: float) -> float:
    """The drift score that pure chance exceeds once in a thousand splits of this size (KS statistic)."""
    train, test = split_sizes(rows, test_size)
    return _KS_FACTOR * math.sqrt((train + test) / (train * test))


def _entropy(shares: tuple[float, ...]) -> float:
    return -sum(share * math.log(share) for share in shares if share > 0)


def checks(data: Profile, test_size: float) -> Section:
    """``checks``: Deepchecks conditions for any dataset (see src/mlship/checks/suites.py)."""
    classifier = data.schema.target.is_classifier
    noise = sampling_drift(data.rows, test_size)
    drift = min(1.0, max(0.10, ceil_to(noise, 2)))  # a drift score is at most 1
    multivariate = min(1.0, max(0.25, ceil_to(2 * noise, 2)))
    drift_note = (
        "0.10, or this split size's sampling noise if larger"
        if drift > 0.10
        else "Deepchecks' usual limit; above the sampling noise here"
    )
    features = len(data.schema.features)
    duplicates = with_headroom(data.duplicate_ratio, 0.05)
    return Section(
        {
            "data_integrity": Section(
                {
                    "max_null_ratio": Setting(
                        with_headroom(data.max_null_ratio, 0.10),
                        f"per column; the adopted file's worst column: {data.max_null_ratio:.1%} missing",
                    ),
                    "max_mixed_nulls": Setting(1, "distinct spellings of a missing value per column"),
                    "rare_type_ratio_range": Setting(
                        [0.01, 0.1], "a column mixing numbers and text fails if the rare type is this common"
                    ),
                    "max_duplicate_ratio": Setting(
                        duplicates, f"identical rows; the adopted file: {data.duplicate_ratio:.1%}"
                    ),
                    "max_conflicting_label_ratio": Setting(
                        with_headroom(data.conflicting_ratio, 0.05),
                        f"identical features, another label; the adopted file: {data.conflicting_ratio:.1%}",
                    ),
                    "max_feature_label_pps": Setting(0.90, "a feature this predictive on its own is a leak"),
                    "max_special_character_ratio": Setting(0.001, "values made of special characters only"),
                    "feature_correlation_threshold": Setting(0.9, "pairs correlated above this are counted"),
                    "max_correlated_pairs": Setting(5, "redundant encodings of one fact (generic allowance)"),
                }
            ),
            "train_test": Section(
                {
                    "min_test_train_size_ratio": Setting(0.1, "test rows / train rows"),
                    "max_new_labels": Setting(0, "classifiers: labels in test never seen in training"),
                    "max_new_category_ratio": Setting(
                        0.02, "test rows with a category unseen in training (rare ones may be test-only)"
                    ),
                    "max_test_rows_in_train": Setting(
                        with_headroom(data.test_rows_in_train, 0.05),
                        f"test rows repeating a train row; this split of the adopted file: "
                        f"{data.test_rows_in_train:.1%}, +0.05",
                    ),
                    "max_pps_difference": Setting(0.2, "a feature's power changing between splits"),
                    "max_pps_in_train": Setting(0.90, "as max_feature_label_pps, on the training split"),
                    "max_numeric_drift": Setting(drift, f"Kolmogorov-Smirnov; {drift_note}"),
                    "max_categorical_drift": Setting(drift, f"Cramer's V; {drift_note}"),
                    "max_label_drift": Setting(0.10, "a stratified split keeps label shares equal")
                    if classifier
                    else Setting(drift, drift_note),
                    "max_multivariate_drift": Setting(
                        multivariate, "domain classifier: 0.25, or twice the sampling noise if larger"
                    ),
                }
            ),
            "model_evaluation": Section(
                {
                    "max_train_test_degradation": Setting(
                        0.20 if classifier else 0.50,
                        "relative, per metric and class"
                        if classifier
                        else "relative; boosted trees' training error is far below the test error",
                    ),
                    "min_roc_auc": Setting(0.70, "classifiers: per class; 0.5 is chance"),
                    "max_prediction_drift": Setting(drift, drift_note),
                    "min_gain_over_simple": Setting(0.10, "vs Deepchecks' naive model (Deepchecks' default)"),
                    "max_weak_segment_drop": Setting(
                        0.30, "worst data segment's score relative to the average"
                    ),
                    "weak_segment_features": Setting(5, "segments are searched over the 5 most important"),
                    "weak_segment_samples": Setting(5000, "rows sampled for the segment search"),
                    "max_unused_high_variance_features": Setting(
                        max(3, math.ceil(features / 2)),
                        "half the features (at least 3): redundant ones go unused",
                    ),
                    "importance_rows": Setting(2000, "rows for the precomputed permutation importance"),
                    "importance_repeats": Setting(3, "permutation repeats"),
                }
            ),
        }
    )


def min_slice_size(spread: float, gap: float, share: float = 1.0, floor: int = 30) -> int:
    """The fewest test rows a slice needs before a gap of ``gap`` between two such slices exceeds sampling
    noise at 95 %: each slice's metric has a standard error of at most ``spread / sqrt(rows * share)``
    (``share``: the part of its rows the standard error counts, e.g. the rarer label for an AUC), so the
    difference of two has at most ``sqrt(2)`` times that, and ``1.96`` of it must stay below ``gap``."""
    if gap <= 0:
        return floor
    return max(floor, math.ceil(2 * (1.96 * spread / gap) ** 2 / share))


def gates(data: Profile, test_size: float) -> Section:
    """``gates``: floors, ceilings and regression limits keyed by the task's metrics (src/mlship/tasks.py)."""
    schema = data.schema
    task = schema.task
    floors: dict[str, Setting | Section]
    ceilings: dict[str, Setting | Section]
    regression: dict[str, Setting | Section]
    if task == "binary":
        positive = data.label_shares[schema.target.labels.index(str(schema.target.positive))]
        floors = {"roc_auc": Setting(0.70, "generic: clearly better than chance (0.5)")}
        ceilings = {
            "log_loss": Setting(
                ceil_to(_entropy((positive, 1 - positive)), 4),
                f"no worse than always predicting the base rate ({positive:.1%})",
            ),
            "brier": Setting(ceil_to(positive * (1 - positive), 4), "likewise: the base rate's Brier score"),
        }
        regression = {
            "roc_auc": Setting(0.01, "generic"),
            "log_loss": Setting(0.02, "generic"),
        }
        gap_metric, gap = "roc_auc", Setting(0.10, "generic: review for each attribute")
        # An AUC's standard error is at most 0.5/sqrt(rows of the rarer label) (Hanley-McNeil, bounded).
        spread, share = 0.5, min(positive, 1 - positive)
    elif task == "multiclass":
        floors = {"roc_auc_ovr": Setting(0.70, "generic: clearly better than chance (0.5)")}
        ceilings = {
            "log_loss": Setting(
                ceil_to(_entropy(data.label_shares), 4),
                "no worse than always predicting the label shares",
            )
        }
        regression = {
            "roc_auc_ovr": Setting(0.01, "generic"),
            "log_loss": Setting(0.05, "generic"),
        }
        gap_metric, gap = "accuracy", Setting(0.10, "generic: review for each attribute")
        spread, share = 0.5, 1.0  # a share's standard error is at most 0.5/sqrt(rows)
    else:
        std = data.target_std
        floors = {"r2": Setting(0.10, "generic: better than predicting the mean (0.0)")}
        ceilings = {
            "rmse": Setting(
                ceil_significant(std), "no worse than predicting the mean (the target's standard deviation)"
            )
        }
        regression = {"r2": Setting(0.02, "generic")}
        gap_metric = "mae"
        gap = Setting(ceil_significant(0.2 * std), "a fifth of the target's standard deviation")
        spread, share = std, 1.0  # a mean absolute error's standard error is at most std/sqrt(rows)
    smallest = min_slice_size(spread, float(gap.value), share)
    test_rows = split_sizes(data.rows, test_size)[1]
    noise = ceil_to(0.5 / math.sqrt(test_rows), 2)
    return Section(
        {
            "floors": Section(floors, exact=True),
            "ceilings": Section(ceilings, exact=True),
            "max_regression": Section(regression, exact=True),
            "slice_gap": Section(
                {
                    "metric": Setting(gap_metric),
                    "min_slice_size": Setting(
                        smallest,
                        f"smaller slices are listed, not judged: below {smallest:,} test rows two slices "
                        "can differ by the allowed gap from sampling noise alone (95 %)",
                    ),
                    "max_gap": Section(dict.fromkeys(schema.sensitive, gap), exact=True),
                }
            ),
            "serving": serving(data),
            "simple_model": Section(
                {
                    "metric": Setting(headline_metric(task)),
                    "min_margin": Setting(
                        -noise,
                        f"the candidate may trail by at most {noise:.2f}: 0.5/sqrt({test_rows:,} test rows), "
                        "a share's largest standard error, rounded up; a smaller difference is noise",
                    ),
                }
            ),
        }
    )


#: What the census model measures on disk and at start-up (200 trees of 31 leaves: 12,200 nodes): 0.93 MB,
#: ~76 bytes a node, and 0.31 s to load and compile in a fresh process on 2 cores (docs/benchmarks.md).
BYTES_PER_NODE, LOAD_S_PER_NODE = 80, 0.31 / 12_200


def serving(data: Profile) -> Section:
    """``gates.serving``: limits sized to the model ``model(data)`` sets up, with room (x4 size, x5 time)."""
    leaves = 31 if data.rows >= SMALL_DATA_ROWS else 8
    per_iteration = len(data.schema.target.classes) if data.schema.task == "multiclass" else 1
    nodes = 200 * per_iteration * (2 * leaves - 1)  # max_iter trees per class, each a full binary tree
    size_mb = max(5.0, ceil_significant(4 * nodes * BYTES_PER_NODE / 1e6, 1))
    load_s = max(2.0, ceil_significant(5 * nodes * LOAD_S_PER_NODE, 1))
    return Section(
        {
            "max_latency_ratio": Setting(1.5, "generic: the interval's lower bound, so noise never fails it"),
            "max_model_mb": Setting(
                size_mb, f"{nodes:,} tree nodes at most (200 x {per_iteration} x {leaves} leaves): room x4"
            ),
            "max_load_s": Setting(load_s, "load + compile of that many nodes on a 2-core machine: room x5"),
        }
    )


#: Below this many rows ``mlship init`` turns on early stopping and grows smaller trees. Measured: on a
#: 4,000-row binary file with a weak signal, 200 trees of 31 leaves scored log loss 0.500 against 0.468 for
#: the constant forecast; early stopping with 8 leaves 0.441. On the census (32,561 rows) early stopping
#: cost 0.0005 ROC AUC, so larger files keep the full model.
SMALL_DATA_ROWS = 20_000


def model(data: Profile) -> Section:
    """``model``: the directional constraints reset, and gradient boosting sized to the file."""
    monotonic = Section({}, exact=True, above=MONOTONIC_NOTE)
    if data.rows >= SMALL_DATA_ROWS:
        hgb = Section(
            {
                "max_leaf_nodes": Setting(
                    31, f"{data.rows:,} rows (>= {SMALL_DATA_ROWS:,}): full-size trees"
                ),
                "early_stopping": Setting(False, f"{data.rows:,} rows: 200 trees do not overfit"),
            }
        )
    else:
        hgb = Section(
            {
                "max_leaf_nodes": Setting(8, f"{data.rows:,} rows (< {SMALL_DATA_ROWS:,}): small trees"),
                "early_stopping": Setting(
                    True, f"{data.rows:,} rows (< {SMALL_DATA_ROWS:,}): stop before overfitting"
                ),
            }
        )
    return Section({"monotonic": monotonic, "hist_gradient_boosting": hgb})


def _range(low: float, high: float, scale: str) -> dict[str, float | str]:
    return {"low": low, "high": high, "scale": scale}


def tune(data: Profile) -> Section:
    """``tune``: select on the task's primary metric; gradient boosting's space around the size ``model``
    sets up (small trees for a small file, so the search does not wander into trees that overfit it)."""
    small = data.rows < SMALL_DATA_ROWS
    leaves = _range(4, 31, "int") if small else _range(15, 63, "int")
    leaf_rows = _range(5, 50, "int") if small else _range(10, 100, "int")
    size = f"{data.rows:,} rows ({'<' if small else '>='} {SMALL_DATA_ROWS:,})"
    return Section(
        {
            "metric": Setting(
                headline_metric(data.schema.task), "the task's primary metric (src/mlship/tasks.py)"
            ),
            "space": Section(
                {
                    "hist_gradient_boosting": Section(
                        {
                            "learning_rate": Setting(_range(0.03, 0.3, "log")),
                            "max_leaf_nodes": Setting(leaves, f"{size}: around the configured tree size"),
                            "min_samples_leaf": Setting(leaf_rows),
                            "l2_regularization": Setting(_range(0.0, 1.0, "linear")),
                        },
                        exact=True,
                    )
                }
            ),
        }
    )


MONOTONIC_NOTE = (
    "Directional expectations the model must honour (+1: the prediction never falls as the feature",
    "rises; -1: never rises). Reset by `mlship init`: add the ones your domain guarantees.",
)


def params_updates(
    data: Profile, *, source: str, sha256: str, raw: str, service_name: str, test_size: float
) -> Section:
    """Everything ``mlship init`` writes into ``params.yaml``; other settings are left untouched."""
    return Section(
        {
            "paths": Section({"raw": Setting(raw)}),
            "data": Section(
                {
                    "source": Section(
                        {
                            "kind": Setting("file"),
                            "path": Setting(source, "relative to the repository root"),
                            "sha256": Setting(sha256, "ingest refuses a file with other content"),
                        },
                        exact=True,
                    )
                }
            ),
            "split": Section(
                {
                    "stratify": Setting(
                        data.schema.target.is_classifier,
                        "same label shares in both splits"
                        if data.schema.target.is_classifier
                        else "a regression target has no labels to stratify by",
                    )
                }
            ),
            "model": model(data),
            "tune": tune(data),
            "checks": checks(data, test_size),
            "gates": gates(data, test_size),
            "service": Section({"name": Setting(service_name)}),
        }
    )
