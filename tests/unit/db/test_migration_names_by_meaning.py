"""Revision 007 renames ``accepted`` by meaning and adds ``offered_at``, keeping the data of a database."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa

from tests.unit.db.migrations import T0, insert, migrate


def _rows(engine: sa.Engine, table: str, *columns: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
        query = sa.select(reflected.c.id, *(reflected.c[name] for name in columns)).order_by(reflected.c.id)
        return [tuple(r) for r in conn.execute(query)]


def test_upgrade_keeps_each_fact_under_its_new_name_and_downgrade_gives_it_back(fresh: sa.Engine) -> None:
    migrate(fresh, "upgrade", "006")
    with fresh.begin() as conn:
        insert(conn, "workflow_executions_v2", id="p", state="RUNNING", accepted=False, created_at=T0)
        insert(conn, "workflow_executions_v2", id="w1", state="SUCCESS", accepted=True, created_at=T0)
        insert(conn, "workflow_executions_v2", id="w2", state="SUCCESS", accepted=False, created_at=T0)
        insert(conn, "task_executions_v2", id="t", workflow_execution_id="p", state="RUNNING", created_at=T0)
        for id_, accepted, minutes in (("a1", True, 1), ("a2", False, 2)):
            created = T0 + datetime.timedelta(minutes=minutes)
            insert(conn, "action_executions_v2", id=id_, task_execution_id="t", state="RUNNING",
                    accepted=accepted, created_at=created, sent_at=created)  # fmt: skip

    migrate(fresh, "upgrade", "007")

    assert _rows(fresh, "workflow_executions_v2", "reported_to_parent") == [
        ("p", False), ("w1", True), ("w2", False)
    ]  # fmt: skip
    assert _rows(fresh, "action_executions_v2", "result_applied", "offered_at", "created_at") == [
        ("a1", True, T0 + datetime.timedelta(minutes=1), T0 + datetime.timedelta(minutes=1)),
        ("a2", False, T0 + datetime.timedelta(minutes=2), T0 + datetime.timedelta(minutes=2)),
    ]

    migrate(fresh, "downgrade", "006")

    assert _rows(fresh, "workflow_executions_v2", "accepted") == [("p", False), ("w1", True), ("w2", False)]
    assert _rows(fresh, "action_executions_v2", "accepted") == [("a1", True), ("a2", False)]
    with fresh.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("action_executions_v2")}
    assert "offered_at" not in columns and "result_applied" not in columns
