"""Score request records without the per-request cost of pandas and of scikit-learn's input checks.

The fitted ``Pipeline`` is compiled once: the ``ColumnTransformer``'s learnt parameters (imputation values,
category codes) become plain lookups, and records go straight into the layout the estimator was trained on.
For the gradient-boosting model, small requests (the common single record) run the fitted trees as generated
Python (``GeneratedTrees``); large ones run scikit-learn's compiled tree code (``BoostedTrees``). For
pipelines of another shape the generic path builds a ``DataFrame`` and calls the pipeline. Every path gives
scores equal to ``pipeline.predict_proba``, bit for bit (``tests/serving/test_predictor.py`` and the HTTP
skew test check the whole test split).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
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


def _in_bitset(bitsets: Any, row: int, value: int) -> bool:
    return bool((int(bitsets[row, value // 32]) >> (value % 32)) & 1)


def _literal(value: float) -> str:
    """A Python literal that reads back as exactly ``value`` (``repr`` round-trips a float)."""
    if math.isfinite(value):
        return repr(float(value))
    return "INF" if value > 0 else "-INF"


class GeneratedTrees:
    """The fitted trees of a binary ``HistGradientBoostingClassifier`` as one generated Python function.

    Calling scikit-learn's predictor costs ~14 us per tree and call, whatever the number of rows: 1.8 ms for
    one record and 200 trees. The same trees as nested ``if``s cost a few microseconds each. The function
    takes one row in ``CompiledPredictor.rows``' layout and returns the raw score: the baseline plus each
    tree's leaf value, added in scikit-learn's order, so the sum is bit-identical. Each split routes exactly
    as ``_predict_one_from_raw_data`` in scikit-learn 1.7: a numeric value goes left when ``<= threshold``;
    a category goes left when in the split's left set, right when known to the model, and otherwise
    (missing, unseen) where the split sends missing values. The routing of every code is tabled once here,
    the missing direction last, so that code -1 (missing or unseen) reads it.
    """

    def __init__(self, trees: BoostedTrees, cardinalities: Sequence[int], n_numeric: int) -> None:
        if trees.trees_per_iteration != 1:
            raise TypeError("generated trees are for binary classification")
        self.loss = trees.loss
        known, f_idx_map = trees.bitsets, trees.feature_map
        n_categorical = len(cardinalities)
        arguments = [f"c{f}" for f in range(n_categorical)]
        arguments += [f"x{f}" for f in range(n_categorical, n_categorical + n_numeric)]
        tables: dict[str, tuple[bool, ...]] = {}
        lines = [
            "def score(row):",
            f"    {', '.join(arguments)}, = row",
            f"    s = 0.0 + {_literal(float(np.asarray(trees.baseline).ravel()[0]))}",
        ]

        def emit(predictor: Any, index: int, depth: int) -> None:
            node = predictor.nodes[index]
            pad = "    " * depth
            if node["is_leaf"]:
                lines.append(f"{pad}s += {_literal(float(node['value']))}")
                return
            feature = int(node["feature_idx"])
            missing_left = bool(node["missing_go_to_left"])
            if bool(node["is_categorical"]) != (feature < n_categorical):
                raise TypeError("unexpected internal layout of the gradient-boosting model")
            if feature < n_categorical:
                bitset = int(node["bitset_idx"])

                def left(code: int) -> bool:
                    if _in_bitset(predictor.raw_left_cat_bitsets, bitset, code):
                        return True
                    if _in_bitset(known, int(f_idx_map[feature]), code):
                        return False
                    return missing_left

                name = f"G{len(tables)}"
                tables[name] = (*(left(code) for code in range(cardinalities[feature])), missing_left)
                condition = f"{name}[c{feature}]"
            else:
                condition = f"x{feature} <= {_literal(float(node['num_threshold']))}"
            lines.append(f"{pad}if {condition}:")
            emit(predictor, int(node["left"]), depth + 1)
            lines.append(f"{pad}else:")
            emit(predictor, int(node["right"]), depth + 1)

        for iteration in trees.predictors:
            emit(iteration[0], 0, 1)
        lines.append("    return s")
        namespace: dict[str, Any] = {"INF": math.inf, **tables}
        # The source holds only numbers read from the fitted model (no text from it): a model is trusted
        # code already, as loading its pickle runs code.
        exec(compile("\n".join(lines), "<mlship generated trees>", "exec"), namespace)  # noqa: S102
        self.score: Callable[[Sequence[float]], float] = namespace["score"]

    def predict_proba(self, rows: Sequence[Sequence[float]]) -> FloatArray:
        score = self.score
        raw = np.asarray([score(row) for row in rows], dtype=np.float64).reshape(-1, 1)
        return np.asarray(self.loss.predict_proba(raw), dtype=np.float64)


class CompiledPredictor:
    """Fast path for the ordinal-encoded gradient-boosting pipeline built by ``mlship.train``.

    Two encodings are folded into one lookup per categorical column: ``mlship.features``' own
    (category → ordinal code) and the one ``HistGradientBoostingClassifier`` applies internally to its
    categorical inputs (ordinal code → the index of that code among the codes seen in training, unseen →
    missing; its internal layout puts categorical columns first). A category becomes its index among the
    codes seen in training, or -1 when missing or unseen: scikit-learn's trees route a negative code as
    missing, and the generated trees read their missing direction at index -1.

    Up to ``small_batch`` records go through ``GeneratedTrees`` (a few microseconds a tree and record);
    larger requests through scikit-learn's compiled trees (a fixed ~14 us a tree, then fast per record).
    """

    #: Below the size where scikit-learn's trees catch up (~128 records here; ``bench/serving.py`` prints it).
    small_batch = 64

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
        self.codes: list[dict[Any, int]] = []
        for outer, seen in zip(encoder.categories_, inner_categories, strict=True):
            position = {float(code): index for index, code in enumerate(seen)}
            mapping = {value: position.get(float(code), -1) for code, value in enumerate(outer)}
            mapping[None] = mapping.get(fill, -1)
            self.codes.append(mapping)
        imputer: SimpleImputer = numeric.named_steps["impute"]
        self.medians = [float(v) for v in imputer.statistics_]
        self.numeric = schema.numeric_names
        self.categorical = schema.categorical_names
        self.trees = BoostedTrees(estimator)
        self.generated: GeneratedTrees | None
        try:
            cardinalities = [len(seen) for seen in inner_categories]
            self.generated = GeneratedTrees(self.trees, cardinalities, len(self.numeric))
        except (TypeError, SyntaxError, RecursionError):  # another loss, or trees too deep to nest
            self.generated = None

    def rows(self, records: Sequence[Any]) -> list[list[Any]]:
        """Rows in the layout the fitted trees read: category codes (-1: missing or unseen), then numbers."""
        numeric, categorical, medians, codes = self.numeric, self.categorical, self.medians, self.codes
        return [
            [mapping.get(getattr(record, name), -1) for name, mapping in zip(categorical, codes, strict=True)]
            + [
                median if (value := getattr(record, name)) is None else float(value)
                for name, median in zip(numeric, medians, strict=True)
            ]
            for record in records
        ]

    def matrix(self, records: Sequence[Any]) -> FloatArray:
        """``rows`` as the float matrix scikit-learn's trees read."""
        return np.asarray(self.rows(records), dtype=np.float64)

    def predict_proba(self, records: Sequence[Any]) -> FloatArray:
        if self.generated is not None and len(records) <= self.small_batch:
            return self.generated.predict_proba(self.rows(records))[:, 1]
        return self.trees.predict_proba(self.matrix(records))[:, 1]


def compile_predictor(pipeline: Pipeline, schema: Schema = CENSUS) -> Predictor:
    """The fastest exact predictor for ``pipeline``."""
    try:
        return CompiledPredictor(pipeline, schema)
    except (TypeError, KeyError, AttributeError):
        return PipelinePredictor(pipeline, schema)
