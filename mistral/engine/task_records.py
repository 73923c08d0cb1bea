"""A task execution's own record: its state changes and its typed runtime bookkeeping.

The bookkeeping (retries done, policies already applied, join and with-items
progress) is stored as JSON in ``runtime_context``; here it is one frozen
dataclass, read with ``runtime(task_ex)`` and written with
``update_runtime(task_ex, field=value)`` (or ``reset_for_rerun(task_ex)``), so a key
cannot be misspelt or forgotten.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from mistral.db import models
from mistral.db.types import utcnow
from mistral.engine import notifications, tallies
from mistral.workflow import states


@dataclass(frozen=True)
class JoinCounts:
    """Inbound branches of a join task that arrived, and that can no longer arrive."""

    arrived: int = 0
    missed: int = 0
    #: the task executions counted in ``missed``: a re-run of one of them takes its miss back
    missed_by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "missed_by", tuple(self.missed_by))  # NOTE: JSON gives a list back


@dataclass(frozen=True)
class WithItemsProgress:
    count: int = 0
    done: int = 0
    failed: int = 0
    #: the index of the next item to launch
    next: int = 0
    #: 0: every item at once
    concurrency: int = 0


@dataclass(frozen=True)
class PendingOutcome:
    """The outcome a wait-after policy holds back until its delay ends."""

    state: str = states.SUCCESS
    result: Any = None
    state_info: str | None = None


@dataclass(frozen=True)
class TaskRuntime:
    retry_no: int = 0
    #: when the retry scheduled last starts (ISO 8601, naive UTC), for reports
    next_retry_at: str | None = None
    rerun_no: int = 0
    pause_before_done: bool = False
    wait_before_done: bool = False
    wait_after_done: bool = False
    pending: PendingOutcome | None = None
    timeout_scheduled: bool = False
    timed_out: bool = False
    join: JoinCounts | None = None
    with_items: WithItemsProgress | None = None
    #: the task whose re-run replaced this execution: it is history, no longer counted (see ``rerun_from``)
    superseded_by: str | None = None

    def reset_for_rerun(self) -> TaskRuntime:
        """The record a re-run starts from: retries, timeout and wait-after start afresh.

        What it keeps is ``KEPT_ON_RERUN``; a new field must go in one list or the other
        (tests/unit/engine/test_task_records.py fails until it does).
        """
        return dataclasses.replace(
            self,
            retry_no=0,
            next_retry_at=None,
            rerun_no=self.rerun_no + 1,
            wait_after_done=False,
            pending=None,
            timeout_scheduled=False,
            timed_out=False,
        )


#: The fields a re-run keeps, and why.
KEPT_ON_RERUN = {
    "pause_before_done": "the task already paused before it ran once; a re-run does not pause again",
    "wait_before_done": "the task already waited before it ran once; a re-run does not wait again",
    "join": "the inbound branches arrived once and do not arrive again",
    "with_items": "with_items.start decides per item: all of them again, or only the failed ones",
    "superseded_by": "a superseded execution is history: it is never re-run itself (the re-run is refused)",
}


_NESTED = {"join": JoinCounts, "with_items": WithItemsProgress, "pending": PendingOutcome}
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(TaskRuntime)}


def runtime(task_ex: models.TaskExecution) -> TaskRuntime:
    stored = task_ex.runtime_context or {}
    values = {k: v for k, v in stored.items() if k in _DEFAULTS}
    for name, cls in _NESTED.items():
        if isinstance(values.get(name), dict):
            values[name] = cls(**values[name])
    return TaskRuntime(**values)


def update_runtime(task_ex: models.TaskExecution, **changes: Any) -> TaskRuntime:
    """Write a changed copy (JSON columns track assignment, not mutation)."""
    updated = dataclasses.replace(runtime(task_ex), **changes)
    task_ex.runtime_context = _as_json(updated)
    return updated


def with_items_progress(task_ex: models.TaskExecution) -> WithItemsProgress:
    """``runtime(task_ex).with_items``, read without the rest (once per item: the hot path)."""
    stored = (task_ex.runtime_context or {}).get("with_items")
    return WithItemsProgress(**stored) if stored else WithItemsProgress()


def superseded(task_ex: models.TaskExecution) -> bool:
    """``runtime(task_ex).superseded_by`` is set, read without the rest (once per finished task listed)."""
    return bool((task_ex.runtime_context or {}).get("superseded_by"))


def rerun_no(task_ex: models.TaskExecution) -> int:
    """``runtime(task_ex).rerun_no``, read without the rest (once per with-items launch)."""
    return int((task_ex.runtime_context or {}).get("rerun_no", 0))


def set_with_items_progress(task_ex: models.TaskExecution, progress: WithItemsProgress) -> None:
    """``update_runtime(task_ex, with_items=progress)``, written without reading the rest."""
    task_ex.runtime_context = {**(task_ex.runtime_context or {}), "with_items": dict(vars(progress))}


def _as_json(record: TaskRuntime) -> dict[str, Any]:
    """Only what differs from the defaults; nested records as flat dicts.

    NOTE: not ``dataclasses.asdict``: it deep-copies every value (a held-back
    result included) on every task transition that writes the record.
    """
    out: dict[str, Any] = {}
    for name, default in _DEFAULTS.items():
        value = getattr(record, name)
        if value != default:
            out[name] = _plain(value) if name in _NESTED else value
    return out


def _plain(record: Any) -> dict[str, Any]:
    """A nested record as JSON gives it back: tuples as lists, an empty one (its default) left out."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in vars(record).items() if v != ()}


def reset_for_rerun(task_ex: models.TaskExecution) -> TaskRuntime:
    """Write ``TaskRuntime.reset_for_rerun()`` of the task's record."""
    updated = runtime(task_ex).reset_for_rerun()
    task_ex.runtime_context = _as_json(updated)
    return updated


def set_state(task_ex: models.TaskExecution, state: str, state_info: str | None = None) -> bool:
    old = task_ex.state
    if not states.check_transition(old, state, "task"):
        return False
    task_ex.state = state
    if state_info is not None:
        task_ex.state_info = state_info
    if state == states.RUNNING and task_ex.started_at is None:
        task_ex.started_at = utcnow()
    if states.is_completed(state):
        task_ex.finished_at = utcnow()
        tallies.task_finished(task_ex)
    notifications.task_changed(task_ex, old)
    return True
