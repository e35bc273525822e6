"""The search: scikit-learn's successive halving over the space, cross-validated on the training split only.

Why successive halving (``HalvingRandomSearchCV``) and not a hand-written loop or Optuna: every candidate is
drawn up front by one seeded sampler and every fit is seeded (``model.seed``), so the same seed gives the
same trials and the same choice whether the fits run on one core or on all of them (Optuna's sampler
conditions each trial on the ones finished before it, so parallel trials finish in a racing order and the
choice can change between runs); it spends the budget where it pays, fitting every candidate on a third of
the rows and only the best third on all of them; and it is already installed (no new dependency in the
serving image or the lock file). docs/forking.md says how to declare a space, docs/benchmarks.md what 20
trials cost.

Every fit is the whole ``Pipeline`` ``build_model`` makes — the preprocessing is fitted inside each fold, the
monotonic constraints and early-stopping settings are the configured ones — on folds of the training
split, stratified for classifiers. The test split is never read here.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlship.config import Estimator, ModelConfig, TuneConfig
from mlship.data.schema import Schema, TargetArray
from mlship.tasks import headline_metric, higher_is_better, metric_names
from mlship.train import build_model
from mlship.tune.space import STEP, Rounded, SpaceError, distributions, significant

#: Each metric of src/mlship/tasks.py as a scikit-learn scorer (negated where lower is better).
SCORERS: Mapping[str, str] = {
    "roc_auc": "roc_auc",
    "pr_auc": "average_precision",
    "f1": "f1",
    "accuracy": "accuracy",
    "log_loss": "neg_log_loss",
    "brier": "neg_brier_score",
    "balanced_accuracy": "balanced_accuracy",
    "f1_macro": "f1_macro",
    "roc_auc_ovr": "roc_auc_ovr",
    "r2": "r2",
    "mae": "neg_mean_absolute_error",
    "rmse": "neg_root_mean_squared_error",
    "median_ae": "neg_median_absolute_error",
}

#: ``--quick`` (tests, a first look): at most this many trials, folds and training rows.
QUICK_TRIALS = 4
QUICK_FOLDS = 2
QUICK_ROWS = 2000


@dataclass(frozen=True)
class Plan:
    """What one search does: resolved from ``tune:`` (and ``--quick``, ``--trials``) before anything runs."""

    metric: str
    higher_is_better: bool
    trials: int
    folds: int
    factor: int
    seed: int
    rows: int | None  # None: every training row
    jobs: int


def plan(
    config: TuneConfig, schema: Schema, *, quick: bool = False, trials: int | None = None, jobs: int = 1
) -> Plan:
    """The search's settings; a metric the task does not report is an error naming ``tune.metric``."""
    metric = config.metric or headline_metric(schema.task)
    if metric not in metric_names(schema.task):
        raise SpaceError(
            f"tune.metric: {metric} is not a metric of this task "
            f"(metrics: {', '.join(metric_names(schema.task))})"
        )
    count = trials if trials is not None else config.trials
    if count < 2:
        raise SpaceError(f"--trials: at least 2 candidates, not {count}")
    return Plan(
        metric=metric,
        higher_is_better=higher_is_better(metric),
        trials=min(count, QUICK_TRIALS) if quick else count,
        folds=min(config.folds, QUICK_FOLDS) if quick else config.folds,
        factor=config.factor,
        seed=config.seed,
        rows=QUICK_ROWS if quick else None,
        jobs=max(1, jobs),
    )


@dataclass(frozen=True)
class Trial:
    """One candidate, judged at the last round it reached."""

    number: int
    params: dict[str, Any]
    round: int
    rows: int  # training rows per fit in that round
    mean: float  # the selection metric (its own sign: a log loss is positive)
    std: float
    fit_seconds: float  # mean per fold in that round


@dataclass(frozen=True)
class Measure:
    """A set of parameters cross-validated on every training row, fold by fold."""

    params: dict[str, Any]
    folds: list[float]

    @property
    def mean(self) -> float:
        return float(np.mean(self.folds))

    @property
    def std(self) -> float:
        return float(np.std(self.folds))


