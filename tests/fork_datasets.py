"""Datasets a team might adopt on its first day, for the fork proof (tests/test_fork.py).

Pure functions: each builds its frame from a fixed seed (numpy) or from data bundled with scikit-learn, and
returns it; nothing is read from or written to the network or the disk. The three small ones (``tumours``,
``wine``, ``diabetes``) cover the feature kinds ``mlship init`` infers; the ``stress_*`` ones stress the
defaults where small real data hurts them: a weak signal, an imbalanced or rare label, discrete features
that repeat rows, a heavy-tailed target.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine


def tumours() -> pd.DataFrame:
    """Binary: eight float measurements (names with spaces), one with missing values, a categorical and a
    boolean column, and "Yes"/"No" labels."""
    rng = np.random.default_rng(11)
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.iloc[:, :8].copy()
    frame.loc[rng.random(len(frame)) < 0.05, "mean texture"] = np.nan
    frame["region"] = rng.choice(["north", "south", "east"], size=len(frame))
    frame["smoker"] = rng.choice(["true", "false"], size=len(frame))
    frame["diagnosis"] = np.where(data.target == 1, "Yes", "No")
    return frame


def wine() -> pd.DataFrame:
    """Multiclass: seven measurements (whole numbers with missing values among them), a categorical
    column, three text labels."""
    rng = np.random.default_rng(12)
    data = load_wine(as_frame=True)
    columns = ["alcohol", "malic_acid", "magnesium", "flavanoids", "color_intensity", "hue", "proline"]
    frame = data.frame[columns].copy()
    frame.loc[rng.random(len(frame)) < 0.06, "magnesium"] = np.nan
    frame["vineyard"] = rng.choice(["hill", "valley"], size=len(frame))
    frame["cultivar"] = np.array(["barbera", "barolo", "grignolino"])[data.target]
    return frame


def diabetes() -> pd.DataFrame:
    """Regression: floats and whole numbers (one with missing values), a categorical and a yes/no column,
    and a whole-number target with many values (inferred as regression)."""
    rng = np.random.default_rng(13)
    data = load_diabetes(as_frame=True, scaled=False)
    frame = data.frame.drop(columns="target").copy()
    frame.loc[rng.random(len(frame)) < 0.05, "bmi"] = np.nan
    frame["clinic"] = rng.choice(["a", "b"], size=len(frame))
    frame["insured"] = rng.choice(["yes", "no"], size=len(frame))
    frame["progression"] = data.target.astype(int)
    return frame


def _discrete_features(rng: np.random.Generator, rows: int) -> pd.DataFrame:
    """Survey-like columns: a few skewed categories and small whole numbers, so many rows repeat exactly."""
    return pd.DataFrame(
        {
            "region": rng.choice(["north", "south", "east", "west"], size=rows, p=[0.55, 0.25, 0.15, 0.05]),
            "plan": rng.choice(["basic", "plus", "premium"], size=rows, p=[0.7, 0.2, 0.1]),
            "channel": rng.choice(["web", "store", "phone"], size=rows, p=[0.6, 0.3, 0.1]),
            "household": rng.choice([1, 2, 3, 4], size=rows, p=[0.35, 0.4, 0.15, 0.1]),
            "visits": np.minimum(rng.poisson(0.8, size=rows), 4),
            "tenure_years": rng.integers(0, 6, size=rows),
            "complaints": rng.binomial(2, 0.15, size=rows),
        }
    )


def stress_binary() -> pd.DataFrame:
    """Binary, 4,000 rows, ~17 % "yes": seven categorical and small-integer columns (natural duplicate
    rows, so test rows recur in train under any split) and a weak but real signal: a good model's log loss
    is only a little below the constant forecast's. Stresses overfitting on small data and the checks that
    measure duplicates, conflicting labels and train/test sample overlap."""
    rng = np.random.default_rng(21)
    rows = 4000
    frame = _discrete_features(rng, rows)
    logit = (
        -1.3
        + 0.8 * (frame["plan"] == "premium")
        - 0.3 * (frame["plan"] == "basic")
        + 0.7 * frame["complaints"]
        - 0.2 * frame["tenure_years"]
        + 0.5 * (frame["channel"] == "phone")
    )
    frame["churned"] = np.where(rng.random(rows) < 1.0 / (1.0 + np.exp(-logit)), "yes", "no")
    return frame


def stress_multiclass() -> pd.DataFrame:
    """Multiclass, 3,000 rows, three labels of which one is rare (~5 %): discrete and float features with
    a moderate signal. Stresses per-class metrics and conditions on a class with ~30 test rows."""
    rng = np.random.default_rng(22)
    rows = 3000
    frame = _discrete_features(rng, rows)
    frame["spend"] = np.round(rng.gamma(2.0, 30.0, size=rows), 2)
    score_b = -1.0 + 0.8 * (frame["plan"] == "plus") + 0.02 * frame["spend"] - 0.3 * frame["household"]
    score_c = -3.0 + 1.2 * frame["complaints"] + 1.2 * (frame["plan"] == "premium")
    scores = np.column_stack([np.zeros(rows), score_b, score_c])
    shares = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    draw = (shares.cumsum(axis=1) < rng.random((rows, 1))).sum(axis=1)
    frame["segment"] = np.array(["steady", "growing", "leaving"])[np.minimum(draw, 2)]
    return frame


def stress_regression() -> pd.DataFrame:
    """Regression, 3,000 rows, a heavy-tailed target: a lognormal amount times a real but weak effect of
    discrete and float features, plus Student-t noise (outliers). Stresses squared-error training and the
    limits derived from the target's spread."""
    rng = np.random.default_rng(23)
    rows = 3000
    frame = _discrete_features(rng, rows)
    frame["age"] = rng.integers(18, 80, size=rows)
    effect = 0.6 * (frame["plan"] == "premium") + 0.2 * frame["visits"] + 0.015 * frame["age"]
    amount = np.exp(2.5 + effect + rng.normal(0.0, 0.7, size=rows)) + 5.0 * rng.standard_t(2.5, size=rows)
    frame["claim_amount"] = np.round(amount, 2)
    return frame
