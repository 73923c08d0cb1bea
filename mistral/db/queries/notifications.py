"""Named queries of notification events: the notifier's outbox.

Only the head of a stream (its lowest ``seq``) is ever handed out, and a head is
taken by an atomic UPDATE of ``claimed_at`` and ``claimed_by``; so however many
notifiers run, one stream's events leave one at a time and in order. Finishing
(delete) and failing (release) are guarded by the claim token the claimant
wrote: a notifier whose claim was taken over (it looked dead) cannot undo the
new owner's work.

NOTE: the guard is a token rather than the claim time because MySQL's DATETIME
drops the microseconds, and the time read back would no longer match.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from mistral.db import models
from mistral.db.queries import common
from mistral.db.session import transaction
from mistral.db.types import utcnow

__all__ = [
    "add_notification_event",
    "claim_notification_event",
    "count_notification_events",
    "delete_notification_event",
    "find_notification_heads",
    "load_notification_head",
    "peek_workflow_execution",
    "release_notification_event",
]

Event = models.NotificationEvent


def add_notification_event(values: Mapping[str, Any]) -> models.NotificationEvent:
    """Add an event to the caller's transaction (it leaves only once that commits)."""
    event = Event(**values)
    with transaction() as session:
        session.add(event)
    return event


def peek_workflow_execution(id: str) -> models.WorkflowExecution | None:
    """The execution as the current transaction already holds it (no query then), else as stored.

    NOTE: for the engine's notifications of task changes, made while it holds
    the execution's lock, so the row is in the session and this costs no round-trip.
    """
    with transaction() as session:
        return session.get(models.WorkflowExecution, id)


def _claimable(now: datetime.datetime, claim_timeout_s: float) -> Any:
    stale = now - datetime.timedelta(seconds=claim_timeout_s)
    return sa.and_(Event.next_attempt_at <= now, sa.or_(Event.claimed_at.is_(None), Event.claimed_at < stale))


def find_notification_heads(
    now: datetime.datetime, claim_timeout_s: float, limit: int, *, exclude: tuple[str, ...] = ()
) -> list[models.NotificationEvent]:
    """The first event of each stream, if it is due and nobody holds it; oldest first."""
    heads = sa.select(Event.stream, sa.func.min(Event.seq).label("seq")).group_by(Event.stream).subquery()
    stmt = (
        sa.select(Event)
        .join(heads, Event.seq == heads.c.seq)
        .where(_claimable(now, claim_timeout_s))
        .order_by(Event.seq)
        .limit(limit)
    )
    if exclude:
        stmt = stmt.where(Event.stream.not_in(exclude))
    with transaction(read_only=True) as session:
        return list(session.scalars(stmt))


def load_notification_head(stream: str) -> models.NotificationEvent | None:
    """The first event of ``stream`` whatever its state, or None once the stream is empty."""
    stmt = sa.select(Event).where(Event.stream == stream).order_by(Event.seq).limit(1)
    with transaction(read_only=True) as session:
        return session.scalars(stmt).first()


def claim_notification_event(seq: int, token: str, now: datetime.datetime, claim_timeout_s: float) -> bool:
    """Take the event for delivery under ``token`` (unique per claim): True for exactly one caller."""
    stmt = (
        sa.update(Event)
        .where(Event.seq == seq, _claimable(now, claim_timeout_s))
        .values(claimed_at=now, claimed_by=token, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    with transaction(urgent=True) as session:
        return common.affected_rows(session, stmt) == 1


def delete_notification_event(seq: int, *, token: str | None = None) -> bool:
    """Remove a delivered (or dropped) event; with ``token``, only while that claim holds."""
    conditions = [Event.seq == seq]
    if token is not None:
        conditions.append(Event.claimed_by == token)
    stmt = sa.delete(Event).where(*conditions).execution_options(synchronize_session=False)
    with transaction(urgent=True) as session:
        return common.affected_rows(session, stmt) == 1


def release_notification_event(
    seq: int, *, token: str, next_attempt_at: datetime.datetime, error: str
) -> bool:
    """A failed attempt under claim ``token``: count it; it may be taken again at ``next_attempt_at``."""
    stmt = (
        sa.update(Event)
        .where(Event.seq == seq, Event.claimed_by == token)
        .values(
            claimed_at=None,
            claimed_by=None,
            next_attempt_at=next_attempt_at,
            attempts=Event.attempts + 1,
            last_error=error[:2000],
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    with transaction(urgent=True) as session:
        return common.affected_rows(session, stmt) == 1


def count_notification_events(execution_id: str | None = None) -> int:
    stmt = sa.select(sa.func.count(Event.seq))
    if execution_id is not None:
        stmt = stmt.where(Event.execution_id == execution_id)
    with transaction(read_only=True) as session:
        return session.scalar(stmt) or 0
