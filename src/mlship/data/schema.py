"""The data contract: the one place columns, dtypes, categories, ranges, target and sensitive attributes live.

FORK: describe your own data here. Validation, the features, the checks and the service's request model are
all derived from this module, so a new column is declared once.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class NumericColumn:
    """An integer-valued feature with an inclusive plausible range."""

    name: str
    minimum: int
    maximum: int
    description: str
    nullable: bool = False


@dataclass(frozen=True)
class CategoricalColumn:
    """A string feature restricted to a fixed set of categories."""

    name: str
    categories: tuple[str, ...]
    description: str
    nullable: bool = False


@dataclass(frozen=True)
class Target:
    """The binary label: ``positive`` maps to 1, ``negative`` to 0."""

    name: str
    positive: str
    negative: str


@dataclass(frozen=True)
class Schema:
    """Columns in their canonical order, plus the mapping from the source's names."""

    numeric: tuple[NumericColumn, ...]
    categorical: tuple[CategoricalColumn, ...]
    target: Target
    sensitive: tuple[str, ...]
    source_names: dict[str, str]

    @property
    def features(self) -> tuple[NumericColumn | CategoricalColumn, ...]:
        return (*self.numeric, *self.categorical)

    @property
    def feature_names(self) -> list[str]:
        return [column.name for column in self.features]

    @property
    def numeric_names(self) -> list[str]:
        return [column.name for column in self.numeric]

    @property
    def categorical_names(self) -> list[str]:
        return [column.name for column in self.categorical]

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
        """Dtypes of a processed frame (nullable numerics are float so NaN fits)."""
        dtypes: dict[Hashable, str] = {c.name: ("float64" if c.nullable else "int64") for c in self.numeric}
        dtypes.update({c.name: "object" for c in self.categorical})
        dtypes[self.target.name] = "int64"
        return dtypes


CENSUS: Final = Schema(
    numeric=(
        NumericColumn("age", 16, 100, "age in years"),
        NumericColumn("education_num", 1, 16, "years of education, ordinal"),
        NumericColumn("capital_gain", 0, 100_000, "capital gains in the year, USD"),
        NumericColumn("capital_loss", 0, 10_000, "capital losses in the year, USD"),
        NumericColumn("hours_per_week", 1, 99, "hours worked per week"),
    ),
    categorical=(
        CategoricalColumn(
            "workclass",
            (
                "Federal-gov",
                "Local-gov",
                "Never-worked",
                "Private",
                "Self-emp-inc",
                "Self-emp-not-inc",
                "State-gov",
                "Without-pay",
            ),
            "employer type",
            nullable=True,
        ),
        CategoricalColumn(
            "education",
            (
                "10th",
                "11th",
                "12th",
                "1st-4th",
                "5th-6th",
                "7th-8th",
                "9th",
                "Assoc-acdm",
                "Assoc-voc",
                "Bachelors",
                "Doctorate",
                "HS-grad",
                "Masters",
                "Preschool",
                "Prof-school",
                "Some-college",
            ),
            "highest education level",
        ),
        CategoricalColumn(
            "marital_status",
            (
                "Divorced",
                "Married-AF-spouse",
                "Married-civ-spouse",
                "Married-spouse-absent",
                "Never-married",
                "Separated",
                "Widowed",
            ),
            "marital status",
        ),
        CategoricalColumn(
            "occupation",
            (
                "Adm-clerical",
                "Armed-Forces",
                "Craft-repair",
                "Exec-managerial",
                "Farming-fishing",
                "Handlers-cleaners",
                "Machine-op-inspct",
                "Other-service",
                "Priv-house-serv",
                "Prof-specialty",
                "Protective-serv",
                "Sales",
                "Tech-support",
                "Transport-moving",
            ),
            "occupation",
            nullable=True,
        ),
        CategoricalColumn(
            "relationship",
            ("Husband", "Not-in-family", "Other-relative", "Own-child", "Unmarried", "Wife"),
            "role in the household",
        ),
        CategoricalColumn(
            "ethnicity",
            ("Amer-Indian-Eskimo", "Asian-Pac-Islander", "Black", "Other", "White"),
            "ethnicity (sensitive)",
        ),
        CategoricalColumn("gender", ("Female", "Male"), "gender (sensitive)"),
    ),
    target=Target("loan", positive=">50K", negative="<=50K"),
    sensitive=("gender", "ethnicity"),
    source_names={
        "education-num": "education_num",
        "marital-status": "marital_status",
        "capital-gain": "capital_gain",
        "capital-loss": "capital_loss",
        "hours-per-week": "hours_per_week",
    },
)
"""FORK: the schema of the default data (UCI Adult census income)."""


def read_source_csv(path: Path, schema: Schema = CENSUS) -> pd.DataFrame:
    """Read the raw source as strings, with the source's conventions (index column, padded values, ``?``).

    Every value is kept as text so validation can count what does not parse instead of failing on it.
    """
    frame = pd.read_csv(
        path,
        index_col=0,
        skipinitialspace=True,
        na_values=["?"],
        dtype=str,
        keep_default_na=True,
    )
    return frame.rename(columns=schema.source_names)


def read_processed(path: Path, schema: Schema = CENSUS) -> pd.DataFrame:
    """Read a processed (validated, train or test) CSV with the schema's dtypes."""
    return pd.read_csv(path, dtype=schema.pandas_dtypes(), keep_default_na=True, na_values=[""])


def write_processed(frame: pd.DataFrame, path: Path) -> None:
    """Write a processed frame deterministically (no index, ``\\n`` line endings)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n")


def split_xy(frame: pd.DataFrame, schema: Schema = CENSUS) -> tuple[pd.DataFrame, IntArray]:
    """Features (in canonical order, selected by name) and the 0/1 target."""
    return frame[schema.feature_names], frame[schema.target.name].to_numpy(dtype=np.int64)
