"""Start ``retrain.yml`` when the monitor asks for it, once: not while a retraining runs or its PR is open."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class DispatchAPI(Protocol):
    def open_pulls(self, *, head: str | None = None, base: str | None = None) -> list[dict[str, Any]]: ...
    def workflow_runs(self, workflow: str, status: str) -> list[dict[str, Any]]: ...
    def dispatch(self, workflow: str, ref: str, inputs: Mapping[str, str]) -> None: ...


@dataclass(frozen=True)
class Dispatch:
    dispatched: bool
    reason: str


def retrain(
    api: DispatchAPI, *, wanted: bool, workflow: str, ref: str, branch: str, inputs: Mapping[str, str]
) -> Dispatch:
    if not wanted:
        return Dispatch(False, "the monitor does not ask for retraining (retrain: false)")
    pulls = api.open_pulls(head=branch)
    if pulls:
        return Dispatch(False, f"the retraining pull request #{pulls[0]['number']} is still open")
    for status in ("queued", "in_progress"):
        runs = api.workflow_runs(workflow, status)
        if runs:
            return Dispatch(False, f"{workflow} is already {status.replace('_', ' ')} (run {runs[0]['id']})")
    api.dispatch(workflow, ref, inputs)
    return Dispatch(True, f"dispatched {workflow} on {ref}")
