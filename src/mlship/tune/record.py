"""What a search found, for the record: ``reports/tune.json`` (every trial) and ``reports/tune.md`` (a
reviewer's table, also the tuning pull request's body).

The decision is made here, once: the chosen parameters are proposed only when their cross-validated gain
over the current parameters is larger than one standard deviation of the chosen candidate's fold scores.
A smaller gain is noise, and ``mlship tune --apply`` leaves ``params.yaml`` alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlship.tune.search import Measure, Outcome

#: Trials listed in the Markdown table (all of them are in the JSON).
SHOWN = 8


@dataclass(frozen=True)
class Decision:
    apply: bool
    gain: float  # chosen minus current, positive = better, in the metric's unit
    spread: float  # standard deviation of the fold-by-fold (paired) gains
    noise: float  # standard deviation of the chosen candidate's fold scores
    reason: str


def decide(best: Measure, current: Measure, higher_is_better: bool) -> Decision:
    """Apply the chosen parameters only when they beat the current ones by more than the chosen candidate's
    own fold-to-fold standard deviation."""
    sign = 1.0 if higher_is_better else -1.0
    paired = [sign * (b - c) for b, c in zip(best.folds, current.folds, strict=True)]
    gain, spread, noise = float(np.mean(paired)), float(np.std(paired)), best.std
    if best.params == current.params:
        return Decision(False, gain, spread, noise, "the current parameters are the best candidate")
    if gain <= noise:
        return Decision(
            False,
            gain,
            spread,
            noise,
            f"gain {gain:+.4f} is within one standard deviation ({noise:.4f}) of the best: noise, kept as is",
        )
    return Decision(
        True,
        gain,
        spread,
        noise,
        f"gain {gain:+.4f} exceeds one standard deviation ({noise:.4f}) of the best",
    )


def document(outcome: Outcome) -> dict[str, Any]:
    """``reports/tune.json``."""
    plan = outcome.plan
    decision = decide(outcome.best, outcome.current, plan.higher_is_better)
    final = outcome.rounds[-1]["round"]
    chosen = next(t for t in outcome.trials if t.number == outcome.chosen)
    still = sum(1 for t in outcome.trials if t.round == final)
    return {
        "estimator": outcome.estimator,
        "metric": plan.metric,
        "higher_is_better": plan.higher_is_better,
        "selected_on": "training split only: k-fold cross-validation",
        "folds": plan.folds,
        "stratified": outcome.stratified,
        "seed": plan.seed,
        "factor": plan.factor,
        "quick": plan.rows is not None,
        "training_rows": outcome.rows,
        "rounds": outcome.rounds,
        "seconds": round(outcome.seconds, 1),
        "trials": [
            {
                "trial": t.number,
                "params": t.params,
                "round": t.round,
                "rows_per_fit": t.rows,
                "mean": t.mean,
                "std": t.std,
                "fit_seconds": round(t.fit_seconds, 3),
            }
            for t in outcome.trials
        ],
        "chosen": {
            "trial": chosen.number,
            "params": chosen.params,
            "why": (
                f"best mean {plan.metric} ({'highest' if plan.higher_is_better else 'lowest'}) among the "
                f"{still} trial(s) of the last round ({outcome.rounds[-1]['rows']:,} rows per fit); "
                f"successive halving kept the best 1/{plan.factor} of the trials at each round. Its mean "
                "and std below: cross-validated again on every training row, on the same folds as the "
                "current parameters"
            ),
            "mean": outcome.best.mean,
            "std": outcome.best.std,
            "folds": outcome.best.folds,
        },
        "current": {
            "params": outcome.current.params,
            "mean": outcome.current.mean,
            "std": outcome.current.std,
            "folds": outcome.current.folds,
        },
        "gain": {
            "mean": decision.gain,
            "std": decision.spread,
            "noise": decision.noise,
            "apply": decision.apply,
            "reason": decision.reason,
        },
    }


def _value(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"`{k}={_value(v)}`" for k, v in params.items())


def markdown(doc: dict[str, Any]) -> str:
    """``reports/tune.md``: the best trials, the current parameters measured the same way, the gain."""
    metric, gain = doc["metric"], doc["gain"]
    final = doc["rounds"][-1]["round"]
    better = doc["higher_is_better"]
    ranked = sorted(doc["trials"], key=lambda t: (-t["round"], -t["mean"] if better else t["mean"]))
    verdict = (
        "✅ **Proposed**: the chosen parameters replace the current ones in `params.yaml`."
        if gain["apply"]
        else "⏸️ **Not proposed**: `params.yaml` stays as it is."
    )
    lines = [
        "## mlship tune",
        "",
        f"{verdict} {gain['reason'].capitalize()}.",
        "",
        f"Selected on **{metric}** ({'higher' if better else 'lower'} is better) by {doc['folds']}-fold "
        f"cross-validation of the **training split only** ({doc['training_rows']:,} rows"
        f"{', `--quick` sample' if doc['quick'] else ''}); the test split was not read. "
        f"{len(doc['trials'])} trials of `{doc['estimator']}`, seed {doc['seed']}, successive halving "
        f"(factor {doc['factor']}, rounds: "
        + ", ".join(f"{r['candidates']} on {r['rows']:,} rows" for r in doc["rounds"])
        + f"), {doc['seconds']:.0f} s. The test split judges the change once, in this pull request's report.",
        "",
        "Current and chosen parameters, cross-validated the same way, on the same folds of every "
        "training row:",
        "",
        f"| | parameters | {metric} (CV mean ± sd) |",
        "|---|---|---|",
        f"| current | {_params(doc['current']['params'])} | "
        f"{doc['current']['mean']:.4f} ± {doc['current']['std']:.4f} |",
        f"| chosen (trial {doc['chosen']['trial']}) | {_params(doc['chosen']['params'])} | "
        f"{doc['chosen']['mean']:.4f} ± {doc['chosen']['std']:.4f} |",
        f"| **gain** | paired by fold | **{gain['mean']:+.4f}** ± {gain['std']:.4f} "
        f"(noise: {gain['noise']:.4f}) |",
        "",
        "Best trials, each at the last round it reached (later rounds fit more rows; every trial is in "
        "`reports/tune.json`):",
        "",
        f"| trial | round | rows per fit | {metric} (CV mean ± sd) | fit s | parameters |",
        "|---:|---:|---:|---|---:|---|",
    ]
    for trial in ranked[:SHOWN]:
        mark = " ⭐" if trial["trial"] == doc["chosen"]["trial"] else ""
        lines.append(
            f"| {trial['trial']}{mark} | {trial['round']}{' (last)' if trial['round'] == final else ''} | "
            f"{trial['rows_per_fit']:,} | {trial['mean']:.4f} ± {trial['std']:.4f} | "
            f"{trial['fit_seconds']:.1f} | {_params(trial['params'])} |"
        )
    return "\n".join(lines) + "\n"


def write(doc: dict[str, Any], json_path: Path, markdown_path: Path) -> None:
    """Both records, each written whole (a ``.partial`` sibling renamed over the old file)."""
    for path, text in ((json_path, json.dumps(doc, indent=2) + "\n"), (markdown_path, markdown(doc))):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)


def read(path: Path) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist: run `make tune` first") from None
    return loaded
