"""Revision 009 adds definition history and test runs, keeping what a database holds."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from mistral.db.migration import cli
from tests.conftest import scratch_postgres

T0 = datetime.datetime(2026, 11, 1, 12, 0, 0)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """An empty database of its own (the shared one is at head already)."""
    if request.param == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
        yield engine
        engine.dispose()
        return
    with scratch_postgres("mistral_mig") as url:
        engine = sa.create_engine(url)
        yield engine
        engine.dispose()


def _migrate(engine: sa.Engine, how: str, revision: str) -> None:
    with engine.begin() as conn:
        getattr(command, how)(cli.alembic_config(conn), revision)


def _filler(column: sa.Column[Any]) -> Any:
    """A value for a required column the test does not care about."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.DateTime):
        return T0
    if isinstance(kind, sa.Integer):
        return 0
    return ""


def _insert(conn: sa.Connection, table_name: str, **values: Any) -> None:
    table = sa.Table(table_name, sa.MetaData(), autoload_with=conn)
    row = {
        c.name: _filler(c)
        for c in table.columns
        if not c.nullable and c.server_default is None and c.name not in values
    }
    conn.execute(table.insert().values(**row, **values))


def _columns(engine: sa.Engine, table: str) -> set[str]:
    with engine.connect() as conn:
        return {c["name"] for c in sa.inspect(conn).get_columns(table)}


def test_upgrade_makes_every_workflow_its_version_1_and_downgrade_drops_the_history(fresh: sa.Engine) -> None:
    _migrate(fresh, "upgrade", "007")
    with fresh.begin() as conn:
        _insert(conn, "workflow_definitions_v2", id="w", name="flow", project_id="p")
        _insert(conn, "workflow_executions_v2", id="e", state="SUCCESS", project_id="p")

    _migrate(fresh, "upgrade", "009")

    with fresh.begin() as conn:
        assert list(conn.execute(sa.text("SELECT id, version FROM workflow_definitions_v2"))) == [("w", 1)]
        rows = conn.execute(sa.text("SELECT id, workflow_version, test_run FROM workflow_executions_v2"))
        assert [tuple(r) for r in rows] == [("e", None, False)]
        _insert(conn, "workflow_definition_versions", id="v", workflow_id="w", version=1, project_id="p")
    with fresh.connect() as conn:
        # deleting the workflow deletes its history (the key cascades; the service switches SQLite's on)
        if fresh.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        conn.execute(sa.text("DELETE FROM workflow_definitions_v2 WHERE id = 'w'"))
        assert conn.execute(sa.text("SELECT count(*) FROM workflow_definition_versions")).scalar() == 0
        conn.commit()

    _migrate(fresh, "downgrade", "007")

    with fresh.connect() as conn:
        assert "workflow_definition_versions" not in sa.inspect(conn).get_table_names()
    assert "version" not in _columns(fresh, "workflow_definitions_v2")
    assert not {"workflow_version", "test_run"} & _columns(fresh, "workflow_executions_v2")
