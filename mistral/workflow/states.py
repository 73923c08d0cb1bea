"""State names and the one table of allowed transitions.

Every state write in ``mistral.engine`` goes through ``check_transition``
(``workflows.set_state``, ``task_records.set_state``, ``action_results.outcome``,
``Engine.update_action``): an illegal change raises instead of silently
overwriting. The one exception is a compare-and-set in the database
(``update_action_execution_state``) that cancels a RUNNING action with its
workflow or its timeout: a pair of the table, written only while the row is RUNNING.
"""

from __future__ import annotations

from mistral.exceptions import InvalidStateTransition

IDLE = "IDLE"
WAITING = "WAITING"
RUNNING = "RUNNING"
RUNNING_DELAYED = "DELAYED"
PAUSED = "PAUSED"
SUCCESS = "SUCCESS"
ERROR = "ERROR"
CANCELLED = "CANCELLED"
SKIPPED = "SKIPPED"

ALL = frozenset({IDLE, WAITING, RUNNING, RUNNING_DELAYED, PAUSED, SUCCESS, ERROR, CANCELLED, SKIPPED})
COMPLETED = frozenset({SUCCESS, ERROR, CANCELLED, SKIPPED})
ACTIVE = frozenset({RUNNING, RUNNING_DELAYED})
#: A task in one of these may still change: stopping its workflow cancels it.
TASK_NOT_COMPLETED = ALL - COMPLETED

TRANSITIONS = frozenset(
    {
        (IDLE, RUNNING),  # dependencies met or resumed: the engine schedules it
        (IDLE, ERROR),  # failed before it could start (bad input, bad expression)
        (IDLE, CANCELLED),  # its workflow was cancelled while it waited
        (IDLE, PAUSED),  # pause-before, or its workflow paused before it started
        (WAITING, RUNNING),  # the join is satisfied
        (WAITING, ERROR),  # the join can no longer be satisfied
        (WAITING, CANCELLED),  # its workflow was cancelled while it waited
        (RUNNING, PAUSED),  # its workflow paused
        (RUNNING, IDLE),  # pause-before holds a task that was about to start
        (RUNNING, RUNNING_DELAYED),  # wait-before, wait-after or a retry delay
        (RUNNING, SUCCESS),  # its action or sub-workflow succeeded
        (RUNNING, ERROR),  # its action failed, timed out, or an expression failed
        (RUNNING, CANCELLED),  # cancelled by the user or the workflow
        (RUNNING_DELAYED, RUNNING),  # the delay elapsed
        (RUNNING_DELAYED, SUCCESS),  # wait-after elapsed on a succeeded task
        (RUNNING_DELAYED, ERROR),  # forced to fail while delayed
        (RUNNING_DELAYED, CANCELLED),  # cancelled while delayed
        (RUNNING_DELAYED, PAUSED),  # its workflow paused during a delay
        (PAUSED, RUNNING),  # resumed
        (PAUSED, ERROR),  # failed while paused
        (PAUSED, CANCELLED),  # cancelled while paused
        (PAUSED, SUCCESS),  # forced to succeed while paused (workflows)
        (CANCELLED, RUNNING),  # re-run of a cancelled task or workflow
        (ERROR, RUNNING),  # re-run of a failed task or workflow
        (SUCCESS, RUNNING),  # re-run of a succeeded task and what follows it, its workflow with it
        (ERROR, SKIPPED),  # a failed task skipped by the user
        (ERROR, WAITING),  # a join that failed for a missing branch waits again: that branch is re-run
    }
)


#: Pairs of the table that an action execution never takes: a re-run makes a new action, so
#: an action that succeeded stays so (``Engine.update_action`` would otherwise revive one).
NOT_FOR_ACTIONS = frozenset({(SUCCESS, RUNNING)})


def is_completed(state: str) -> bool:
    return state in COMPLETED


def is_allowed(old: str, new: str) -> bool:
    return old == new or (old, new) in TRANSITIONS


def check_transition(old: str, new: str, kind: str = "task") -> bool:
    """True: apply the change; False: a harmless repeat. Raises for a forbidden change."""
    if new not in ALL:
        raise InvalidStateTransition(kind, old, new)
    if old == new:
        return False
    if (old, new) not in TRANSITIONS or (kind == "action" and (old, new) in NOT_FOR_ACTIONS):
        raise InvalidStateTransition(kind, old, new)
    return True
