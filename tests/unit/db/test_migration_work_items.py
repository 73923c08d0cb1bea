"""Revision 008 adds the ``work_items`` table (external workers' queues) and takes it away again."""

from __future__ import annotations

import datetime

import sqlalchemy as sa

from tests.unit.db.migrations import insert, migrate

T0 = datetime.datetime(2026, 11, 30, 6, 0, 0)


def test_upgrade_creates_the_work_items_table_with_its_indexes_and_downgrade_drops_it(
    fresh: sa.Engine,
) -> None:
    migrate(fresh, "upgrade", "007")
    with fresh.begin() as conn:
        insert(conn, "workflow_executions_v2", id="w", state="RUNNING", created_at=T0)

    migrate(fresh, "upgrade", "008")

    with fresh.begin() as conn:
        insert(conn, "work_items", id="i", project_id="p", scope="private", action_execution_id="a",
                queue="q", tag_key=",gpu,", state="queued", attempt=0, max_attempts=2,
                created_at=T0)  # fmt: skip
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("work_items")}
        rows = conn.execute(sa.text("SELECT id, queue, tag_key, attempt FROM work_items")).all()
    assert indexes >= {"work_items_claim", "work_items_state_lease", "work_items_workflow"}
    assert [tuple(r) for r in rows] == [("i", "q", ",gpu,", 0)]

    migrate(fresh, "downgrade", "007")

    with fresh.connect() as conn:
        assert "work_items" not in sa.inspect(conn).get_table_names()
        assert "workflow_executions_v2" in sa.inspect(conn).get_table_names()
