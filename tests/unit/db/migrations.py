"""What the migration tests share: an empty database of their own, a step of Alembic, a row with filler."""

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

#: The time the filler gives a required date column.
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


def migrate(engine: sa.Engine, how: str, revision: str) -> None:
    """``how`` is ``"upgrade"`` or ``"downgrade"``."""
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


def insert(conn: sa.Connection, table_name: str, **values: Any) -> None:
    """A row of ``table_name`` as it is now: ``values``, and filler for the other required columns."""
    table = sa.Table(table_name, sa.MetaData(), autoload_with=conn)
    row = {
        c.name: _filler(c)
        for c in table.columns
        if not c.nullable and c.server_default is None and c.name not in values
    }
    conn.execute(table.insert().values(**row, **values))
