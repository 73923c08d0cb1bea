"""A server started on a new embedded database upgrades it in a child process, not in its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from mistral.db import schema
from mistral.db.migration import cli


def _not_here(*_args: object) -> None:
    raise AssertionError("upgraded in the server's own process: Alembic would stay in its memory")


def test_a_new_embedded_database_is_upgraded_by_a_child(
    file_database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "upgrade", _not_here)
    assert schema.current_revision() is None
    schema.ensure_current()
    assert schema.current_revision() == schema.head_revision()


def test_a_failed_upgrade_stops_the_start(file_database: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema.sys, "executable", "/bin/false")
    with pytest.raises(SystemExit, match="failed"):
        schema.ensure_current()
