"""The write-ahead log of an embedded database is checkpointed by a thread, not by the commits."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from mistral.db import session, wal_checkpoint


def _checkpointed_frames(path: Path) -> tuple[int, int]:
    """(frames in the log, frames of it already copied into the database), as SQLite reports them."""
    with sqlite3.connect(path) as conn:
        _, log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return log, done


def _write_rows(count: int) -> None:
    with session.transaction() as s:
        s.execute(sa.text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
    for i in range(count):
        with session.transaction() as s:
            s.execute(sa.text("INSERT INTO t VALUES (:x)"), {"x": i})


def test_a_commit_leaves_the_checkpoint_to_the_thread(file_database: Path) -> None:
    engine = session.get_engine()
    with engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    assert pages == wal_checkpoint.AUTOCHECKPOINT_PAGES


def test_the_thread_checkpoints_what_was_committed(file_database: Path) -> None:
    _write_rows(20)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        log, done = _checkpointed_frames(file_database)
        if log == done:
            break
        time.sleep(wal_checkpoint.INTERVAL_S)
    assert log == done


def test_disposing_the_engines_stops_the_thread(file_database: Path) -> None:
    session.get_engine()
    (checkpointer,) = session._checkpointers.values()
    session.dispose_engines()
    assert not checkpointer._thread.is_alive()
    assert session._checkpointers == {}


def test_a_reads_only_process_has_no_checkpointer(
    file_database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_rows(1)
    monkeypatch.setattr(session, "_reads_only", False)
    session.reads_only()
    session.get_engine()
    assert session._checkpointers == {}
