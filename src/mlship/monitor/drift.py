"""Drift of served traffic against the served version's training data, with Deepchecks' drift checks:
``FeatureDrift`` (Kolmogorov-Smirnov per numeric feature, Cramér's V per categorical one), ``PredictionDrift``
(the served outputs vs the model's outputs on its training data) and ``MultivariateDrift`` (a domain
classifier over all features). Judging the scores against ``params.yaml``'s thresholds is a pure function."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlship.config import MonitoringConfig
from mlship.data.schema import Schema


@dataclass(frozen=True)
class FeatureScore:
    name: str
    method: str
    score: float
    threshold: float

    @property
    def drifted(self) -> bool:
        return self.score > self.threshold


@dataclass(frozen=True)
class DriftResult:
    features: tuple[FeatureScore, ...]
    prediction: float | None
    multivariate: float | None


def threshold_for(name: str, schema: Schema, config: MonitoringConfig) -> float:
    numeric = name in schema.numeric_names
    return config.max_numeric_drift if numeric else config.max_categorical_drift


def judge(
    scores: dict[str, tuple[str, float]], schema: Schema, config: MonitoringConfig
) -> tuple[FeatureScore, ...]:
    """Each feature's score next to its threshold, in the schema's order."""
    return tuple(
        FeatureScore(name, method, float(score), threshold_for(name, schema, config))
        for name in schema.feature_names
        if name in scores
        for method, score in [scores[name]]
    )


def drifted(result: DriftResult) -> list[FeatureScore]:
    return [f for f in result.features if f.drifted]


def _datasets(reference: pd.DataFrame, served: pd.DataFrame, features: list[str], schema: Schema) -> Any:
    from mlship.checks.suites import quiet

    with quiet():
        from deepchecks.tabular import Dataset

        cats = [c for c in schema.categorical_names if c in features]
        return tuple(
            Dataset(frame[features], cat_features=cats, features=features, label=None)
            for frame in (reference, served)
        )


def measure(
    reference: pd.DataFrame,
    served: pd.DataFrame,
    reference_output: np.ndarray[Any, Any],
    served_output: np.ndarray[Any, Any],
    *,
    features: list[str],
    schema: Schema,
    config: MonitoringConfig,
    html: Path | None = None,
) -> DriftResult:
    """Run Deepchecks' three drift checks; optionally save them as one offline HTML report."""
    from mlship.checks.suites import quiet, save_html

    train, test = _datasets(reference, served, features, schema)
    with quiet():
        from deepchecks.tabular import Suite
        from deepchecks.tabular import checks as c

        kwargs: dict[str, Any] = {}
        if schema.target.is_classifier:
            kwargs = {
                "y_proba_train": reference_output,
                "y_proba_test": served_output,
                "model_classes": list(range(reference_output.shape[1])),
            }
        else:
            kwargs = {"y_pred_train": reference_output, "y_pred_test": served_output}
        suite = Suite(
            "monitor_drift",
            c.FeatureDrift(n_samples=config.drift_samples, random_state=0),
            c.PredictionDrift(n_samples=config.drift_samples, random_state=0),
            c.MultivariateDrift(n_samples=config.drift_samples, random_state=0),
        )
        result = suite.run(train, test, with_display=html is not None, feature_importance_timeout=0, **kwargs)
    values: dict[str, Any] = {}
    for item in result.results:
        value = getattr(item, "value", None)
        if value is not None:
            values[type(item.check).__name__] = value
    scores = {
        name: (str(v.get("Method", "")), float(v["Drift score"]))
        for name, v in values.get("FeatureDrift", {}).items()
        if v.get("Drift score") is not None
    }
    prediction = values.get("PredictionDrift", {}).get("Drift score")
    multivariate = values.get("MultivariateDrift", {}).get("domain_classifier_drift_score")
    if html is not None:
        save_html(result, "monitor", html)
    return DriftResult(
        features=judge(scores, schema, config),
        prediction=None if prediction is None else float(prediction),
        multivariate=None if multivariate is None else float(multivariate),
    )


# --- the chart's windows: the same statistics, computed per time window ---


def ks_statistic(reference: np.ndarray[Any, Any], served: np.ndarray[Any, Any]) -> float:
    """Two-sample Kolmogorov-Smirnov statistic (NaNs ignored; 0 when a side is empty)."""
    a = np.sort(reference[~np.isnan(reference)])
    b = np.sort(served[~np.isnan(served)])
    if len(a) == 0 or len(b) == 0:
        return 0.0
    values = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, values, side="right") / len(a)
    cdf_b = np.searchsorted(b, values, side="right") / len(b)
    return float(np.max(np.abs(cdf_a - cdf_b)))


def cramers_v(reference: pd.Series, served: pd.Series) -> float:
    """Cramér's V between the category and which side a value came from (bias-uncorrected; 0..1)."""
    a = reference.fillna("<missing>").astype(str).value_counts()
    b = served.fillna("<missing>").astype(str).value_counts()
    table = pd.concat([a, b], axis=1).fillna(0.0).to_numpy(dtype=float)
    total = table.sum()
    if total == 0 or table.shape[0] < 2 or (table.sum(axis=0) == 0).any():
        return 0.0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / total
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return float(np.sqrt(chi2 / total))  # min(rows, cols) - 1 == 1 with two sides


def window_scores(
    reference: pd.DataFrame,
    served: pd.DataFrame,
    times: pd.Series,
    *,
    names: list[str],
    schema: Schema,
    windows: int,
) -> dict[str, list[float]]:
    """Per feature, one drift score per equal time window of the served records (oldest first)."""
    if served.empty:
        return {}
    order = np.argsort(times.to_numpy(), kind="stable")
    chunks = [c for c in np.array_split(order, min(windows, len(order))) if len(c)]
    result: dict[str, list[float]] = {}
    for name in names:
        scores = []
        for chunk in chunks:
            part = served[name].iloc[chunk]
            if name in schema.numeric_names:
                scores.append(ks_statistic(reference[name].to_numpy(dtype=float), part.to_numpy(dtype=float)))
            else:
                scores.append(cramers_v(reference[name], part))
        result[name] = scores
    return result
