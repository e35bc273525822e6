"""``tune.space`` as the distributions scikit-learn's random search draws candidates from.

Drawn values are rounded to three significant digits (whole numbers for an ``int`` scale): the candidate
evaluated is exactly the value ``mlship tune --apply`` writes into ``params.yaml``, and that value reads
like one a person would type (``0.0735``, not ``0.07348293817``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from scipy import stats

from mlship.config import Choice, ConfigError, Dimension, Estimator, TuneConfig

#: Prefix of the estimator's parameters inside the model ``Pipeline`` (``build_model``'s step name).
STEP = "estimator__"


class SpaceError(ConfigError):
    """``tune:`` cannot be searched as declared (no parameter for the estimator, a metric of another task)."""


def significant(value: float, digits: int = 3) -> float:
    """``value`` rounded to ``digits`` significant digits (0 stays 0)."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


@dataclass(frozen=True)
class Rounded:
    """A scipy distribution whose draws are rounded (``rvs`` is all ``ParameterSampler`` calls)."""

    distribution: Any
    integer: bool

    def rvs(self, random_state: Any = None) -> float | int:
        value = float(self.distribution.rvs(random_state=random_state))
        return round(value) if self.integer else significant(value)


def distribution(dimension: Dimension) -> Rounded | list[Choice]:
    """What ``HalvingRandomSearchCV`` draws one parameter from."""
    if dimension.choices is not None:
        return list(dimension.choices)
    low, high = float(dimension.low or 0.0), float(dimension.high or 0.0)
    if dimension.scale == "log":
        return Rounded(stats.loguniform(low, high), integer=False)
    if dimension.scale == "int":
        return Rounded(stats.randint(int(low), int(high) + 1), integer=True)
    return Rounded(stats.uniform(low, high - low), integer=False)


def dimensions(config: TuneConfig, estimator: Estimator) -> dict[str, Dimension]:
    """The searched parameters of ``estimator``; an error naming the key when there are none."""
    found = getattr(config.space, estimator).dimensions()
    if not found:
        raise SpaceError(f"tune.space.{estimator}: no parameter to search (declare at least one)")
    return dict(found)


def distributions(config: TuneConfig, estimator: Estimator) -> dict[str, Rounded | list[Choice]]:
    """``param_distributions`` for the model ``Pipeline``: ``estimator__<name>`` -> distribution."""
    return {STEP + name: distribution(d) for name, d in dimensions(config, estimator).items()}
