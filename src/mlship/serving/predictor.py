"""Score request records without the per-request cost of pandas and of scikit-learn's input checks.

A predictor returns the task's output for each record: a binary classifier's positive-class probability, a
multiclass classifier's probability of every class (one row per record), a regressor's value.

The fitted ``Pipeline`` is compiled once: the ``ColumnTransformer``'s learnt parameters (imputation values,
category codes) become plain lookups, and records go straight into the layout the estimator was trained on.
For the gradient-boosting model, small requests (the common single record) run the fitted trees as generated
Python (``GeneratedTrees``); large ones run scikit-learn's compiled tree code (``BoostedTrees``). For
pipelines of another shape the generic path builds a ``DataFrame`` and calls the pipeline. Every path gives
scores equal to the pipeline's, bit for bit (``tests/serving/test_predictor.py`` and the HTTP skew test
check the whole test split). ``compile_predictor`` decides once, at start-up, which path serves: the fast one
only if it builds and agrees exactly with the pipeline on records spanning the schema; otherwise the generic
one. Nothing is decided per request, so a request never fails for a reason the start-up could have seen.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

from mlship.data.schema import CategoricalColumn, FloatArray, Schema
from mlship.tasks import Task

logger = logging.getLogger(__name__)


class Predictor(Protocol):
    def predict(self, records: Sequence[Any]) -> FloatArray:
        """The task's output for each record (objects with one attribute per feature)."""


def finish(output: FloatArray, task: Task) -> FloatArray:
    """Class probabilities (n x k) or values (n) → what the service answers: binary keeps the positive
    class's column; multiclass every column; regression the values."""
    if task == "binary":
        return np.asarray(output[:, 1], dtype=np.float64)
    return np.asarray(output, dtype=np.float64)


class PipelinePredictor:
    """Generic path: records → ``DataFrame`` (schema dtypes) → ``pipeline.predict_proba`` (or ``predict``)."""

    def __init__(self, pipeline: Pipeline, schema: Schema) -> None:
        self.pipeline = pipeline
        self.schema = schema
        self.names = schema.feature_names

    def frame(self, records: Sequence[Any]) -> pd.DataFrame:
        rows = [[getattr(record, name) for name in self.names] for record in records]
        frame = pd.DataFrame(rows, columns=self.names)
        dtypes = self.schema.pandas_dtypes()
        for column in self.schema.numeric:
            dtype: Any = dtypes[column.name]
            frame[column.name] = frame[column.name].astype(object).astype(dtype)
        for name in self.schema.categorical_names:
            # A missing category must be NaN, as in training: SimpleImputer does not treat None as missing.
            values = frame[name].astype(object)
            frame[name] = values.where(values.notna(), np.nan)
        return frame

    def predict(self, records: Sequence[Any]) -> FloatArray:
        frame = self.frame(records)
        if self.schema.target.is_classifier:
            return finish(np.asarray(self.pipeline.predict_proba(frame), dtype=np.float64), self.schema.task)
        return np.asarray(self.pipeline.predict(frame), dtype=np.float64)


class BoostedTrees:
    """``HistGradientBoosting{Classifier,Regressor}`` predictions without their per-call overhead.

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
        self.classifier = hasattr(estimator, "classes_")

    def output(self, raw: FloatArray) -> FloatArray:
        """Raw scores → class probabilities (classifier) or values (regressor), as scikit-learn does."""
        if self.classifier:
            return np.asarray(self.loss.predict_proba(raw), dtype=np.float64)
        return np.asarray(self.loss.link.inverse(raw.ravel()), dtype=np.float64)

    def predict(self, matrix: FloatArray) -> FloatArray:
        raw = np.zeros((matrix.shape[0], self.trees_per_iteration), dtype=self.baseline.dtype, order="F")
        raw += self.baseline
        for iteration in self.predictors:
            for k, predictor in enumerate(iteration):
                raw[:, k] += predictor.predict(matrix, self.bitsets, self.feature_map, 1)
        return self.output(raw)


def _in_bitset(bitsets: Any, row: int, value: int) -> bool:
    return bool((int(bitsets[row, value // 32]) >> (value % 32)) & 1)


def _literal(value: float) -> str:
    """A Python literal that reads back as exactly ``value`` (``repr`` round-trips a float)."""
    if math.isfinite(value):
        return repr(float(value))
    return "INF" if value > 0 else "-INF"


class GeneratedTrees:
    """The fitted trees of a binary ``HistGradientBoostingClassifier`` (or of a regressor) as one generated
    Python function.

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
            raise TypeError("generated trees are for one tree per iteration (binary or regression)")
        self.trees = trees
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

    def predict(self, rows: Sequence[Sequence[float]]) -> FloatArray:
        score = self.score
        raw = np.asarray([score(row) for row in rows], dtype=np.float64).reshape(-1, 1)
        return self.trees.output(raw)


