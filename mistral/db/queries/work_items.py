"""Named queries of work items: actions that external workers claim from named queues.

A claim is safe with many API processes: the candidates are picked with
``SELECT ... FOR UPDATE SKIP LOCKED`` (so two claimers never wait on, or take, the
same rows) and taken by an UPDATE that checks again that each is still claimable.
SQLite has no row locks; its write transactions (``BEGIN IMMEDIATE``) run one at a
time, which gives the same guarantee.

States: ``queued`` (claimable), ``claimed`` (a worker holds its lease), ``paused``
(its workflow is paused), and the final ``done``, ``cancelled`` and ``failed``.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import sqlalchemy as sa

from mistral.db import models
from mistral.db.queries import common
from mistral.db.query import ListQuery
from mistral.db.session import statement, transaction
from mistral.db.types import utcnow
from mistral.exceptions import NotFoundError
from mistral.utils import uuids

__all__ = [
    "HeldItem",
    "WORK_CANCELLED",
    "WORK_CLAIMED",
    "WORK_DONE",
    "WORK_FAILED",
    "WORK_OPEN",
    "WORK_PAUSED",
    "WORK_QUEUED",
    "WORK_STATES",
    "claim_work_items",
    "close_work_items",
    "count_work_items_by_queue",
    "extend_work_item_lease",
    "fail_exhausted_work_items",
    "finish_work_items",
    "get_work_item",
    "has_claimable_work",
    "insert_work_items",
    "list_work_items",
    "load_work_item_of_action",
    "lock_work_items_of_actions",
    "pause_work_items",
    "release_work_item",
    "requeue_expired_work_items",
    "resume_work_items",
    "tag_key",
]

Item = models.WorkItem

WORK_QUEUED = "queued"
WORK_CLAIMED = "claimed"
WORK_PAUSED = "paused"
WORK_DONE = "done"
WORK_CANCELLED = "cancelled"
WORK_FAILED = "failed"
WORK_OPEN = (WORK_QUEUED, WORK_CLAIMED, WORK_PAUSED)
WORK_STATES = (*WORK_OPEN, WORK_DONE, WORK_CANCELLED, WORK_FAILED)


def tag_key(tags: Iterable[str]) -> str:
    """``",a,b,"``: every tag between commas, so "has tag t" is ``LIKE '%,t,%'``."""
    return "," + "".join(f"{t}," for t in sorted(set(tags)))


def insert_work_items(rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert new items (``queued``) with their action executions, in the caller's transaction."""
    if not rows:
        return
    now = utcnow()
    full = [
        {
            "created_at": now,
            "scope": "private",
            "state": WORK_QUEUED,
            "attempt": 0,
            **row,
            "id": uuids.generate(),
        }
        for row in rows
    ]
    with transaction() as session:
        session.flush()
        session.connection().execute(sa.insert(Item), full)


def _with_tags(tags: Sequence[str]) -> list[Any]:
    return [Item.tag_key.contains(f",{t},", autoescape=True) for t in tags]


def _expired(now: datetime.datetime) -> Any:
    """Held by a worker whose lease ran out, with attempts left."""
    return sa.and_(Item.state == WORK_CLAIMED, Item.lease_expires_at < now, Item.attempt < Item.max_attempts)


def has_claimable_work(project_id: str, queue: str, tags: Sequence[str], now: datetime.datetime) -> bool:
    """Whether a claim could take something now: a read, so an idle long-poll takes no write lock."""
    base = [Item.project_id == project_id, Item.queue == queue, *_with_tags(tags)]
    stmt = sa.select(Item.id).where(*base, sa.or_(Item.state == WORK_QUEUED, _expired(now))).limit(1)
    with transaction(read_only=True) as session:
        return session.scalar(stmt) is not None


def claim_work_items(
    project_id: str,
    queue: str,
    tags: Sequence[str],
    *,
    limit: int,
    lease: float,
    worker: str | None,
    now: datetime.datetime,
) -> list[Any]:
    """Take up to ``limit`` claimable items of the queue having every tag in ``tags``, for ``lease`` seconds.

    Each item taken gets ``attempt`` + 1 and this claim's ``lease_token``. Items queued
    come first (oldest first), then items whose lease expired. The answer's rows carry the
    item's columns as attributes.
    """
    params: dict[str, Any] = {
        "b_project": project_id,
        "b_queue": queue,
        "b_now": now,
        "b_token": uuids.generate(),
        "b_expires": now + datetime.timedelta(seconds=lease),
        "b_worker": worker,
        **{f"b_tag{i}": f"%,{_escaped(tag)},%" for i, tag in enumerate(tags)},
    }
    taken: list[Any] = []
    # NOTE: two picks, not one with OR: each follows the claim index in its order. Each is one
    # statement (UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING), atomic on
    # its own: a busy queue's claim is one round trip. It is urgent, as an executor's take is: a
    # worker waits on it with nothing to do, while a result batch it goes before only grows.
    for expired in (False, True):
        if len(taken) >= limit:
            break
        with statement(urgent=True) as conn:
            rows = conn.execute(_CLAIM(len(tags), expired), {**params, "b_limit": limit - len(taken)})
            taken += list(rows)
    return sorted(taken, key=lambda row: row.created_at)


