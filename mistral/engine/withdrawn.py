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
        host = action_ex.executor_host
        # NOTE: an action waiting on its executor is asynchronous and taken by a host; a worker
        # queue's is taken by its queue, and its item was closed above.
        if state != states.CANCELLED or not host:
            continue
        if not action_ex.is_sync and not work_queue.is_queued(action_ex):
            box.abandoned.setdefault(host, []).append(action_ex.id)
