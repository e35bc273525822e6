"""Stage ``train``: fit the model ``Pipeline`` (preprocessing + estimator) and save it as one artifact.

FORK: add or change estimators in ``build_model``; select one with ``model.estimator`` in ``params.yaml``.
"""

from __future__ import annotations

from pathlib import Path

import joblib
import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from mlship.config import ModelConfig
from mlship.data.schema import CENSUS, IntArray, Schema, read_processed, split_xy
from mlship.features import build_preprocessor, categorical_mask


def build_model(config: ModelConfig, schema: Schema = CENSUS) -> Pipeline:
    """An unfitted ``Pipeline`` for the configured estimator."""
    estimator: ClassifierMixin
    if config.estimator == "hist_gradient_boosting":
        hgb = config.hist_gradient_boosting
        estimator = HistGradientBoostingClassifier(
            learning_rate=hgb.learning_rate,
            max_iter=hgb.max_iter,
            max_leaf_nodes=hgb.max_leaf_nodes,
            min_samples_leaf=hgb.min_samples_leaf,
            l2_regularization=hgb.l2_regularization,
            categorical_features=categorical_mask(schema),
            early_stopping=False,
            random_state=config.seed,
        )
        preprocessor = build_preprocessor(schema, "ordinal")
    else:
        lr = config.logistic_regression
        estimator = LogisticRegression(C=lr.C, max_iter=lr.max_iter, random_state=config.seed)
        preprocessor = build_preprocessor(schema, "one_hot")
    return Pipeline([("features", preprocessor), ("estimator", estimator)])


def train(features: pd.DataFrame, target: IntArray, config: ModelConfig, schema: Schema = CENSUS) -> Pipeline:
    """Fit a fresh model on ``features`` (selected by name, so column order does not matter)."""
    model = build_model(config, schema)
    model.fit(features, target)
    return model


def save_model(model: Pipeline, path: Path) -> None:
    """Write the fitted pipeline atomically (a crash never leaves a half-written model)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    joblib.dump(model, partial)
    partial.replace(path)


def load_model(path: Path) -> Pipeline:
    model = joblib.load(path)
    if not isinstance(model, Pipeline):
        raise TypeError(f"{path} does not hold a scikit-learn Pipeline (got {type(model).__name__})")
    return model


def run(config: ModelConfig, train_path: Path, model_path: Path) -> Pipeline:
    """CLI entry: train on the train split and save the model."""
    features, target = split_xy(read_processed(train_path))
    model = train(features, target, config)
    save_model(model, model_path)
    return model