def _escaped(tag: str) -> str:
    return tag.replace("/", "//").replace("%", "/%").replace("_", "/_")


@functools.cache
def _CLAIM(tag_count: int, expired: bool) -> sa.Update:  # noqa: N802 - a constant per shape, built on first use
    table = cast(sa.Table, Item.__table__)
    c = table.c
    now: sa.BindParameter[datetime.datetime] = sa.bindparam("b_now")
    claimable = (
        sa.and_(c.state == WORK_CLAIMED, c.lease_expires_at < now, c.attempt < c.max_attempts)
        if expired
        else c.state == WORK_QUEUED
    )
    pick = (
        sa.select(c.id)
        .where(
            c.project_id == sa.bindparam("b_project"),
            c.queue == sa.bindparam("b_queue"),
            claimable,
            *(c.tag_key.like(sa.bindparam(f"b_tag{i}"), escape="/") for i in range(tag_count)),
        )
        .order_by(c.created_at)
        .limit(sa.bindparam("b_limit"))
        .with_for_update(skip_locked=True)
    )
    # NOTE: a CTE, materialized: PostgreSQL may run an IN (subquery) again for each row it updates,
    # and so take more rows than the limit.
    picked = pick.cte("picked").prefix_with("MATERIALIZED", dialect="postgresql")
    return (
        sa.update(table)
        .where(c.id == picked.c.id, claimable)
        .values(
            state=WORK_CLAIMED,
            attempt=c.attempt + 1,
            lease_token=sa.bindparam("b_token"),
            lease_expires_at=sa.bindparam("b_expires"),
            worker=sa.bindparam("b_worker"),
            updated_at=now,
        )
        .returning(*c)
    )


def get_work_item(id: str) -> models.WorkItem:
    """The item if the caller's project may see it (an admin sees every project's)."""
    item = common.by_id(Item, id)
    if item is None:
        raise NotFoundError(Item.__kind__, id)
    return item


def list_work_items(q: ListQuery | None = None, *conditions: Any) -> list[models.WorkItem]:
    return common.find_all(Item, q or ListQuery(), *conditions)


def _held(id: str, token: str | None) -> list[Any]:
    """The item claimed under ``token`` (under any claim without one)."""
    held = [Item.id == id, Item.state == WORK_CLAIMED]
    if token is not None:
        held.append(Item.lease_token == token)
    return held


def extend_work_item_lease(
    id: str, token: str | None, lease: float, now: datetime.datetime
) -> models.WorkItem | None:
    """Renew the lease of a claimed item whose holder ``token`` names; None when it is not held so.

    NOTE: a lease already run out is renewed while nobody else has claimed the item: its holder
    is still the only one working on it. Without a token, whoever holds it is renewed.
    """
    held = _held(id, token)
    stmt = (
        sa.update(Item)
        .where(*held)
        .values(lease_expires_at=now + datetime.timedelta(seconds=lease), updated_at=now)
        .execution_options(synchronize_session=False)
    )
    with transaction() as session:
        if common.affected_rows(session, stmt) != 1:
            return None
        return session.scalars(
            sa.select(Item).where(Item.id == id).execution_options(populate_existing=True)
        ).one()


def release_work_item(id: str, token: str | None, now: datetime.datetime) -> bool:
    """Give back a claimed item unrun (a worker stopping): queued again, this claim not counted."""
    held = _held(id, token)
    stmt = (
        sa.update(Item)
        .where(*held)
        .values(
            state=WORK_QUEUED,
            attempt=Item.attempt - 1,
            lease_token=None,
            lease_expires_at=None,
            worker=None,
            updated_at=now,
        )  # fmt: skip
        .execution_options(synchronize_session=False)
    )
    with transaction() as session:
        return common.affected_rows(session, stmt) == 1


@dataclasses.dataclass
class HeldItem:
    """The claim of an item, read under its row lock: what a worker's result is settled against."""

    id: str
    action_execution_id: str
    state: str
    lease_token: str | None
    attempt: int


