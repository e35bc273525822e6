"""The data contract, loaded from ``schema.yaml``: columns, kinds, ranges, categories, the target and its
task, the sensitive attributes and the reader's options.

This module is the one place that knows what a dataset looks like, and it knows it only from the declaration
file (``data.schema`` in ``params.yaml``). Validation, the features, the checks, the gates' slices, the
service's request contract and the test strategies are derived from the :class:`Schema` it returns.
FORK: edit ``schema.yaml`` (or let ``mlship init`` draft it), never this module.
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from mlship import declared
from mlship.tasks import Task

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
TargetArray = npt.NDArray[Any]

NumericKind = Literal["integer", "float", "boolean"]

#: Text a boolean column may hold, compared case-insensitively.
TRUE_TEXT = frozenset({"true", "t", "yes", "y", "1"})
FALSE_TEXT = frozenset({"false", "f", "no", "n", "0"})


class SchemaError(declared.DeclarationError):
    """``schema.yaml`` is missing, unreadable or inconsistent; the message names the key."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class NumericColumn(_Frozen):
    """A number: ``integer`` (whole numbers), ``float``, or ``boolean`` (true/false, used as 1/0)."""

    name: str = Field(min_length=1)
    kind: NumericKind = "integer"
    minimum: float | None = Field(default=None, alias="min", description="inclusive lower bound")
    maximum: float | None = Field(default=None, alias="max", description="inclusive upper bound")
    nullable: bool = False
    description: str = ""
    pii: bool = Field(default=False, description="personal data: never written raw by the service's capture")

    @model_validator(mode="after")
    def _bounds(self) -> NumericColumn:
        if self.kind == "boolean" and (self.minimum is not None or self.maximum is not None):
            raise ValueError(f"{self.name}: a boolean column takes no min/max")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"{self.name}: min {self.minimum} > max {self.maximum}")
        if self.kind == "integer":
            for bound in (self.minimum, self.maximum):
                if bound is not None and not float(bound).is_integer():
                    raise ValueError(f"{self.name}: an integer column needs whole-number bounds, got {bound}")
        return self

    @property
    def low(self) -> float | None:
        return 0.0 if self.kind == "boolean" else self.minimum

    @property
    def high(self) -> float | None:
        return 1.0 if self.kind == "boolean" else self.maximum


class CategoricalColumn(_Frozen):
    """Text restricted to a closed set of categories."""

    name: str = Field(min_length=1)
    kind: Literal["categorical"] = "categorical"
    categories: tuple[str, ...] = Field(min_length=1)
    nullable: bool = False
    description: str = ""
    pii: bool = Field(default=False, description="personal data: never written raw by the service's capture")

    @model_validator(mode="after")
    def _unique(self) -> CategoricalColumn:
        if len(set(self.categories)) != len(self.categories):
            raise ValueError(f"{self.name}: categories repeat")
        return self


Column = Annotated[NumericColumn | CategoricalColumn, Field(discriminator="kind")]


class Target(_Frozen):
    """What the model predicts. Classifiers encode labels as class indices (binary: positive = 1)."""

    name: str = Field(min_length=1)
    task: Task
    labels: tuple[str, ...] = ()
    positive: str | None = None

    @model_validator(mode="after")
    def _fits_task(self) -> Target:
        if self.task == "regression":
            if self.labels or self.positive is not None:
                raise ValueError("a regression target takes no labels or positive label")
            return self
        if len(set(self.labels)) != len(self.labels):
            raise ValueError("target.labels repeat")
        if self.task == "binary":
            if len(self.labels) != 2:
                raise ValueError(f"a binary target needs exactly 2 labels, got {len(self.labels)}")
            if self.positive not in self.labels:
                raise ValueError(f"target.positive {self.positive!r} is not one of {list(self.labels)}")
        else:
            if len(self.labels) < 3:
                raise ValueError("a multiclass target needs at least 3 labels (2 is task: binary)")
            if self.positive is not None:
                raise ValueError("target.positive applies to a binary target only")
        return self

    @property
    def is_classifier(self) -> bool:
        return self.task != "regression"

    @property
    def classes(self) -> tuple[str, ...]:
        """Labels in class-index order: binary ``(negative, positive)``; multiclass as declared."""
        if self.task == "binary":
            negative = next(label for label in self.labels if label != self.positive)
            return (negative, str(self.positive))
        return self.labels

    @property
    def negative(self) -> str:
        return self.classes[0]


class Reader(_Frozen):
    """How the raw file is read (defaults: a plain comma-separated file with a header row)."""

    format: Literal["csv", "parquet"] = "csv"
    separator: str = Field(default=",", min_length=1)
    na_values: tuple[str, ...] = ()
    index_col: int | None = Field(default=None, ge=0)
    skipinitialspace: bool = False
    drop: tuple[str, ...] = Field(default=(), description="source columns the model does not use (ids, text)")
    rename: dict[str, str] = Field(default_factory=dict)


