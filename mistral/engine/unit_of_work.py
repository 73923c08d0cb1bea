"""One engine operation: one transaction, and the work it queued leaves after the commit."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from mistral import context, expressions
from mistral.db import api as db_api
from mistral.db import session as db_session
from mistral.engine import outbox, sender
from mistral.utils import log_ids


@contextlib.contextmanager
def unit_of_work(*, internal: bool = True, urgent: bool = False) -> Iterator[outbox.Outbox]:
    """One transaction; what it queued is sent once it has committed.

    ``internal`` lets the engine read and lock the rows of any project by id; what it
    looks up for an execution (actions, workflows, other executions) it looks up as
    that execution's owner, and what it sends to executors leaves with the owner's context.

    Inside a caller's transaction (a scheduled job) the sending waits for that
    transaction's commit.
    """
    ctx = context.current()
    with contextlib.ExitStack() as stack:
        if internal and not ctx.is_internal:
            stack.enter_context(context.using(ctx.with_(is_internal=True)))
        box = stack.enter_context(outbox.collecting())
        stack.enter_context(log_ids.Scope())
        # NOTE: the rows' JSON is replaced, never changed in place, so within the transaction a large
        # value (a with-items list in the input) is converted for the expressions once, not per item.
        stack.enter_context(expressions.sharing_conversions())
        outer = db_session.current_session()
        with db_api.transaction(urgent=urgent):
            if outer is not None:
                # NOTE: the rows this box's work needs are visible to others only after the outermost
                # commit; if the part of the transaction holding them rolls back, the work goes too.
                db_session.on_commit(lambda: sender.send(box))
                db_session.on_rollback(box.clear)
            yield box
        if outer is None:
            sender.send(box)
