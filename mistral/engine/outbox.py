"""Work that leaves a transaction only after it commits (architecture rule 2).

Handlers append to the outbox of the current unit of work; the engine sends
its contents once the transaction has committed. What a crash between commit
and send loses, the recovery loop finds again in the database: actions nobody
took are sent again, finished sub-workflows nobody heard of are delivered again.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from mistral.rpc.payloads import ActionRequest

if TYPE_CHECKING:
    from mistral.engine.handover import Offer

T = TypeVar("T")


@dataclass
class Tally:
    """The events of one transaction that the metrics count, kept until it commits."""

    executions_started: int = 0
    #: the final state of each execution that finished
    executions_finished: list[str] = field(default_factory=list)
    #: (final state, seconds since its start) of each task that finished
    tasks_finished: list[tuple[str, float]] = field(default_factory=list)
    results_applied: int = 0

    def clear(self) -> None:
        self.executions_started = self.results_applied = 0
        self.executions_finished.clear()
        self.tasks_finished.clear()


@dataclass
class Outbox:
    actions: list[ActionRequest] = field(default_factory=list)
    #: actions taken for the executor whose results caused them, answered to it (``handover``)
    handed: list[tuple[Offer, ActionRequest]] = field(default_factory=list)
    #: ids of finished sub-workflow executions whose parent task must hear of it
    finished_subworkflows: list[str] = field(default_factory=list)
    #: ids of executions created in this transaction whose first step an engine runs next
    first_steps: list[str] = field(default_factory=list)
    #: results the engine gives itself (a test run's mocked actions), as executors report theirs
    results: list[dict[str, Any]] = field(default_factory=list)
    #: executor host -> ids of its asynchronous actions cancelled here, whose waits it may end
    abandoned: dict[str, list[str]] = field(default_factory=dict)
    #: notification events written in this transaction (the rows are the outbox; this wakes the notifier)
    events: int = 0
    #: what the metrics count once the transaction has committed (``mistral.engine.tallies``)
    tally: Tally = field(default_factory=Tally)

    def __bool__(self) -> bool:
        return bool(
            self.actions
            or self.handed
            or self.finished_subworkflows
            or self.first_steps
            or self.results
            or self.abandoned
            or self.events
        )

    def clear(self) -> None:
        self.actions.clear()
        self.handed.clear()
        self.finished_subworkflows.clear()
        self.first_steps.clear()
        self.results.clear()
        self.abandoned.clear()
        self.events = 0
        self.tally.clear()


_current: contextvars.ContextVar[Outbox | None] = contextvars.ContextVar("mistral_outbox", default=None)


def current() -> Outbox:
    box = _current.get()
    if box is None:
        raise RuntimeError("No outbox: engine handlers must run inside Engine operations")
    return box


@contextlib.contextmanager
def collecting() -> Iterator[Outbox]:
    """A fresh outbox for one operation (nested operations share the outer one)."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    box = Outbox()
    token = _current.set(box)
    try:
        yield box
    finally:
        _current.reset(token)


def peek() -> Outbox | None:
    """The outbox of the operation under way, if any (``current`` raises instead)."""
    return _current.get()


def note_events(count: int) -> None:
    """``count`` notification events were written; outside an engine operation nobody needs telling."""
    box = _current.get()
    if box is not None:
        box.events += count


def draining_chunks(items: list[T], size: int) -> Iterator[list[T]]:
    """``items`` in order, ``size`` at a time, each chunk leaving the list as it is handed out."""
    items.reverse()
    while items:
        chunk = items[-size:]
        del items[-size:]
        chunk.reverse()
        yield chunk


def group_by_target(requests: list[ActionRequest]) -> dict[str | None, list[ActionRequest]]:
    grouped: dict[str | None, list[ActionRequest]] = defaultdict(list)
    for request in requests:
        grouped[request.target].append(request)
    return grouped