class Schema(_Frozen):
    """The whole declaration; features keep their declared order."""

    reader: Reader = Field(default_factory=Reader)
    target: Target
    sensitive: tuple[str, ...] = ()
    features: tuple[Column, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Schema:
        names = [column.name for column in self.features]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"features repeat: {', '.join(repeated)}")
        if self.target.name in names:
            raise ValueError(f"target {self.target.name!r} is also declared as a feature")
        by_name = {column.name: column for column in self.features}
        for attribute in self.sensitive:
            column = by_name.get(attribute)
            if column is None:
                raise ValueError(f"sensitive attribute {attribute!r} is not a feature")
            if isinstance(column, NumericColumn) and column.kind != "boolean":
                raise ValueError(f"sensitive attribute {attribute!r} must be categorical or boolean")
        return self

    @property
    def numeric(self) -> tuple[NumericColumn, ...]:
        return tuple(c for c in self.features if isinstance(c, NumericColumn))

    @property
    def categorical(self) -> tuple[CategoricalColumn, ...]:
        return tuple(c for c in self.features if isinstance(c, CategoricalColumn))

    @property
    def feature_names(self) -> list[str]:
        return [column.name for column in self.features]

    @property
    def pii_names(self) -> list[str]:
        """Columns marked personal (``pii: true``): the capture drops or hashes them."""
        return [c.name for c in self.features if c.pii]

    @property
    def numeric_names(self) -> list[str]:
        return [column.name for column in self.numeric]

    @property
    def categorical_names(self) -> list[str]:
        return [column.name for column in self.categorical]

    @property
    def task(self) -> Task:
        return self.target.task

    @property
    def columns(self) -> list[str]:
        """Feature columns then the target: the layout of every processed file."""
        return [*self.feature_names, self.target.name]

    def column(self, name: str) -> NumericColumn | CategoricalColumn:
        for column in self.features:
            if column.name == name:
                return column
        raise KeyError(f"unknown column {name!r}; known: {', '.join(self.feature_names)}")

    def pandas_dtypes(self) -> dict[Hashable, str]:
        """Dtypes of a processed frame (nullable integers and booleans are float so NaN fits)."""
        dtypes: dict[Hashable, str] = {}
        for column in self.numeric:
            whole = column.kind in {"integer", "boolean"}
            dtypes[column.name] = "int64" if whole and not column.nullable else "float64"
        dtypes.update({c.name: "object" for c in self.categorical})
        dtypes[self.target.name] = "int64" if self.target.is_classifier else "float64"
        return dtypes


def parse_schema(raw: Any, source: Path = Path("schema.yaml")) -> Schema:
    """Validate an already-parsed mapping; errors name every offending key."""
    return declared.parse(raw, Schema, source, SchemaError, "declaration", show_input=False)


def load_schema(path: Path) -> Schema:
    """Read and validate the schema declaration."""
    return declared.load(path, Schema, SchemaError, "the data schema", "declaration", show_input=False)


def schema_document(schema: Schema) -> dict[str, Any]:
    """The schema as the plain mapping ``schema.yaml`` holds (``min``/``max`` spelt as in the file)."""
    return schema.model_dump(mode="json", by_alias=True, exclude_none=True)


def read_source(path: Path, schema: Schema) -> pd.DataFrame:
    """Read the raw file as text with the schema's reader options and canonical column names.

    Every value is kept as text (missing values as ``NaN``) so validation can count what does not parse
    instead of failing on it.
    """
    return read_table(path, schema.reader)


def read_table(path: Path, reader: Reader) -> pd.DataFrame:
    """Read a raw file with ``reader``'s options: text values, ``drop`` columns removed, names canonical."""
    if reader.format == "parquet":
        frame = pd.read_parquet(path)
        if reader.index_col is not None:
            frame = frame.drop(columns=frame.columns[reader.index_col])
        missing = frame.isna()
        frame = frame.astype(str).mask(missing)
        if reader.na_values:
            frame = frame.mask(frame.isin(reader.na_values))
    else:
        frame = pd.read_csv(
            path,
            sep=reader.separator,
            index_col=reader.index_col,
            skipinitialspace=reader.skipinitialspace,
            na_values=list(reader.na_values),
            dtype=str,
            keep_default_na=True,
        )
    absent = [name for name in reader.drop if name not in frame.columns]
    if absent:
        raise SchemaError(f"reader.drop names column(s) the file does not have: {', '.join(absent)}")
    frame = frame.drop(columns=list(reader.drop)).rename(columns=reader.rename)
    frame.columns = [str(name) for name in frame.columns]
    return frame.reset_index(drop=True)


def read_processed(path: Path, schema: Schema) -> pd.DataFrame:
    """Read a processed (validated, train or test) CSV with the schema's dtypes."""
    return pd.read_csv(path, dtype=schema.pandas_dtypes(), keep_default_na=False, na_values=[""])


def write_processed(frame: pd.DataFrame, path: Path) -> None:
    """Write a processed frame deterministically (no index, ``\\n`` line endings)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    frame.to_csv(partial, index=False, lineterminator="\n")
    partial.replace(path)


def split_xy(frame: pd.DataFrame, schema: Schema) -> tuple[pd.DataFrame, TargetArray]:
    """Features (in declared order, selected by name) and the encoded target (class index or value)."""
    dtype = np.int64 if schema.target.is_classifier else np.float64
    return frame[schema.feature_names], frame[schema.target.name].to_numpy(dtype=dtype)
