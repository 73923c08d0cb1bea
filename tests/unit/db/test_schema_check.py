"""The schema check at start: it agrees with Alembic, and a dropped connection does not stop a start."""

from __future__ import annotations

import pathlib
from typing import Any

import psycopg2
import pytest
import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from mistral.db import schema, session
from mistral.db.migration import cli

pytestmark = pytest.mark.usefixtures("db")


def test_the_head_is_alembics() -> None:
    assert schema.head_revision() == ScriptDirectory.from_config(cli.alembic_config()).get_current_head()


def test_the_current_revision_is_alembics() -> None:
    with session.get_engine().connect() as conn:
        assert schema.current_revision() == MigrationContext.configure(conn).get_current_revision()
    assert schema.current_revision() == schema.head_revision()


def test_a_database_without_the_version_table_has_no_revision(tmp_path: pathlib.Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    with engine.connect() as conn:
        assert schema._version_in(conn) is None
    engine.dispose()


def _migration(directory: pathlib.Path, name: str, revision: str, down: object) -> None:
    (directory / name).write_text(f'"""doc"""\nrevision = {revision!r}\ndown_revision = {down!r}\n')


def test_the_head_follows_a_merge(tmp_path: pathlib.Path) -> None:
    _migration(tmp_path, "001_a.py", "001", None)
    _migration(tmp_path, "002_b.py", "002", "001")
    _migration(tmp_path, "003_c.py", "003", "001")
    _migration(tmp_path, "004_merge.py", "004", ("002", "003"))
    assert schema.head_revision(str(tmp_path)) == "004"


def test_two_heads_are_an_error(tmp_path: pathlib.Path) -> None:
    _migration(tmp_path, "001_a.py", "001", None)
    _migration(tmp_path, "002_b.py", "002", "001")
    _migration(tmp_path, "003_c.py", "003", "001")
    with pytest.raises(RuntimeError, match="2 heads"):
        schema.head_revision(str(tmp_path))


def test_a_connection_dropped_during_the_check_is_retried(monkeypatch: Any) -> None:
    """A crash trial killed the database's backends while an executor started: it exited with 1."""
    version_in = schema._version_in
    calls: list[int] = []

    def dropped_once(conn: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            orig = psycopg2.OperationalError("server closed the connection unexpectedly")
            raise sa.exc.OperationalError("SELECT relname FROM pg_class", {}, orig)
        return version_in(conn)

    monkeypatch.setattr(schema, "_version_in", dropped_once)
    monkeypatch.setattr("mistral.db.retry._sleep", lambda _seconds: None)
    assert schema.current_revision() == schema.head_revision()
    assert len(calls) == 2
