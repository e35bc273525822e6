"""Score request records without the per-request cost of pandas.

The fitted ``Pipeline`` is compiled once: the ``ColumnTransformer``'s learnt parameters (imputation values,
category codes) become plain lookups, and records go straight into the float matrix the estimator was
trained on. The estimator itself is the fitted one. For pipelines of another shape the generic path builds
a ``DataFrame`` and calls the pipeline. Either way the scores equal ``pipeline.predict_proba`` exactly (a
test checks every test-split record over HTTP).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

from mlship.data.schema import CENSUS, FloatArray, Schema


class Predictor(Protocol):
    def predict_proba(self, records: Sequence[Any]) -> FloatArray:
        """Probability of the positive class for each record (objects with one attribute per feature)."""


class PipelinePredictor:
    """Generic path: records → ``DataFrame`` (schema dtypes) → ``pipeline.predict_proba``."""

    def __init__(self, pipeline: Pipeline, schema: Schema = CENSUS) -> None:
        self.pipeline = pipeline
        self.schema = schema
        self.names = schema.feature_names

    def predict_proba(self, records: Sequence[Any]) -> FloatArray:
        rows = [[getattr(record, name) for name in self.names] for record in records]
        frame = pd.DataFrame(rows, columns=self.names)
        for column in self.schema.numeric:
            frame[column.name] = frame[column.name].astype("float64" if column.nullable else "int64")
        for name in self.schema.categorical_names:
            # A missing category must be NaN, as in training: SimpleImputer does not treat None as missing.
            values = frame[name].astype(object)
            frame[name] = values.where(values.notna(), np.nan)
        return np.asarray(self.pipeline.predict_proba(frame)[:, 1], dtype=np.float64)


class BoostedTrees:
    """``HistGradientBoostingClassifier.predict_proba`` without its per-call overhead.

    Per call, scikit-learn re-validates the input and rebuilds the known-category bitsets (~1.5 ms of a
    2.5 ms single-record prediction here). This keeps the fitted trees, the baseline and the loss, builds
    the bitsets once, and adds the trees' outputs in the same order as scikit-learn's ``_raw_predict``, so
    the result is bit-identical. It relies on private attributes of scikit-learn 1.7 (pinned in
    ``pyproject.toml``); ``compile_predictor`` falls back to the public API if they are missing.
    """

    def __init__(self, estimator: Any) -> None:
        self.baseline = estimator._baseline_prediction
        self.predictors = estimator._predictors
        self.loss = estimator._loss
        self.trees_per_iteration = int(estimator.n_trees_per_iteration_)
        self.bitsets, self.feature_map = estimator._bin_mapper.make_known_categories_bitsets()

    def predict_proba(self, matrix: FloatArray) -> FloatArray:
        raw = np.zeros((matrix.shape[0], self.trees_per_iteration), dtype=self.baseline.dtype, order="F")
        raw += self.baseline
        for iteration in self.predictors:
            for k, predictor in enumerate(iteration):
                raw[:, k] += predictor.predict(matrix, self.bitsets, self.feature_map, 1)
        return np.asarray(self.loss.predict_proba(raw), dtype=np.float64)


class CompiledPredictor:
    """Fast path for the ordinal-encoded gradient-boosting pipeline built by ``mlship.train``.

    Two encodings are folded into one lookup per categorical column: ``mlship.features``' own
    (category → ordinal code) and the one ``HistGradientBoostingClassifier`` applies internally to its
    categorical inputs (ordinal code → the index of that code among the codes seen in training, unseen →
    missing; its internal layout puts categorical columns first).
    """

    def __init__(self, pipeline: Pipeline, schema: Schema = CENSUS) -> None:
        features = pipeline.named_steps["features"]
        estimator = pipeline.named_steps["estimator"]
        if type(estimator).__name__ != "HistGradientBoostingClassifier":
            raise TypeError("the fast path is for HistGradientBoostingClassifier")
        numeric = features.named_transformers_["numeric"]
        categorical = features.named_transformers_["categorical"]
        if [n for n, _ in numeric.steps] != ["impute"] or [n for n, _ in categorical.steps] != [
            "impute",
            "encode",
        ]:
            raise TypeError("not the ordinal-encoded pipeline built by mlship.features")
        if list(features.get_feature_names_out()) != [*schema.numeric_names, *schema.categorical_names]:
            raise TypeError("pipeline columns do not match the schema")
        encoder = categorical.named_steps["encode"]
        if not isinstance(encoder, OrdinalEncoder):
            raise TypeError("categorical encoder is not ordinal")
        inner = estimator._preprocessor
        expected_mask = [False] * len(schema.numeric) + [True] * len(schema.categorical)
        if inner is None or list(inner.transformers_[0][2]) != expected_mask:
            raise TypeError("unexpected internal layout of the gradient-boosting model")
        inner_categories = inner.named_transformers_["encoder"].categories_
        fill = categorical.named_steps["impute"].fill_value
        self.codes: list[dict[Any, float]] = []
        for outer, seen in zip(encoder.categories_, inner_categories, strict=True):
            position = {float(code): float(index) for index, code in enumerate(seen)}
            mapping = {value: position.get(float(code), np.nan) for code, value in enumerate(outer)}
            mapping[None] = mapping.get(fill, np.nan)
            self.codes.append(mapping)
        imputer: SimpleImputer = numeric.named_steps["impute"]
        self.medians = [float(v) for v in imputer.statistics_]
        self.numeric = schema.numeric_names
        self.categorical = schema.categorical_names
        self.trees = BoostedTrees(estimator)

    def matrix(self, records: Sequence[Any]) -> FloatArray:
        """Rows in the layout the fitted trees read: categorical codes first, then the numbers."""
        numeric, categorical, medians, codes = self.numeric, self.categorical, self.medians, self.codes
        rows = []
        for record in records:
            row = [
                mapping.get(getattr(record, name), np.nan)
                for name, mapping in zip(categorical, codes, strict=True)
            ]
            row += [
                median if (value := getattr(record, name)) is None else float(value)
                for name, median in zip(numeric, medians, strict=True)
            ]
            rows.append(row)
        return np.asarray(rows, dtype=np.float64)

    def predict_proba(self, records: Sequence[Any]) -> FloatArray:
        return self.trees.predict_proba(self.matrix(records))[:, 1]


def compile_predictor(pipeline: Pipeline, schema: Schema = CENSUS) -> Predictor:
    """The fastest exact predictor for ``pipeline``."""
    try:
        return CompiledPredictor(pipeline, schema)
    except (TypeError, KeyError, AttributeError):
        return PipelinePredictor(pipeline, schema)
