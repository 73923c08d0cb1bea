"""Revision 007 renames ``accepted`` by meaning and adds ``offered_at``, keeping the data of a database."""

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
    return "x"


def _insert(conn: sa.Connection, table_name: str, **values: Any) -> None:
    table = sa.Table(table_name, sa.MetaData(), autoload_with=conn)
    row = {
        c.name: _filler(c)
        for c in table.columns
        if not c.nullable and c.server_default is None and c.name not in values
    }
    conn.execute(table.insert().values(**row, **values))


def _rows(engine: sa.Engine, table: str, *columns: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
        query = sa.select(reflected.c.id, *(reflected.c[name] for name in columns)).order_by(reflected.c.id)
        return [tuple(r) for r in conn.execute(query)]


def test_upgrade_keeps_each_fact_under_its_new_name_and_downgrade_gives_it_back(fresh: sa.Engine) -> None:
    _migrate(fresh, "upgrade", "006")
    with fresh.begin() as conn:
        _insert(conn, "workflow_executions_v2", id="p", state="RUNNING", accepted=False, created_at=T0)
        _insert(conn, "workflow_executions_v2", id="w1", state="SUCCESS", accepted=True, created_at=T0)
        _insert(conn, "workflow_executions_v2", id="w2", state="SUCCESS", accepted=False, created_at=T0)
        _insert(conn, "task_executions_v2", id="t", workflow_execution_id="p", state="RUNNING", created_at=T0)
        for id_, accepted, minutes in (("a1", True, 1), ("a2", False, 2)):
            created = T0 + datetime.timedelta(minutes=minutes)
            _insert(conn, "action_executions_v2", id=id_, task_execution_id="t", state="RUNNING",
                    accepted=accepted, created_at=created, sent_at=created)  # fmt: skip

    _migrate(fresh, "upgrade", "007")

    assert _rows(fresh, "workflow_executions_v2", "reported_to_parent") == [
        ("p", False), ("w1", True), ("w2", False)
    ]  # fmt: skip
    assert _rows(fresh, "action_executions_v2", "result_applied", "offered_at", "created_at") == [
        ("a1", True, T0 + datetime.timedelta(minutes=1), T0 + datetime.timedelta(minutes=1)),
        ("a2", False, T0 + datetime.timedelta(minutes=2), T0 + datetime.timedelta(minutes=2)),
    ]

    _migrate(fresh, "downgrade", "006")

    assert _rows(fresh, "workflow_executions_v2", "accepted") == [("p", False), ("w1", True), ("w2", False)]
    assert _rows(fresh, "action_executions_v2", "accepted") == [("a1", True), ("a2", False)]
    with fresh.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("action_executions_v2")}
    assert "offered_at" not in columns and "result_applied" not in columns
