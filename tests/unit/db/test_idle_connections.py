"""An idle process closes the connections of its embedded database, and what they held goes with them."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from mistral import config
from mistral.db import session


def _select_one() -> int:
    with session.transaction() as s:
        return s.execute(sa.text("SELECT 1")).scalar_one()


def test_idle_connections_are_closed_and_made_again_when_needed(file_database: Path) -> None:
    _select_one()
    pool = session.get_engine().pool
    assert pool.checkedin() == 1
    session.close_idle_connections()
    assert pool.checkedin() == 0
    assert _select_one() == 1


def test_a_connection_in_use_is_left_open(file_database: Path) -> None:
    with session.transaction() as s:
        s.execute(sa.text("SELECT 1"))
        session.close_idle_connections()
        assert s.execute(sa.text("SELECT 2")).scalar_one() == 2
    assert session.get_engine().pool.checkedin() == 1


def test_an_in_memory_database_keeps_its_only_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session, "_engines", {})
    config.CONF.set_override("connection", "sqlite://", group="database")
    try:
        with session.transaction() as s:
            s.execute(sa.text("CREATE TABLE kept (x INTEGER)"))
        session.close_idle_connections()
        with session.transaction() as s:
            assert s.execute(sa.text("SELECT count(*) FROM kept")).scalar_one() == 0
    finally:
        session.dispose_engines()
        config.CONF.clear_override("connection", group="database")
