"""Transient errors made by real servers: deadlocks, killed connections, SQLite's busy writer slot."""

from __future__ import annotations

import collections
import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from mistral import config
from mistral.db import api as db_api
from mistral.db import session

SERVERS = [
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mysql", marks=pytest.mark.mysql),
]


@pytest.fixture
def fast_retries() -> Iterator[None]:
    overrides = {"db_max_retries": 20, "db_retry_interval": 0.02, "db_max_retry_interval": 0.2}
    for name, value in overrides.items():
        config.CONF.set_override(name, value, group="database")
    yield
    for name in overrides:
        config.CONF.clear_override(name, group="database")


@pytest.fixture
def use_url() -> Iterator[Any]:
    """Point the service at a URL for one test, then back."""
    before = config.CONF.database.connection

    def _use(url: str) -> sa.Engine:
        config.CONF.set_override("connection", url, group="database")
        return session.get_engine()

    yield _use
    config.CONF.set_override("connection", before, group="database")


@pytest.fixture(params=SERVERS)
def server(request: pytest.FixtureRequest, use_url: Any, fast_retries: None) -> Iterator[str]:
    """A server database holding a two-row table ``retry_probe``."""
    use_url(request.getfixturevalue(f"{request.param}_url"))
    with session.get_engine().begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS retry_probe")
        conn.exec_driver_sql("CREATE TABLE retry_probe (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        conn.exec_driver_sql("INSERT INTO retry_probe (id, n) VALUES (1, 0), (2, 0)")
    yield request.param
    with session.get_engine().begin() as conn:
        conn.exec_driver_sql("DROP TABLE retry_probe")


def _bump(s: Any, row: int) -> None:
    s.execute(sa.text("UPDATE retry_probe SET n = n + 1 WHERE id = :id"), {"id": row})


def _counts() -> dict[int, int]:
    with db_api.transaction() as s:
        return dict(s.execute(sa.text("SELECT id, n FROM retry_probe")).all())


def test_a_real_deadlock_is_retried_and_both_units_succeed(server: str) -> None:
    both_hold_their_first_row = threading.Barrier(2, timeout=20)
    runs: collections.Counter[str] = collections.Counter()
    errors: list[BaseException] = []

    @db_api.retry_on_transient
    def move(name: str, first: int, second: int) -> None:
        runs[name] += 1
        with db_api.transaction() as s:
            _bump(s, first)
            if runs[name] == 1:
                both_hold_their_first_row.wait()
            _bump(s, second)

    def thread(name: str, first: int, second: int) -> None:
        try:
            move(name, first, second)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [
        threading.Thread(target=thread, args=("a", 1, 2)),
        threading.Thread(target=thread, args=("b", 2, 1)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert _counts() == {1: 2, 2: 2}  # each unit counted each row once: no loss, no double
    assert sum(runs.values()) >= 3, "the server should have chosen a deadlock victim"


def _kill_own_connection(dialect: str, s: Any, admin: sa.Engine) -> None:
    if dialect == "postgresql":
        pid = s.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        kill = sa.text("SELECT pg_terminate_backend(:pid)")
    else:
        pid = s.execute(sa.text("SELECT CONNECTION_ID()")).scalar()
        kill = sa.text(f"KILL {int(pid)}")
    with admin.connect() as conn:
        conn.execute(kill, {"pid": pid})


def test_a_killed_connection_mid_work_is_retried_on_a_new_one(server: str) -> None:
    engine = session.get_engine()
    admin = sa.create_engine(engine.url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    runs: list[int] = []

    @db_api.retry_on_transient
    def work() -> None:
        runs.append(1)
        with db_api.transaction() as s:
            _bump(s, 1)
            if len(runs) == 1:
                _kill_own_connection(engine.dialect.name, s, admin)
            _bump(s, 2)

    try:
        work()
    finally:
        admin.dispose()
    assert len(runs) == 2
    assert _counts() == {1: 1, 2: 1}  # the first run's half rolled back with the connection


def test_sqlite_busy_writer_slot_is_waited_for_with_retries(
    tmp_path: Any, use_url: Any, fast_retries: None
) -> None:
    path = tmp_path / "busy.sqlite"
    engine = use_url(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _short_busy_timeout(dbapi_conn: Any, _record: Any) -> None:
        # NOTE: another process holding the lock longer than the busy timeout.
        dbapi_conn.execute("PRAGMA busy_timeout=20")

    with db_api.transaction() as s:
        s.execute(sa.text("CREATE TABLE retry_probe (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        s.execute(sa.text("INSERT INTO retry_probe (id, n) VALUES (1, 0), (2, 0)"))
    other_process = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other_process.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, other_process.rollback)
    runs: list[int] = []

    @db_api.retry_on_transient
    def work() -> None:
        runs.append(1)
        with db_api.transaction() as s:
            _bump(s, 1)

    release.start()
    started = time.monotonic()
    try:
        work()
    finally:
        release.join()
        other_process.close()
    assert time.monotonic() - started >= 0.25
    assert len(runs) >= 2
    assert _counts() == {1: 1, 2: 0}
