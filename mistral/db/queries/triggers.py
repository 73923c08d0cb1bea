"""Named queries of cron triggers, and the selection queries of the expiration policy.

A cron trigger fires once per due time however many engines look at it
(architecture rule 5): ``claim_cron_trigger`` moves ``next_execution_time`` on by a
compare-and-set, so of many callers holding the same due time exactly one
changes the row. The winner starts the execution in the same transaction, so
a firing is neither lost nor doubled by a crash.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import sqlalchemy as sa

from mistral import context
from mistral.db import models
from mistral.db.queries import common
from mistral.db.query import ListQuery
from mistral.db.session import transaction
from mistral.db.types import utcnow

__all__ = [
    "trigger_names_of_workflows",
    "find_cron_triggers_like",
    "claim_cron_trigger",
    "count_finished_root_executions",
    "create_cron_trigger",
    "delete_cron_trigger",
    "find_expired_root_executions",
    "find_oldest_finished_root_executions",
    "get_cron_trigger",
    "list_cron_triggers",
    "list_due_cron_triggers",
    "load_cron_trigger",
    "trigger_savepoint",
    "update_cron_trigger",
]

Trigger = models.CronTrigger
WfEx = models.WorkflowExecution


@contextlib.contextmanager
def trigger_savepoint() -> Iterator[None]:
    """A savepoint inside the current transaction: one trigger's failed firing undoes only itself.

    NOTE: the cron job fires many triggers in the scheduler's one transaction;
    without a savepoint a trigger whose workflow refuses to start would roll
    back every other firing with it, and block them all on each retry.
    """
    with transaction() as session, session.begin_nested():
        yield


# -- cron triggers ---------------------------------------------------------------


def create_cron_trigger(values: Mapping[str, Any]) -> models.CronTrigger:
    return common.create(Trigger, values, str(values.get("name", "")))


def find_cron_triggers_like(values: Mapping[str, Any]) -> list[models.CronTrigger]:
    """The caller's own cron triggers of ``values``' workflow with the same pattern, first time and count."""
    conditions = [
        Trigger.project_id == context.current().project_id,
        Trigger.workflow_id == values["workflow_id"],
    ]
    for name in ("pattern", "first_execution_time", "remaining_executions"):
        col, value = getattr(Trigger, name), values.get(name)
        conditions.append(col.is_(None) if value is None else col == value)
    with transaction(read_only=True) as session:
        return list(session.scalars(sa.select(Trigger).where(*conditions)))


def load_cron_trigger(identifier: str) -> models.CronTrigger | None:
    """By id, or by name (the caller's own before another project's public one)."""
    return common.first(Trigger, *common.by_name_or_id(Trigger, identifier, None))


def get_cron_trigger(identifier: str) -> models.CronTrigger:
    return common.get(Trigger, identifier, None)


def list_cron_triggers(q: ListQuery | None = None) -> list[models.CronTrigger]:
    return common.find_all(Trigger, q or ListQuery())


def update_cron_trigger(identifier: str, values: Mapping[str, Any]) -> models.CronTrigger:
    """For operators and tests; the API has no PUT and firing goes through ``claim_cron_trigger``."""
    return common.update(get_cron_trigger(identifier), values)


def delete_cron_trigger(identifier: str) -> None:
    common.delete(get_cron_trigger(identifier))


def trigger_names_of_workflows(workflow_ids: Iterable[str]) -> list[str]:
    """Names of the cron and event triggers, in any project, that start one of these workflows."""
    ids = list(workflow_ids)
    if not ids:
        return []
    names: list[str] = []
    with transaction(read_only=True) as session:
        for model in (models.CronTrigger, models.EventTrigger):
            names += session.scalars(sa.select(model.name).where(model.workflow_id.in_(ids))).all()
    return names


def list_due_cron_triggers(now: datetime.datetime, limit: int) -> list[models.CronTrigger]:
    """Triggers of every project whose next time has come, the longest due first."""
    stmt = (
        sa.select(Trigger)
        .where(Trigger.next_execution_time <= now)
        .order_by(Trigger.next_execution_time, Trigger.id)
        .limit(limit)
    )
    with transaction(read_only=True) as session:
        return list(session.scalars(stmt))


def claim_cron_trigger(
    id: str,
    due: datetime.datetime,
    next_time: datetime.datetime | None,
    remaining: int | None,
) -> bool:
    """Take the firing due at ``due``; True for exactly one of many concurrent callers.

    The trigger moves to ``next_time`` with ``remaining`` executions left, or
    is deleted when ``next_time`` is None (its last firing).

    NOTE: the row is matched on the due time the caller read. A concurrent
    claimer's UPDATE waits for the winner's row lock (PostgreSQL, READ
    COMMITTED re-reads the row) or for the single writer (SQLite), then finds
    the time moved on and changes nothing.
    """
    where = (Trigger.id == id, Trigger.next_execution_time == due)
    if next_time is None:
        stmt: Any = sa.delete(Trigger).where(*where)
    else:
        stmt = (
            sa.update(Trigger)
            .where(*where)
            .values(next_execution_time=next_time, remaining_executions=remaining, updated_at=utcnow())
        )
    with transaction() as session:
        return common.affected_rows(session, stmt.execution_options(synchronize_session=False)) == 1


# -- expiration policy -------------------------------------------------------------


def _changed_at() -> Any:
    # NOTE: an execution that finished in the transaction that created it was never updated.
    return sa.func.coalesce(WfEx.updated_at, WfEx.created_at)


def _finished_roots(states: Iterable[str]) -> tuple[Any, ...]:
    # NOTE: every project's executions: the policy is the operator's, not a tenant's.
    return (WfEx.task_execution_id.is_(None), WfEx.state.in_(list(states)))


def find_expired_root_executions(
    states: Iterable[str], updated_before: datetime.datetime, limit: int | None
) -> list[str]:
    """Ids of root executions in ``states`` last changed before ``updated_before``, oldest first."""
    stmt = (
        sa.select(WfEx.id)
        .where(*_finished_roots(states), _changed_at() < updated_before)
        .order_by(_changed_at(), WfEx.id)
        .limit(limit)
    )
    with transaction(read_only=True) as session:
        return list(session.scalars(stmt))


def count_finished_root_executions(states: Iterable[str]) -> int:
    stmt = sa.select(sa.func.count(WfEx.id)).where(*_finished_roots(states))
    with transaction(read_only=True) as session:
        return session.scalar(stmt) or 0


def find_oldest_finished_root_executions(states: Iterable[str], limit: int) -> list[str]:
    """Ids of the ``limit`` least recently changed root executions in ``states``."""
    stmt = sa.select(WfEx.id).where(*_finished_roots(states)).order_by(_changed_at(), WfEx.id).limit(limit)
    with transaction(read_only=True) as session:
        return list(session.scalars(stmt))
