"""One engine operation: one transaction, and the work it queued leaves after the commit."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import event, orm

from mistral import context, expressions
from mistral.db import api as db_api
from mistral.db import session as db_session
from mistral.engine import outbox, sender


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
        # NOTE: the rows' JSON is replaced, never changed in place, so within the transaction a large
        # value (a with-items list in the input) is converted for the expressions once, not per item.
        stack.enter_context(expressions.sharing_conversions())
        outer = db_session.current_session()
        with db_api.transaction(urgent=urgent) as session:
            if outer is not None:
                _send_after_outermost_commit(session, box)
            yield box
        if outer is None:
            sender.send(box)


def _send_after_outermost_commit(session: orm.Session, box: outbox.Outbox) -> None:
    """Send ``box`` when the whole transaction commits; drop it if the part holding its rows rolls back.

    NOTE: SQLAlchemy reports a savepoint's release as a commit too, but nobody
    else sees those rows before the outermost commit: an action sent then can
    finish before its row exists for the engine that gets the result.
    """
    own = session.get_nested_transaction() or session.get_transaction()

    def committed(s: orm.Session) -> None:
        if not s.in_nested_transaction():
            sender.send(box)

    def rolled_back(_s: orm.Session, previous: orm.SessionTransaction) -> None:
        tx = own
        while tx is not None:  # the rows are gone when ``own`` or any transaction around it rolls back
            if tx is previous:
                box.clear()
                return
            tx = tx.parent

    event.listen(session, "after_commit", committed)
    event.listen(session, "after_soft_rollback", rolled_back)
