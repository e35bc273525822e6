"""A search's record made without searching: the real ``record.document`` of an ``Outcome`` whose trials and
fold scores a test chooses, for the tests of what happens after a search (apply, the pull request)."""

from __future__ import annotations

from typing import Any

from mlship.config import Params
from mlship.tune.record import document
from mlship.tune.search import Measure, Outcome, Plan, Trial, current_params


def recorded(
    params: Params, chosen: dict[str, Any], current: list[float], best: list[float]
) -> dict[str, Any]:
    """``reports/tune.json`` of a 3-fold search of ``params``' estimator whose chosen trial has ``chosen``
    (the other searched parameters as configured), scored ``best`` fold by fold against ``current``."""
    now = current_params(params.model, sorted(chosen))
    picked = {**now, **chosen}
    plan = Plan(
        metric="roc_auc", higher_is_better=True, trials=2, folds=3, factor=2, seed=0, rows=None, jobs=1
    )
    trials = [
        Trial(0, picked, 1, 300, sum(best) / 3, 0.01, 0.1),
        Trial(1, now, 0, 150, sum(current) / 3, 0.01, 0.1),
    ]
    outcome = Outcome(
        plan=plan,
        estimator=params.model.estimator,
        stratified=True,
        rows=300,
        rounds=[{"round": 0, "candidates": 2, "rows": 150}, {"round": 1, "candidates": 1, "rows": 300}],
        trials=trials,
        chosen=0,
        best=Measure(picked, best),
        current=Measure(now, current),
        seconds=1.0,
    )
    return document(outcome)
