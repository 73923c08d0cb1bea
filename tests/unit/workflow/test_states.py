"""The state table reads like the table: allowed, repeated and forbidden pairs."""

from __future__ import annotations

import pytest

from mistral.exceptions import InvalidStateTransition
from mistral.workflow import states as s


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (s.IDLE, s.RUNNING),
        (s.WAITING, s.RUNNING),
        (s.RUNNING, s.RUNNING_DELAYED),
        (s.RUNNING_DELAYED, s.RUNNING),
        (s.RUNNING, s.SUCCESS),
        (s.RUNNING, s.PAUSED),
        (s.PAUSED, s.RUNNING),
        (s.ERROR, s.RUNNING),
        (s.ERROR, s.SKIPPED),
        (s.SUCCESS, s.RUNNING),
    ],
)
def test_allowed(old: str, new: str) -> None:
    assert s.check_transition(old, new) is True


@pytest.mark.parametrize("state", sorted(s.ALL))
def test_repeat_is_harmless(state: str) -> None:
    assert s.check_transition(state, state) is False


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (s.SUCCESS, s.ERROR),
        (s.SKIPPED, s.RUNNING),
        (s.WAITING, s.SUCCESS),
        (s.IDLE, s.SUCCESS),
        (s.RUNNING, "BOGUS"),
    ],
)
def test_forbidden(old: str, new: str) -> None:
    with pytest.raises(InvalidStateTransition, match=f"from {old} to {new}"):
        s.check_transition(old, new)


def test_a_succeeded_action_is_never_revived() -> None:
    # NOTE: tasks and workflows go from SUCCESS to RUNNING when re-run; their actions are new rows.
    with pytest.raises(InvalidStateTransition, match="from SUCCESS to RUNNING"):
        s.check_transition(s.SUCCESS, s.RUNNING, "action")
    assert s.check_transition(s.SUCCESS, s.RUNNING, "workflow") is True


def test_every_state_has_a_way_in_and_every_unfinished_state_a_way_out() -> None:
    targets = {new for _, new in s.TRANSITIONS}
    sources = {old for old, _ in s.TRANSITIONS}
    assert s.ALL - {s.IDLE, s.WAITING} <= targets
    assert s.ALL - {s.SUCCESS, s.SKIPPED} <= sources


def test_a_task_not_completed_can_still_be_cancelled_with_its_workflow() -> None:
    assert s.TASK_NOT_COMPLETED == {s.IDLE, s.WAITING, s.RUNNING, s.RUNNING_DELAYED, s.PAUSED}
    assert all(s.is_allowed(state, s.CANCELLED) for state in s.TASK_NOT_COMPLETED)
