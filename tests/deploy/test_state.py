"""The state logic under any sequence of deployments, failures and rollbacks (Hypothesis)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from mlship.deploy import state
from mlship.deploy.state import Entry, EnvironmentState, StateError

REPOSITORY = "127.0.0.1:5000/model"
DIGESTS = [f"sha256:{str(i) * 64}" for i in range(5)]

deploys = st.tuples(st.just("deploy"), st.sampled_from(DIGESTS), st.booleans())
rollbacks = st.tuples(st.just("rollback"), st.none() | st.sampled_from(DIGESTS), st.just(True))
operations = st.lists(deploys | rollbacks, max_size=25)


def _entry(action: state.Action, digest: str, healthy: bool) -> Entry:
    return Entry(
        action=action,
        digest=digest,
        git_sha=digest[7:47],
        version=digest[7:19],
        result="healthy" if healthy else "failed",
        at="2026-01-01T00:00:00+00:00",
    )


def _apply(current: EnvironmentState, operation: tuple[str, str | None, bool]) -> EnvironmentState:
    kind, digest, healthy = operation
    if kind == "deploy":
        assert digest is not None
        return state.record(current, _entry("deploy", digest, healthy), REPOSITORY)
    target = state.rollback_target(current, digest)
    return state.record(current, _entry("rollback", target.digest, True), REPOSITORY)


def _run(operations: list[tuple[str, str | None, bool]]) -> list[EnvironmentState]:
    states = [EnvironmentState(environment="production")]
    for operation in operations:
        try:
            states.append(_apply(states[-1], operation))
        except StateError:
            states.append(states[-1])  # refused: nothing changes
    return states


@given(operations)
def test_the_desired_image_is_always_the_last_healthy_deployment(
    ops: list[tuple[str, str | None, bool]],
) -> None:
    # given / when: any sequence of deployments (healthy or not) and rollbacks
    for current in _run(ops):
        # then: git's desired image is the last healthy entry's digest, and `previous` differs from it
        healthy = [entry for entry in current.history if entry.result == "healthy"]
        assert current.digest == (healthy[-1].digest if healthy else None)
        assert current.image == (f"{REPOSITORY}@{healthy[-1].digest}" if healthy else None)
        if current.previous is not None:
            assert current.previous.digest != current.digest
            assert current.previous.result == "healthy"


@given(operations)
def test_history_only_grows_and_keeps_its_past(ops: list[tuple[str, str | None, bool]]) -> None:
    # given / when
    states = _run(ops)
    # then: each state's history starts with the one before it (an append-only audit trail)
    for before, after in itertools.pairwise(states):
        assert after.history[: len(before.history)] == before.history
        assert len(after.history) - len(before.history) in (0, 1)


@given(operations)
def test_a_failed_deployment_never_changes_what_runs(ops: list[tuple[str, str | None, bool]]) -> None:
    states = _run(ops)
    for before, after in itertools.pairwise(states):
        if (
            after.history
            and after.history[-1].result == "failed"
            and len(after.history) > len(before.history)
        ):
            assert after.digest == before.digest


@given(operations)
def test_rolling_back_twice_is_rolling_back_once(ops: list[tuple[str, str | None, bool]]) -> None:
    # given: any history
    current = _run(ops)[-1]
    try:
        # when: rolled back
        once = _apply(current, ("rollback", None, True))
    except StateError:
        return  # nothing to roll back to: refused, nothing changed
    # then: the next rollback's target is what already runs (a no-op for the deploy command)
    assert state.rollback_target(once).digest == once.digest
    assert state.stage_assignments(_apply(once, ("rollback", None, True))) == state.stage_assignments(once)


@given(operations)
def test_stage_assignments_count_each_change_of_digest(ops: list[tuple[str, str | None, bool]]) -> None:
    states = _run(ops)
    for before, after in itertools.pairwise(states):
        changed = before.digest != after.digest
        assert state.stage_assignments(after) == state.stage_assignments(before) + int(changed)


@given(operations, st.sampled_from(DIGESTS))
def test_production_takes_only_digests_that_passed_staging_and_never_failed(
    ops: list[tuple[str, str | None, bool]], digest: str
) -> None:
    # given: a staging history
    staging = _run(ops)[-1].model_copy(update={"environment": "staging"})
    passed = any(e.digest == digest and e.result == "healthy" for e in staging.history)
    failed = any(e.digest == digest and e.result == "failed" for e in staging.history)
    # when / then
    if passed and not failed:
        state.check_promotable(digest, staging)
    else:
        with pytest.raises(StateError, match="failed a health check" if failed else "never passed staging"):
            state.check_promotable(digest, staging)


@given(operations)
def test_the_state_file_round_trips(ops: list[tuple[str, str | None, bool]]) -> None:
    current = _run(ops)[-1]
    assert state.EnvironmentState.model_validate(yaml.safe_load(state.dump(current))) == current


def test_saving_the_same_state_twice_changes_nothing(tmp_path: Path) -> None:
    # given
    current = _run([("deploy", DIGESTS[0], True)])[-1]
    path = tmp_path / "production.yaml"
    # when / then
    assert state.save(path, current) is True
    assert state.save(path, current) is False
    assert state.load(path, "production") == current


def test_a_corrupt_state_file_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "staging.yaml"
    path.write_text("history: [1, 2]\n", encoding="utf-8")
    with pytest.raises(StateError, match=r"staging\.yaml: not a valid environment state"):
        state.load(path, "staging")