@dataclass(frozen=True)
class Outcome:
    plan: Plan
    estimator: str
    stratified: bool
    rows: int
    rounds: list[dict[str, int]]
    trials: list[Trial]
    chosen: int  # a trial number
    best: Measure
    current: Measure
    seconds: float


def _plain(value: Any) -> Any:
    """numpy scalars as Python's (JSON, YAML)."""
    return value.item() if isinstance(value, np.generic) else value


def _cv(plan: Plan, schema: Schema) -> Any:
    from sklearn.model_selection import KFold, StratifiedKFold  # noqa: PLC0415 - heavy, at run time only

    kind = StratifiedKFold if schema.target.is_classifier else KFold
    return kind(n_splits=plan.folds, shuffle=True, random_state=plan.seed)


def _sign(plan: Plan) -> float:
    return 1.0 if plan.higher_is_better else -1.0


@dataclass(frozen=True)
class Reciprocal:
    """Draws of ``distribution`` as their reciprocals (a ``params.yaml`` value in the estimator's unit)."""

    distribution: Rounded

    def rvs(self, random_state: Any = None) -> float:
        return 1.0 / self.distribution.rvs(random_state=random_state)


def _renamed(estimator: str, classifier: bool) -> dict[str, str]:
    """``params.yaml`` names that ``build_model`` passes on under another name, as a reciprocal: the linear
    regression's ``C`` is ridge's ``alpha = 1 / C``."""
    return {"C": "alpha"} if estimator == "linear" and not classifier else {}


def native(params: Mapping[str, Any], renamed: Mapping[str, str]) -> dict[str, Any]:
    """``params.yaml`` values as the pipeline's ``set_params`` arguments."""
    return {
        STEP + renamed.get(k, k): (1.0 / v if k in renamed and not isinstance(v, bool) else v)
        for k, v in params.items()
    }


def declared(params: Mapping[str, Any], renamed: Mapping[str, str]) -> dict[str, Any]:
    """The pipeline's parameters back as ``params.yaml`` values (the inverse of ``native``)."""
    back = {new: old for old, new in renamed.items()}
    out: dict[str, Any] = {}
    for key, value in params.items():
        name = key.removeprefix(STEP)
        out[back.get(name, name)] = significant(1.0 / value, 12) if name in back else _plain(value)
    return out


def _search_space(config: TuneConfig, estimator: Estimator, renamed: Mapping[str, str]) -> dict[str, Any]:
    space: dict[str, Any] = {}
    for key, drawn in distributions(config, estimator).items():
        name = key.removeprefix(STEP)
        if name not in renamed:
            space[key] = drawn
        elif isinstance(drawn, list):
            space[STEP + renamed[name]] = [1.0 / float(v) for v in drawn]
        else:
            space[STEP + renamed[name]] = Reciprocal(drawn)
    return space


def _trials(results: Mapping[str, Any], plan: Plan, renamed: Mapping[str, str]) -> list[Trial]:
    """One entry per candidate from ``cv_results_`` (a row per candidate and round): its last round."""
    rounds = [int(r) for r in results["iter"]]
    params = [declared(p, renamed) for p in results["params"]]
    numbers = {
        repr(sorted(p.items())): n for n, (p, r) in enumerate(zip(params, rounds, strict=True)) if r == 0
    }
    last: dict[int, Trial] = {}
    for row, (candidate, reached) in enumerate(zip(params, rounds, strict=True)):
        number = numbers[repr(sorted(candidate.items()))]
        last[number] = Trial(
            number=number,
            params=candidate,
            round=reached,
            rows=int(results["n_resources"][row]),
            mean=_sign(plan) * float(results["mean_test_score"][row]),
            std=float(results["std_test_score"][row]),
            fit_seconds=float(results["mean_fit_time"][row]),
        )
    return [last[n] for n in sorted(last)]


