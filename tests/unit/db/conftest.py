"""Fixtures shared by the database tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from mistral import config
from mistral.db import pg_round_trips, session
from tests.unit.db.migrations import fresh as fresh  # noqa: F401 - the migration tests' fixture


@pytest.fixture
def file_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A SQLite file of its own as the database, with engines (and their checkpoint threads) of its own."""
    path = tmp_path / "mistral.sqlite"
    monkeypatch.setattr(session, "_engines", {})
    monkeypatch.setattr(session, "_checkpointers", {})
    config.CONF.set_override("connection", f"sqlite:///{path}", group="database")
    try:
        yield path
    finally:
        session.dispose_engines()
        config.CONF.clear_override("connection", group="database")


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[sa.Engine]:
    """This process's engine on PostgreSQL, with one pooled connection used a moment ago."""
    before = config.CONF.database.connection
    config.CONF.set_override("connection", postgres_url, group="database")
    session.dispose_engines()
    try:
        engine = session.get_engine()
        with session.transaction() as s:
            s.execute(sa.text("SELECT 1"))
        yield engine
    finally:
        session.dispose_engines()
        config.CONF.set_override("connection", before, group="database")


@pytest.fixture
def pg_messages(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts sent to PostgreSQL from now on, one per message (a round trip), parameters filled in."""
    sent: list[str] = []
    real = pg_round_trips._send

    def send(cursor: Any, query: str | bytes, vars: Any = None) -> None:  # noqa: A002 - psycopg2's name
        sent.append(cursor.mogrify(query, vars).decode())
        real(cursor, query, vars)

    monkeypatch.setattr(pg_round_trips, "_send", send)
    return sent
