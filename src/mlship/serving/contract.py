"""The HTTP contract, derived from the data schema: a new column in ``schema.yaml`` is a new request field.

Integers are strict integers within the schema's range (``"39"`` and ``39.5`` are refused, not coerced);
floats are finite numbers within range; booleans are JSON ``true``/``false``; categories are the schema's
literals; nullable features may be ``null`` or omitted; unknown fields are refused. Every violation becomes a
400 whose body names the field (``detail[].loc``). The response follows the task: a binary classifier
answers the positive class's probability and the label, a multiclass one the label and every class's
probability, a regressor the predicted value.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from mlship.data.schema import CategoricalColumn, NumericColumn, Schema
from mlship.tasks import Task


def _categorical_type(column: CategoricalColumn) -> Any:
    return Literal[column.categories]  # a Literal over the declared categories


def _numeric_type(column: NumericColumn) -> Any:
    if column.kind == "boolean":
        return Annotated[bool, Field(strict=True, description=column.description)]
    low, high = column.minimum, column.maximum
    if column.kind == "integer":
        return Annotated[
            int,
            Field(
                ge=None if low is None else int(low),
                le=None if high is None else int(high),
                strict=True,
                description=column.description,
            ),
        ]
    return Annotated[
        float, Field(ge=low, le=high, strict=True, allow_inf_nan=False, description=column.description)
    ]


def record_model(schema: Schema) -> type[BaseModel]:
    """The per-record request model for ``schema``."""
    fields: dict[str, Any] = {}
    annotated: Any
    for column in schema.features:
        if isinstance(column, NumericColumn):
            annotated = _numeric_type(column)
        else:
            annotated = Annotated[_categorical_type(column), Field(description=column.description)]
        fields[column.name] = (annotated | None, None) if column.nullable else (annotated, ...)
    return create_model(
        "Record",
        __config__=ConfigDict(extra="forbid", frozen=True),
        __doc__="One record to score. Fields, ranges and categories come from the data schema.",
        **fields,
    )


def records_type(max_records: int, schema: Schema) -> Any:
    """The ``records`` argument of ``predict``: 1 to ``max_records`` records of ``record_model(schema)``."""
    record = record_model(schema)
    return Annotated[list[record], Field(min_length=1, max_length=max_records)]  # type: ignore[valid-type]


class BinaryPrediction(BaseModel):
    """A binary classifier's answer for one record, in request order."""

    probability: float = Field(ge=0.0, le=1.0, description="probability of the positive label")
    label: str = Field(description="the positive label when probability >= threshold, else the other one")


class MulticlassPrediction(BaseModel):
    """A multiclass classifier's answer: the most probable label and every label's probability."""

    label: str
    probabilities: dict[str, float]


class RegressionPrediction(BaseModel):
    """A regressor's answer: the predicted value."""

    value: float


Prediction = BinaryPrediction | MulticlassPrediction | RegressionPrediction

PREDICTIONS: dict[Task, type[BaseModel]] = {
    "binary": BinaryPrediction,
    "multiclass": MulticlassPrediction,
    "regression": RegressionPrediction,
}


def response_type(task: Task) -> type[BaseModel]:
    """The ``predict`` response for ``task``: the model version, the threshold (binary) and predictions."""
    return create_model(
        "PredictResponse",
        __doc__="Predictions in request order.",
        model_version=(str, ...),
        threshold=(float | None, None),
        predictions=(list[PREDICTIONS[task]], ...),  # type: ignore[valid-type]
    )


class ModelMetadata(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model_name: str
    model_version: str
    git_sha: str
    data_sha256: str
    task: str
    threshold: float | None
    max_records: int
    estimator: str
    metrics: dict[str, Any]
    data_schema: dict[str, Any] = Field(
        description="the data contract: features, target, sensitive attributes"
    )
    example: dict[str, Any] = Field(description="a valid record for POST /predict")


def schema_description(schema: Schema) -> dict[str, Any]:
    """The request contract as plain JSON, served by ``metadata``: numbers (with their kind and range),
    categories, the target and the sensitive attributes."""
    target = schema.target
    target_doc: dict[str, Any] = {"name": target.name, "task": target.task}
    if target.is_classifier:
        target_doc["labels"] = list(target.classes)
    if target.task == "binary":
        target_doc.update(positive=target.positive, negative=target.negative)
    return {
        "numeric": {
            c.name: {"kind": c.kind, "min": c.low, "max": c.high, "nullable": c.nullable}
            for c in schema.numeric
        },
        "categorical": {
            c.name: {"categories": list(c.categories), "nullable": c.nullable} for c in schema.categorical
        },
        "target": target_doc,
        "sensitive": list(schema.sensitive),
    }


def example_record(schema: Schema) -> dict[str, Any]:
    """A valid request record (each number at the middle of its range, the first category, ``false``),
    served by ``metadata`` so a smoke test can make a real prediction without knowing the data."""
    record: dict[str, Any] = {}
    for column in schema.features:
        if isinstance(column, CategoricalColumn):
            record[column.name] = column.categories[0]
        elif column.kind == "boolean":
            record[column.name] = False
        else:
            low = column.minimum if column.minimum is not None else 0.0
            high = column.maximum if column.maximum is not None else max(low, 0.0)
            middle = low + (high - low) / 2
            record[column.name] = int(middle) if column.kind == "integer" else float(middle)
    return record
