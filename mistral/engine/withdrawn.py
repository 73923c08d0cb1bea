"""Actions the engine cancelled while they ran: whoever holds one stops working on it.

A worker's item is closed in the transaction (its result is refused from then on). An
asynchronous action that waits on its executor (``std.amqp_wait``) would otherwise go on
waiting, with its broker connection, until its own timeout: its executor is told after the
commit. A lost message only costs that wait; the engine refuses its late result either way.
"""

from __future__ import annotations

from collections.abc import Sequence

from mistral.db import models
from mistral.engine import outbox, work_queue
from mistral.workflow import states


def withdraw(cancelled: Sequence[tuple[models.ActionExecution, str]]) -> None:
    """``(action, states.CANCELLED)`` pairs whose cancel is being written in this unit of work."""
    work_queue.close(cancelled)
    box = outbox.current()
    for action_ex, state in cancelled:
        if state == states.CANCELLED and _waits_on_its_executor(action_ex):
            box.abandoned.setdefault(action_ex.executor_host, []).append(action_ex.id)


def _waits_on_its_executor(action_ex: models.ActionExecution) -> bool:
    return bool(not action_ex.is_sync and action_ex.executor_host and not work_queue.is_queued(action_ex))
