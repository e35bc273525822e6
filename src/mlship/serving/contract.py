"""The HTTP contract, derived from the data schema: a new column in ``schema.py`` is a new request field.

Numbers are strict integers within the schema's range (``"39"`` and ``39.5`` are refused, not coerced);
categories are the schema's literals; nullable categoricals may be ``null`` or omitted; unknown fields are
refused. Every violation becomes a 400 whose body names the field (``detail[].loc``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from mlship.data.schema import CENSUS, CategoricalColumn, Schema


def _categorical_type(column: CategoricalColumn) -> Any:
    return Literal[column.categories]  # a Literal over the declared categories


def record_model(schema: Schema = CENSUS) -> type[BaseModel]:
    """The per-record request model for ``schema``."""
    fields: dict[str, Any] = {}
    annotated: Any
    for numeric in schema.numeric:
        annotated = Annotated[
            int, Field(ge=numeric.minimum, le=numeric.maximum, strict=True, description=numeric.description)
        ]
        fields[numeric.name] = (annotated | None, None) if numeric.nullable else (annotated, ...)
    for column in schema.categorical:
        annotated = Annotated[_categorical_type(column), Field(description=column.description)]
        fields[column.name] = (annotated | None, None) if column.nullable else (annotated, ...)
    return create_model(
        "Record",
        __config__=ConfigDict(extra="forbid", frozen=True),
        __doc__="One person to score. Fields, ranges and categories come from the data schema.",
        **fields,
    )


def records_type(max_records: int, schema: Schema = CENSUS) -> Any:
    """The ``records`` argument of ``predict``: 1 to ``max_records`` records of ``record_model(schema)``."""
    record = record_model(schema)
    return Annotated[list[record], Field(min_length=1, max_length=max_records)]  # type: ignore[valid-type]


class Prediction(BaseModel):
    """The model's answer for one record, in request order."""

    probability: float = Field(ge=0.0, le=1.0, description=f"probability of {CENSUS.target.positive}")
    label: str = Field(description=f"{CENSUS.target.positive!r} when probability >= threshold")


class PredictResponse(BaseModel):
    model_version: str
    threshold: float
    predictions: list[Prediction]


class ModelMetadata(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model_name: str
    model_version: str
    git_sha: str
    data_sha256: str
    threshold: float
    max_records: int
    estimator: str
    metrics: dict[str, Any]
    data_schema: dict[str, Any] = Field(description="the request contract: fields, ranges, categories")


def schema_description(schema: Schema = CENSUS) -> dict[str, Any]:
    """The data contract as plain JSON, served by ``metadata``."""
    return {
        "numeric": {
            c.name: {"min": c.minimum, "max": c.maximum, "nullable": c.nullable} for c in schema.numeric
        },
        "categorical": {
            c.name: {"categories": list(c.categories), "nullable": c.nullable} for c in schema.categorical
        },
        "target": {
            "name": schema.target.name,
            "positive": schema.target.positive,
            "negative": schema.target.negative,
        },
        "sensitive": list(schema.sensitive),
    }
