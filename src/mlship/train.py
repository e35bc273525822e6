"""Stage ``train``: fit the model ``Pipeline`` (preprocessing + estimator) and save it as one artifact.

FORK: add or change estimators in ``build_model``; select one with ``model.estimator`` in ``params.yaml``.
"""

from __future__ import annotations

from pathlib import Path

import joblib
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from mlship.config import Estimator, ModelConfig
from mlship.data.schema import Schema, TargetArray, read_processed, split_xy
from mlship.features import build_preprocessor, categorical_mask


class ModelConfigError(ValueError):
    """The model section asks for something the chosen estimator cannot do."""


def monotonic_constraints(config: ModelConfig, schema: Schema) -> list[int]:
    """``model.monotonic`` as gradient boosting's ``monotonic_cst``, aligned to the encoded columns."""
    unknown = sorted(set(config.monotonic) - set(schema.numeric_names))
    if unknown:
        raise ModelConfigError(
            f"model.monotonic: {', '.join(unknown)} is not a numeric feature "
            f"(numeric features: {', '.join(schema.numeric_names)})"
        )
    if schema.task == "multiclass" and config.monotonic:
        raise ModelConfigError(
            "model.monotonic: gradient boosting honours it for binary and regression tasks only"
        )
    numeric = [config.monotonic.get(name, 0) for name in schema.numeric_names]
    return numeric + [0] * len(schema.categorical)


def build_model(config: ModelConfig, schema: Schema, estimator_name: Estimator | None = None) -> Pipeline:
    """An unfitted ``Pipeline`` for the configured estimator (or ``estimator_name``, e.g. the simple model),
    a classifier or a regressor as the schema's task asks.

    Monotonic constraints apply to the candidate only; the simple model is the unconstrained reference.
    """
    name = estimator_name or config.estimator
    candidate = estimator_name is None
    classifier = schema.target.is_classifier
    estimator: BaseEstimator
    if name == "hist_gradient_boosting":
        hgb = config.hist_gradient_boosting
        settings = {
            "learning_rate": hgb.learning_rate,
            "max_iter": hgb.max_iter,
            "max_leaf_nodes": hgb.max_leaf_nodes,
            "min_samples_leaf": hgb.min_samples_leaf,
            "l2_regularization": hgb.l2_regularization,
            "categorical_features": categorical_mask(schema),
            "monotonic_cst": monotonic_constraints(config, schema)
            if candidate and config.monotonic
            else None,
            "early_stopping": hgb.early_stopping,
            "validation_fraction": hgb.validation_fraction,
            "n_iter_no_change": hgb.n_iter_no_change,
            "random_state": config.seed,
        }
        estimator = (
            HistGradientBoostingClassifier(**settings)
            if classifier
            else HistGradientBoostingRegressor(**settings)
        )
        preprocessor = build_preprocessor(schema, "ordinal")
    else:
        if candidate and config.monotonic:
            raise ModelConfigError(
                f"model.monotonic is honoured only by hist_gradient_boosting, not {name}: "
                "remove the constraints or choose that estimator"
            )
        linear = config.linear
        estimator = (
            LogisticRegression(C=linear.C, max_iter=linear.max_iter, random_state=config.seed)
            if classifier
            else Ridge(alpha=1.0 / linear.C, max_iter=linear.max_iter, random_state=config.seed)
        )
        preprocessor = build_preprocessor(schema, "one_hot")
    return Pipeline([("features", preprocessor), ("estimator", estimator)])


def train(
    features: pd.DataFrame,
    target: TargetArray,
    config: ModelConfig,
    schema: Schema,
    estimator_name: Estimator | None = None,
) -> Pipeline:
    """Fit a fresh model on ``features`` (selected by name, so column order does not matter)."""
    model = build_model(config, schema, estimator_name)
    model.fit(features, target)
    return _machine_independent(model)


def _machine_independent(model: Pipeline) -> Pipeline:
    """Forget how many cores the fit used, the one thing in the artifact that depends on the machine.

    Gradient boosting's fitted bin mapper keeps the OpenMP thread count of the machine that trained it
    (``n_threads``; scikit-learn 1.7). The trees are identical at any thread count, but the pickled bytes,
    and so the model's hash in ``dvc.lock``, differed between a 2-core CI runner, a 4-core one and an
    8-core laptop. The mapper only bins data during ``fit``; ``None`` there means "the machine's default",
    what a fit on any machine asks for.
    """
    mapper = getattr(model.steps[-1][1], "_bin_mapper", None)
    if mapper is not None and hasattr(mapper, "n_threads"):
        mapper.n_threads = None
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


def run(
    config: ModelConfig, schema: Schema, train_path: Path, model_path: Path, simple_model_path: Path
) -> Pipeline:
    """CLI entry: train the candidate and the simple reference model on the train split; save both."""
    features, target = split_xy(read_processed(train_path, schema), schema)
    model = train(features, target, config, schema)
    save_model(train(features, target, config, schema, estimator_name=config.simple_model), simple_model_path)
    save_model(model, model_path)
    return model
