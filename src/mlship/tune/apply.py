"""``mlship tune --apply``: write the chosen values into ``params.yaml``, and nothing else.

Only the searched keys under ``model.<estimator>`` change; comments, order and every other value stay
(ruamel.yaml's round trip, as ``mlship init`` edits the file). Nothing is written when the record says the
gain is noise, and a record measured against other parameters than the file holds now is refused: it no
longer says what the change is worth.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlship.adopt.defaults import Section, Setting
from mlship.adopt.writing import update_params, write_if_changed
from mlship.config import Params, parse_params
from mlship.tune.search import current_params


class StaleRecordError(RuntimeError):
    """``reports/tune.json`` was measured against another estimator or other parameter values."""


@dataclass(frozen=True)
class Applied:
    changed: dict[str, tuple[Any, Any]]  # key -> (before, after)
    reason: str

    def render(self, params_path: Path) -> str:
        if not self.changed:
            return f"tune --apply: {params_path} unchanged ({self.reason})"
        values = ", ".join(f"{key}: {old} -> {new}" for key, (old, new) in self.changed.items())
        return f"tune --apply: {params_path}: {values} ({self.reason})"


def apply(doc: dict[str, Any], params: Params, params_path: Path) -> Applied:
    """Write ``doc``'s chosen parameters into ``params_path`` when its gain is more than noise."""
    estimator = params.model.estimator
    if doc["estimator"] != estimator:
        raise StaleRecordError(
            f"the record searched {doc['estimator']}, model.estimator is {estimator}: run `make tune` again"
        )
    recorded: dict[str, Any] = doc["current"]["params"]
    now = current_params(params.model, list(recorded))
    if now != recorded:
        raise StaleRecordError(
            f"the record compared against {recorded}, model.{estimator} now holds {now}: "
            "run `make tune` again"
        )
    gain = doc["gain"]
    chosen: dict[str, Any] = doc["chosen"]["params"]
    if not gain["apply"]:
        return Applied({}, gain["reason"])
    updates = Section({"model": Section({estimator: Section({k: Setting(v) for k, v in chosen.items()})})})
    text = update_params(params_path.read_text(encoding="utf-8"), updates)
    parse_params(yaml.safe_load(text), params_path)  # never write a file the pipeline cannot load
    write_if_changed(params_path, text)
    changed = {f"model.{estimator}.{k}": (recorded[k], v) for k, v in chosen.items() if recorded[k] != v}
    return Applied(changed, gain["reason"])
