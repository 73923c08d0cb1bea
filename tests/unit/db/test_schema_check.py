"""The schema check at start: a server restarted while the database drops connections still starts."""

from __future__ import annotations

from typing import Any

import psycopg2
import pytest
import sqlalchemy as sa

from mistral.db import schema

pytestmark = pytest.mark.usefixtures("db")


def test_a_connection_dropped_during_the_check_is_retried(monkeypatch: Any) -> None:
    """A crash trial killed the database's backends while an executor started: it exited with 1."""
    configure = schema.MigrationContext.configure
    calls: list[int] = []

    def dropped_once(conn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            orig = psycopg2.OperationalError("server closed the connection unexpectedly")
            raise sa.exc.OperationalError("SELECT relname FROM pg_class", {}, orig)
        return configure(conn, *args, **kwargs)

    monkeypatch.setattr(schema.MigrationContext, "configure", dropped_once)
    monkeypatch.setattr("mistral.db.retry._sleep", lambda _seconds: None)
    assert schema.current_revision() == schema.head_revision()
    assert len(calls) == 2