def cross_validated(
    features: pd.DataFrame,
    target: TargetArray,
    config: ModelConfig,
    schema: Schema,
    *,
    plan: Plan,
    params: Mapping[str, Any],
) -> Measure:
    """``params`` (estimator settings; the rest as configured) scored fold by fold on the same folds."""
    from sklearn.model_selection import cross_val_score  # noqa: PLC0415 - heavy, at run time only

    renamed = _renamed(config.estimator, schema.target.is_classifier)
    model = build_model(config, schema).set_params(**native(params, renamed))
    scores = cross_val_score(
        model, features, target, cv=_cv(plan, schema), scoring=SCORERS[plan.metric], n_jobs=plan.jobs
    )
    return Measure(dict(params), [_sign(plan) * float(s) for s in scores])


def current_params(config: ModelConfig, searched: list[str]) -> dict[str, Any]:
    """The configured values of the searched parameters (``model.<estimator>``)."""
    block = getattr(config, config.estimator)
    return {name: getattr(block, name) for name in searched}


def subsample(features: pd.DataFrame, target: TargetArray, plan: Plan) -> tuple[pd.DataFrame, TargetArray]:
    """``--quick``: a seeded sample of the training rows."""
    if plan.rows is None or len(features) <= plan.rows:
        return features, target
    picked = np.random.default_rng(plan.seed).choice(len(features), size=plan.rows, replace=False)
    picked.sort()
    return features.iloc[picked], target[picked]


def run_search(
    features: pd.DataFrame,
    target: TargetArray,
    model: ModelConfig,
    schema: Schema,
    *,
    config: TuneConfig,
    plan: Plan,
) -> Outcome:
    """Successive halving over ``config.space[model.estimator]`` on these (training) rows; then the chosen
    candidate and the current parameters cross-validated on every row, on the same folds."""
    import joblib  # noqa: PLC0415 - heavy, at run time only
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401, PLC0415 - enables the class
    from sklearn.model_selection import HalvingRandomSearchCV  # noqa: PLC0415
    from threadpoolctl import threadpool_limits  # noqa: PLC0415

    started = time.perf_counter()
    features, target = subsample(features, target, plan)
    renamed = _renamed(model.estimator, schema.target.is_classifier)
    space = _search_space(config, model.estimator, renamed)
    search = HalvingRandomSearchCV(
        build_model(model, schema),
        space,
        n_candidates=plan.trials,
        factor=plan.factor,
        resource="n_samples",
        min_resources="exhaust",
        cv=_cv(plan, schema),
        scoring=SCORERS[plan.metric],
        refit=False,
        random_state=plan.seed,
        n_jobs=plan.jobs,
        error_score="raise",
    )
    # One OpenMP thread per fit, in the worker processes and in this one; the cores are used by running
    # `plan.jobs` fits at once. Gradient boosting's OpenMP threads spin-wait for each other: on a busy
    # machine two threads per fit made a --quick search of 300 rows take 168 s instead of 3 s.
    with (
        joblib.parallel_config(backend="loky", inner_max_num_threads=1),
        threadpool_limits(1, user_api="openmp"),
    ):
        search.fit(features, target)
        trials = _trials(search.cv_results_, plan, renamed)
        best_params = declared(search.best_params_, renamed)
        chosen = next(t.number for t in trials if t.params == best_params)
        searched = list(best_params)
        best = cross_validated(features, target, model, schema, plan=plan, params=best_params)
        now = current_params(model, searched)
        current = cross_validated(features, target, model, schema, plan=plan, params=now)
    rounds = [
        {"round": r, "candidates": int(c), "rows": int(n)}
        for r, (c, n) in enumerate(zip(search.n_candidates_, search.n_resources_, strict=True))
    ]
    return Outcome(
        plan=plan,
        estimator=model.estimator,
        stratified=schema.target.is_classifier,
        rows=len(features),
        rounds=rounds,
        trials=trials,
        chosen=chosen,
        best=best,
        current=current,
        seconds=time.perf_counter() - started,
    )
