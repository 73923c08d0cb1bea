"""Revision 009 adds definition history and test runs, keeping what a database holds."""

from __future__ import annotations

import sqlalchemy as sa

from tests.unit.db.migrations import insert, migrate


def _columns(engine: sa.Engine, table: str) -> set[str]:
    with engine.connect() as conn:
        return {c["name"] for c in sa.inspect(conn).get_columns(table)}


def test_upgrade_makes_every_workflow_its_version_1_and_downgrade_drops_the_history(fresh: sa.Engine) -> None:
    migrate(fresh, "upgrade", "007")
    with fresh.begin() as conn:
        insert(conn, "workflow_definitions_v2", id="w", name="flow", project_id="p")
        insert(conn, "workflow_executions_v2", id="e", state="SUCCESS", project_id="p")

    migrate(fresh, "upgrade", "009")

    with fresh.begin() as conn:
        assert list(conn.execute(sa.text("SELECT id, version FROM workflow_definitions_v2"))) == [("w", 1)]
        rows = conn.execute(sa.text("SELECT id, workflow_version, test_run FROM workflow_executions_v2"))
        assert [tuple(r) for r in rows] == [("e", None, False)]
        insert(conn, "workflow_definition_versions", id="v", workflow_id="w", version=1, project_id="p")
    with fresh.connect() as conn:
        # deleting the workflow deletes its history (the key cascades; the service switches SQLite's on)
        if fresh.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        conn.execute(sa.text("DELETE FROM workflow_definitions_v2 WHERE id = 'w'"))
        assert conn.execute(sa.text("SELECT count(*) FROM workflow_definition_versions")).scalar() == 0
        conn.commit()

    migrate(fresh, "downgrade", "007")

    with fresh.connect() as conn:
        assert "workflow_definition_versions" not in sa.inspect(conn).get_table_names()
    assert "version" not in _columns(fresh, "workflow_definitions_v2")
    assert not {"workflow_version", "test_run"} & _columns(fresh, "workflow_executions_v2")
