"""Named locks: one holder at a time across every process sharing the database.

A lock is a row of ``named_locks``, created the first time its name is asked for and
locked for update until the caller's transaction ends. Waiting for it is waiting for a
row lock, which the database breaks as it does any other (a deadlock, a lock timeout:
transient errors the caller's retry handles).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from mistral.db import models
from mistral.db.session import transaction
from mistral.db.types import utcnow
from mistral.utils import uuids

__all__ = ["hold_named_lock"]


def hold_named_lock(name: str) -> None:
    """Hold the lock ``name`` until the caller's transaction ends (its own when there is none).

    NOTE: SQLite has no row locks, but its writers already go one at a time.
    """
    with transaction() as session:
        conn = session.connection()
        conn.execute(
            _insert_if_missing(conn.dialect.name), {"id": uuids.generate(), "name": name, "now": utcnow()}
        )
        table = _table()
        conn.execute(sa.select(table.c.id).where(table.c.name == name).with_for_update())


def _table() -> sa.Table:
    return models.NamedLock.__table__  # type: ignore[return-value]


def _insert_if_missing(dialect: str) -> Any:
    """An insert of the lock's row that does nothing when another transaction has it, committed or not."""
    table = _table()
    values: dict[str, Any] = {
        "id": sa.bindparam("id"),
        "name": sa.bindparam("name"),
        "created_at": sa.bindparam("now"),
    }
    if dialect == "postgresql":
        return postgresql.insert(table).values(values).on_conflict_do_nothing(index_elements=["name"])
    if dialect == "sqlite":
        return sqlite.insert(table).values(values).on_conflict_do_nothing(index_elements=["name"])
    return sa.insert(table).values(values).prefix_with("IGNORE", dialect="mysql")