class CompiledPredictor:
    """Fast path for the ordinal-encoded gradient-boosting pipeline built by ``mlship.train`` (any task).

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

    def __init__(self, pipeline: Pipeline, schema: Schema) -> None:
        features = pipeline.named_steps["features"]
        estimator = pipeline.named_steps["estimator"]
        if type(estimator).__name__ not in {
            "HistGradientBoostingClassifier",
            "HistGradientBoostingRegressor",
        }:
            raise TypeError("the fast path is for scikit-learn's histogram gradient boosting")
        self.task = schema.task
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

    def predict(self, records: Sequence[Any]) -> FloatArray:
        if self.generated is not None and len(records) <= self.small_batch:
            return finish(self.generated.predict(self.rows(records)), self.task)
        return finish(self.trees.predict(self.matrix(records)), self.task)


def probe_records(schema: Schema) -> list[SimpleNamespace]:
    """Records spanning the schema: each bound of each number, each category, each missing value."""
    base: dict[str, Any] = {}
    variants: list[dict[str, Any]] = []
    for column in schema.features:
        if isinstance(column, CategoricalColumn):
            values: list[Any] = list(column.categories)
        elif column.kind == "boolean":
            values = [False, True]
        else:
            bounds = [b for b in (column.minimum, column.maximum) if b is not None] or [0.0]
            values = [int(b) if column.kind == "integer" else float(b) for b in bounds]
        if column.nullable:
            values.append(None)
        base[column.name] = values[0]
        variants += [{column.name: value} for value in values[1:]]
    return [SimpleNamespace(**{**base, **variant}) for variant in [{}, *variants]]


def agrees(fast: Predictor, reference: Predictor, records: Sequence[Any], batch: int) -> bool:
    """Whether ``fast`` gives exactly ``reference``'s output, in batches and one record at a time.

    The reference scores batches only: a fitted pipeline gives each row the same output alone or in a batch
    (``tests/test_train.py``), so its batch rows are what it would answer one record at a time, and start-up
    does not spend ~15 ms of pandas per record on it."""
    expected: list[FloatArray] = []
    for start in range(0, len(records), batch):
        chunk = records[start : start + batch]
        output = reference.predict(chunk)
        if not np.array_equal(fast.predict(chunk), output):
            return False
        expected.append(output)
    rows = np.concatenate(expected) if expected else np.empty(0)
    return all(np.array_equal(fast.predict([r]), rows[i : i + 1]) for i, r in enumerate(records[:batch]))


def compile_predictor(pipeline: Pipeline, schema: Schema) -> Predictor:
    """The fastest exact predictor for ``pipeline``, decided once: the compiled path if it builds and agrees
    bit for bit with the pipeline on ``probe_records``, else the pipeline itself."""
    reference = PipelinePredictor(pipeline, schema)
    try:
        fast = CompiledPredictor(pipeline, schema)
        records = probe_records(schema)
        large = (records * (fast.small_batch // len(records) + 2))[: fast.small_batch + 1]
        if agrees(fast, reference, records, fast.small_batch) and agrees(fast, reference, large, len(large)):
            return fast
        logger.warning("compiled predictor disagrees with the pipeline; serving with the pipeline")
    except Exception as error:
        logger.warning(
            "compiled predictor unavailable (%s: %s); serving with the pipeline", type(error).__name__, error
        )
    return reference
