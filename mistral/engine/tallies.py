"""Counting what the engine did for the metrics (``mistral.metrics.series``), once it has committed.

An event is noted in the tally of the current unit of work's outbox and counted by the
sender after the commit, with the rest of the outbox: a unit rolled back and run again
after a transient database error counts its executions and tasks once, not twice.
Outside a unit of work (nothing to wait for) an event is counted at once.

NOTE: the cost per task is one subtraction of two timestamps the row has anyway and one
append; nothing here reads the database.
"""

from __future__ import annotations

from mistral.db import models
from mistral.engine import outbox
from mistral.engine.outbox import Tally
from mistral.metrics import series


def execution_started() -> None:
    box = outbox.peek()
    if box is None:
        series.EXECUTIONS_STARTED.inc()
    else:
        box.tally.executions_started += 1


def execution_finished(state: str) -> None:
    box = outbox.peek()
    if box is None:
        series.executions_finished(state).inc()
    else:
        box.tally.executions_finished.append(state)


def task_finished(task_ex: models.TaskExecution) -> None:
    """``task_ex`` has just reached its final state (``finished_at`` is set)."""
    if task_ex.started_at is None or task_ex.finished_at is None:
        return  # never started (cancelled or skipped while it waited): no duration to tell
    seconds = (task_ex.finished_at - task_ex.started_at).total_seconds()
    box = outbox.peek()
    if box is None:
        series.task_duration(task_ex.state).observe(seconds)
    else:
        box.tally.tasks_finished.append((task_ex.state, seconds))


def results_applied(count: int) -> None:
    box = outbox.peek()
    if box is None:
        series.RESULTS_APPLIED.inc(count)
    else:
        box.tally.results_applied += count


def count(tally: Tally) -> None:
    """The transaction of ``tally`` has committed: count its events."""
    if tally.executions_started:
        series.EXECUTIONS_STARTED.inc(tally.executions_started)
    for state in tally.executions_finished:
        series.executions_finished(state).inc()
    for state, seconds in tally.tasks_finished:
        series.task_duration(state).observe(seconds)
    if tally.results_applied:
        series.RESULTS_APPLIED.inc(tally.results_applied)