def lock_work_items_of_actions(action_ex_ids: Sequence[str]) -> dict[str, HeldItem]:
    """The claims of the items of these action executions by action id, locked for the caller's transaction.

    NOTE: locked in id order, so two batches of results never wait for each other in a circle.
    Only the claim's columns are read, as plain rows: a result batch's items need no ORM
    objects (their input, decoded for nothing, cost more than the rest of the settling).
    """
    if not action_ex_ids:
        return {}
    with transaction() as session:
        rows = session.connection().execute(_LOCK_HELD(), {"ids": sorted(set(action_ex_ids))})
        return {row.action_execution_id: HeldItem(*row) for row in rows}


@functools.cache
def _LOCK_HELD() -> sa.Select:  # noqa: N802 - a constant, built on first use
    c = cast(sa.Table, Item.__table__).c
    return (
        sa.select(c.id, c.action_execution_id, c.state, c.lease_token, c.attempt)
        .where(c.action_execution_id.in_(sa.bindparam("ids", expanding=True)))
        .order_by(c.id)
        .with_for_update()
    )


def finish_work_items(item_ids: Sequence[str]) -> int:
    """Items whose worker's result was accepted (settled under their locks) are done."""
    if not item_ids:
        return 0
    with transaction() as session:
        result = session.connection().execute(_FINISH(), {"ids": list(item_ids), "b_now": utcnow()})
        return cast(sa.CursorResult[Any], result).rowcount


@functools.cache
def _FINISH() -> sa.Update:  # noqa: N802 - a constant, built on first use
    table = cast(sa.Table, Item.__table__)
    c = table.c
    return (
        sa.update(table)
        .where(c.id.in_(sa.bindparam("ids", expanding=True)))
        .values(state=WORK_DONE, updated_at=sa.bindparam("b_now"))
    )


def load_work_item_of_action(action_ex_id: str) -> models.WorkItem | None:
    """The item of an action execution, as it is now (no lock): to tell a refused worker why."""
    with transaction(read_only=True) as session:
        return session.scalars(sa.select(Item).where(Item.action_execution_id == action_ex_id)).first()


def _set_state(conditions: list[Any], state: str) -> int:
    stmt = (
        sa.update(Item)
        .where(*conditions)
        .values(state=state, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    with transaction() as session:
        return common.affected_rows(session, stmt)


def close_work_items(action_ex_ids: Sequence[str], state: str) -> int:
    """The actions of ``action_ex_ids`` ended: their open items end in ``state`` (done or cancelled)."""
    if not action_ex_ids:
        return 0
    return _set_state([Item.action_execution_id.in_(list(action_ex_ids)), Item.state.in_(WORK_OPEN)], state)


def pause_work_items(wf_ex_id: str) -> int:
    """Items of a paused workflow not yet claimed are withheld from claims (a claimed one runs on)."""
    return _set_state([Item.workflow_execution_id == wf_ex_id, Item.state == WORK_QUEUED], WORK_PAUSED)


def resume_work_items(wf_ex_id: str) -> int:
    return _set_state([Item.workflow_execution_id == wf_ex_id, Item.state == WORK_PAUSED], WORK_QUEUED)


def requeue_expired_work_items(now: datetime.datetime) -> int:
    """Items whose lease ran out, with attempts left, are queued again (a claim would take them anyway)."""
    stmt = (
        sa.update(Item)
        .where(_expired(now))
        .values(state=WORK_QUEUED, lease_token=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    with transaction() as session:
        return common.affected_rows(session, stmt)


def fail_exhausted_work_items(now: datetime.datetime, limit: int) -> list[models.WorkItem]:
    """Items whose last lease ran out with no attempt left: marked failed, answered for their actions."""
    with transaction() as session:
        pick = (
            sa.select(Item.id)
            .where(Item.state == WORK_CLAIMED, Item.lease_expires_at < now, Item.attempt >= Item.max_attempts)
            .order_by(Item.lease_expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = list(session.scalars(pick))
        if not ids:
            return []
        _set_state([Item.id.in_(ids), Item.state == WORK_CLAIMED, Item.lease_expires_at < now], WORK_FAILED)
        found = sa.select(Item).where(Item.id.in_(ids), Item.state == WORK_FAILED)
        return list(session.scalars(found.execution_options(populate_existing=True)))


def count_work_items_by_queue(states: Iterable[str] = WORK_OPEN) -> list[tuple[str, str, int]]:
    """(queue, state, count) of every project's items in ``states``: the queue depth an operator watches."""
    stmt = (
        sa.select(Item.queue, Item.state, sa.func.count(Item.id))
        .where(Item.state.in_(list(states)))
        .group_by(Item.queue, Item.state)
    )
    with transaction(read_only=True) as session:
        return [(queue, state, int(count)) for queue, state, count in session.execute(stmt)]
