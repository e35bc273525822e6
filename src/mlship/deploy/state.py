"""The desired state of one environment and its history: pure data and pure transitions.

``deploy/environments/<env>.yaml`` holds it (GitOps: the file in git is what the deploy applies). Every
change appends one history entry; the current digest is always the last healthy entry's, and a failed
deployment is recorded (so the same digest is refused for production) without changing what runs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

Action = Literal["deploy", "release", "rollback"]
#: healthy: it ran and passed the health check; failed: it ran and failed it; refused: the container runtime
#: refused to pull it (no signature by the project's key), so it never ran.
Result = Literal["healthy", "failed", "refused"]
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
VERSION = re.compile(r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


class StateError(RuntimeError):
    """A deployment request the state refuses (the message says why)."""


class Entry(BaseModel):
    """One deployment attempt: what was asked, what it ran, how it ended."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Action
    digest: str = Field(pattern=DIGEST.pattern)
    git_sha: str
    version: str = Field(description="model version served (the short git SHA of the build)")
    release: str | None = Field(default=None, description="vX.Y.Z for production releases")
    result: Result
    at: str = Field(description="UTC time, ISO 8601")
    detail: str = ""


class EnvironmentState(BaseModel):
    """What one environment should run, and everything it ran before."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    environment: str
    image: str | None = Field(default=None, description="repository@digest: the desired image")
    history: tuple[Entry, ...] = ()

    @property
    def healthy(self) -> tuple[Entry, ...]:
        return tuple(entry for entry in self.history if entry.result == "healthy")

    @property
    def current(self) -> Entry | None:
        healthy = self.healthy
        return healthy[-1] if healthy else None

    @property
    def previous(self) -> Entry | None:
        """The last healthy entry that ran a different digest than the current one."""
        current = self.current
        for entry in reversed(self.healthy):
            if current is not None and entry.digest != current.digest:
                return entry
        return None

    @property
    def since(self) -> str | None:
        """When the current digest started running (continuously, across re-deploys of it)."""
        healthy = self.healthy
        if not healthy:
            return None
        start = len(healthy) - 1
        while start > 0 and healthy[start - 1].digest == healthy[start].digest:
            start -= 1
        return healthy[start].at

    @property
    def digest(self) -> str | None:
        return self.current.digest if self.current else None


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def record(state: EnvironmentState, entry: Entry, repository: str) -> EnvironmentState:
    """Append ``entry``; a healthy one becomes the desired image, a failed one leaves it as it was."""
    image = f"{repository}@{entry.digest}" if entry.result == "healthy" else state.image
    return state.model_copy(update={"history": (*state.history, entry), "image": image})


def failed_digests(states: Sequence[EnvironmentState]) -> set[str]:
    return {entry.digest for state in states for entry in state.history if entry.result == "failed"}


def check_promotable(digest: str, staging: EnvironmentState, others: Sequence[EnvironmentState] = ()) -> None:
    """Refuse a digest for production unless staging ran it healthy and no health check ever failed it."""
    if digest in failed_digests([staging, *others]):
        raise StateError(f"{digest} failed a health check; it cannot go to production")
    if not any(entry.digest == digest for entry in staging.healthy):
        raise StateError(f"{digest} never passed staging; deploy it to staging first (mlship deploy staging)")


def rollback_target(state: EnvironmentState, to_digest: str | None = None) -> Entry:
    """The healthy entry to go back to.

    Without a target: undo the most recent change that was not itself a rollback, i.e. return to what ran
    before it (so running the same rollback twice is a no-op). With a digest: it must have run healthy here.
    """
    if state.current is None:
        raise StateError(f"{state.environment} has never run anything; nothing to roll back")
    if to_digest is not None:
        for entry in reversed(state.healthy):
            if entry.digest == to_digest:
                return entry
        raise StateError(f"{to_digest} never ran healthy in {state.environment}; refusing to roll back to it")
    healthy = state.healthy
    changes = [i for i, entry in enumerate(healthy) if entry.action != "rollback" and _is_change(healthy, i)]
    if not changes:
        raise StateError(f"{state.environment} has no earlier deployment to roll back to")
    last_change = changes[-1]
    for entry in reversed(healthy[:last_change]):
        if entry.digest != healthy[last_change].digest:
            return entry
    raise StateError(f"{state.environment} has no earlier deployment to roll back to")


def _is_change(healthy: Sequence[Entry], index: int) -> bool:
    return index == 0 or healthy[index - 1].digest != healthy[index].digest


def stage_assignments(state: EnvironmentState) -> int:
    """How many times the running digest changed (GTO's ``name#stage#N`` counts these)."""
    healthy = state.healthy
    return sum(1 for i in range(len(healthy)) if _is_change(healthy, i))


def load(path: Path, environment: str) -> EnvironmentState:
    """Read one environment's state; a missing file is an environment that never ran anything."""
    if not path.exists():
        return EnvironmentState(environment=environment)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return EnvironmentState.model_validate(raw)
    except (yaml.YAMLError, ValidationError) as error:
        raise StateError(f"{path}: not a valid environment state: {error}") from None


def dump(state: EnvironmentState) -> str:
    current = state.current
    header = (
        f"# Desired state of {state.environment} (written by `mlship deploy`; edit only through it).\n"
        f"# Runs: {state.image or 'nothing yet'}"
        + (f" — model {current.version}, git {current.git_sha[:12]}" if current else "")
        + "\n"
    )
    body = state.model_dump(mode="json")
    return header + yaml.safe_dump(body, sort_keys=False, width=120)


def save(path: Path, state: EnvironmentState) -> bool:
    """Write atomically (temp file + rename); returns whether the content changed."""
    text = dump(state)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return True
