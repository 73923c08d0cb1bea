"""A server started on a new embedded database upgrades it in a child process, not in its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mistral import config
from mistral.db import schema, session
from mistral.db.migration import cli


@pytest.fixture
def new_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr(session, "_engines", {})
    monkeypatch.setattr(session, "_checkpointers", {})
    config.CONF.set_override("connection", f"sqlite:///{tmp_path / 'mistral.sqlite'}", group="database")
    try:
        yield tmp_path
    finally:
        session.dispose_engines()
        config.CONF.clear_override("connection", group="database")


def _not_here(*_args: object) -> None:
    raise AssertionError("upgraded in the server's own process: Alembic would stay in its memory")


def test_a_new_embedded_database_is_upgraded_by_a_child(
    new_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "upgrade", _not_here)
    assert schema.current_revision() is None
    schema.ensure_current()
    assert schema.current_revision() == schema.head_revision()


def test_a_failed_upgrade_stops_the_start(new_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema.sys, "executable", "/bin/false")
    with pytest.raises(SystemExit, match="failed"):
        schema.ensure_current()
