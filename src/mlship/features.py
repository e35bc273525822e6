"""The preprocessing: a ``ColumnTransformer`` that selects every column **by name**.

FORK: change how features are encoded here. The transformer is saved inside the model ``Pipeline``, so
serving applies exactly what training applied.
"""

from __future__ import annotations

from typing import Literal

from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from mlship.data.schema import Schema

MISSING = "__missing__"
"""The category a missing categorical value becomes before encoding."""

Encoding = Literal["ordinal", "one_hot"]


def _categories(schema: Schema) -> list[list[str]]:
    return [[*column.categories, MISSING] for column in schema.categorical]


def build_preprocessor(schema: Schema, encoding: Encoding = "ordinal") -> ColumnTransformer:
    """Impute and encode the schema's features; output is dense, finite and ordered numeric then categorical.

    Numbers (integers, floats, booleans as 0/1) are imputed with the training median. ``ordinal`` suits tree
    ensembles (an unseen category becomes -1, which gradient boosting treats as
    missing); ``one_hot`` with scaled numerics suits linear models (an unseen category is all zeros).
    """
    numeric_steps: list[tuple[str, object]] = [("impute", SimpleImputer(strategy="median"))]
    if encoding == "one_hot":
        numeric_steps.append(("scale", StandardScaler()))
        encoder: OneHotEncoder | OrdinalEncoder = OneHotEncoder(
            categories=_categories(schema), handle_unknown="ignore", sparse_output=False
        )
    else:
        encoder = OrdinalEncoder(
            categories=_categories(schema), handle_unknown="use_encoded_value", unknown_value=-1
        )
    categorical = Pipeline(
        [("impute", SimpleImputer(strategy="constant", fill_value=MISSING)), ("encode", encoder)]
    )
    return ColumnTransformer(
        [
            ("numeric", Pipeline(numeric_steps), schema.numeric_names),
            ("categorical", categorical, schema.categorical_names),
        ],
        remainder="drop",
        verbose_feature_names_out=False,
    )


def categorical_mask(schema: Schema) -> list[bool]:
    """Which columns of the ordinal-encoded output are categorical (numerics come first)."""
    return [False] * len(schema.numeric) + [True] * len(schema.categorical)
