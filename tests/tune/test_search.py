"""The search on another task and estimator than the census's: a regression with the linear model, whose
``C`` reaches ridge as ``alpha = 1 / C`` (``build_model``); the record speaks ``params.yaml``'s names."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlship.adopt.inference import infer_schema
from mlship.config import Dimension, LinearSpace, Params, TuneSpace
from mlship.data.schema import Reader, split_xy
from mlship.data.validate import validate
from mlship.tune.search import declared, native, plan, run_search


def test_a_reciprocal_parameter_round_trips_to_the_declared_value() -> None:
    renamed = {"C": "alpha"}
    for value in (0.0421, 3.0, 97.5):
        assert native({"C": value}, renamed) == {"estimator__alpha": 1.0 / value}
        assert declared(native({"C": value}, renamed), renamed) == {"C": value}


def test_a_regression_with_the_linear_model_searches_c_and_records_it_by_its_declared_name(
    params: Params,
) -> None:
    # given 200 rows of a noisy linear regression, the linear estimator and a space over C only
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    text = pd.DataFrame(
        {"x": x.round(3).astype(str), "y": (3 * x + rng.normal(size=200)).round(3).astype(str)}, dtype=object
    )
    schema = infer_schema(text, Reader(), "y", [], None).schema
    features, target = split_xy(validate(text, schema).frame, schema)
    model = params.model.model_copy(update={"estimator": "linear", "monotonic": {}})
    space = TuneSpace(linear=LinearSpace(C=Dimension(low=0.01, high=100.0, scale="log")))
    config = params.tune.model_copy(update={"metric": None, "space": space})
    # when a quick search runs
    outcome = run_search(
        features, target, model, schema, config=config, plan=plan(config, schema, quick=True)
    )
    # then it selected on the task's primary metric, by plain k-fold, and every trial is a C in the range
    assert outcome.plan.metric == "r2"
    assert outcome.stratified is False
    assert all(set(t.params) == {"C"} and 0.01 <= t.params["C"] <= 100.0 for t in outcome.trials)
    assert outcome.current.params == {"C": params.model.linear.C}
    assert len(outcome.best.folds) == len(outcome.current.folds) == 2
