"""The engine a server database gets from ``[database]``, read from a file as an operator writes it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import event

from mistral import config
from mistral.db import session
from mistral.db.queries import bulk

SERVER_URL = "postgresql+psycopg2://mistral@db.example/mistral"


def read_database_options(tmp_path: Path, text: str) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    conf.register_opts(config.database_opts, group="database")
    path = tmp_path / "mistral.conf"
    path.write_text(text)
    conf(["--config-file", str(path)], project="mistral-test")
    return conf


def test_devstack_database_settings_are_accepted(tmp_path: Path, monkeypatch) -> None:
    """Mistral's devstack plugin writes ``max_overflow = -1`` (no limit, SQLAlchemy's meaning) and
    ``max_pool_size = 1000``; a mistral.conf from such a cloud must start the service."""
    conf = read_database_options(tmp_path, "[database]\nmax_overflow = -1\nmax_pool_size = 1000\n")
    monkeypatch.setattr(config, "CONF", conf)
    engine = session._create_engine(SERVER_URL)  # builds the pool; connects only on first use
    try:
        assert engine.pool.size() == 1000
        assert engine.pool._max_overflow == -1
    finally:
        engine.dispose()


def test_a_reads_only_process_reads_and_cannot_write(tmp_path: Path, monkeypatch) -> None:
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    writer = sa.create_engine(url)
    with writer.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    writer.dispose()
    monkeypatch.setattr(session, "_reads_only", False)
    monkeypatch.setattr(session, "_engines", {})
    config.CONF.set_override("connection", url, group="database")
    try:
        session.reads_only()
        with session.transaction() as s:
            assert s.execute(sa.text("SELECT x FROM t")).scalar() == 1
        with pytest.raises(sa.exc.OperationalError, match="readonly"):
            with session.transaction() as s:
                s.execute(sa.text("INSERT INTO t VALUES (2)"))
    finally:
        session.dispose_engines()
        config.CONF.clear_override("connection", group="database")


def _backend_pid() -> int:
    with session.transaction() as s:
        return s.execute(sa.text("SELECT pg_backend_pid()")).scalar()


def _count_pings(monkeypatch: pytest.MonkeyPatch, engine: sa.Engine) -> list[int]:
    pings: list[int] = []
    real = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(1) or real(conn))
    return pings


@pytest.mark.postgres
def test_a_connection_used_a_moment_ago_is_handed_out_without_a_ping(pg_engine, monkeypatch) -> None:
    pings = _count_pings(monkeypatch, pg_engine)
    first = _backend_pid()
    assert _backend_pid() == first  # the same pooled connection, twice
    assert pings == []


@pytest.mark.postgres
def test_a_connection_idle_for_long_is_pinged_before_use(pg_engine, monkeypatch) -> None:
    monkeypatch.setattr(session, "PING_AFTER_IDLE", 0.0)
    pings = _count_pings(monkeypatch, pg_engine)
    _backend_pid()
    assert pings == [1]


@pytest.mark.postgres
def test_a_connection_the_server_closed_while_pooled_is_replaced_at_checkout(pg_engine, monkeypatch) -> None:
    """pg_terminate_backend on an idle pooled connection: the next transaction gets a new one, no error."""
    pings = _count_pings(monkeypatch, pg_engine)
    victim = _backend_pid()
    admin = sa.create_engine(pg_engine.url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": victim}).scalar()
            for _ in range(100):  # the backend leaves a moment after it was told to
                gone = conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                                    {"pid": victim}).scalar() == 0  # fmt: skip
                if gone:
                    break
                time.sleep(0.02)
    finally:
        admin.dispose()
    assert _backend_pid() != victim  # no retry around it: the checkout itself noticed
    assert len(pings) <= 1  # the socket said it, or the one ping did


def _autocommit_of_statements(engine: sa.Engine, run) -> list[bool]:
    seen: list[bool] = []

    def note(conn, _cursor, _statement, _params, _context, _many) -> None:
        seen.append(bool(conn.connection.dbapi_connection.autocommit))

    event.listen(engine, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


@pytest.mark.postgres
def test_a_read_on_its_own_needs_no_begin_and_commit_under_read_committed(pg_engine) -> None:
    def read() -> None:
        with session.transaction(read_only=True) as s:
            s.execute(sa.text("SELECT 1"))
            s.execute(sa.text("SELECT 2"))

    assert _autocommit_of_statements(pg_engine, read) == [True, True]


@pytest.mark.postgres
def test_a_read_inside_a_transaction_joins_it(pg_engine) -> None:
    def write_then_read() -> None:
        with session.transaction() as s:
            s.execute(sa.text("SELECT 1"))
            with session.transaction(read_only=True) as inner:
                assert inner is s
                inner.execute(sa.text("SELECT 2"))

    assert _autocommit_of_statements(pg_engine, write_then_read) == [False, False]


@pytest.mark.postgres
def test_reads_under_repeatable_read_keep_their_transaction(pg_engine, monkeypatch) -> None:
    """A server set up for REPEATABLE READ gives a transaction's reads one snapshot: that is kept."""
    monkeypatch.setattr(pg_engine.dialect, "default_isolation_level", "REPEATABLE READ")

    def read() -> None:
        with session.transaction(read_only=True) as s:
            s.execute(sa.text("SELECT 1"))

    assert _autocommit_of_statements(pg_engine, read) == [False]


@pytest.mark.postgres
def test_a_bare_read_needs_no_begin_and_rollback_under_read_committed(pg_engine) -> None:
    """The read behind every poll of an execution is one statement: autocommit saves two round trips."""

    def read() -> None:
        with session.reading() as conn:
            conn.execute(sa.text("SELECT 1"))

    assert _autocommit_of_statements(pg_engine, read) == [True]


@pytest.mark.postgres
def test_a_connection_back_from_autocommit_names_no_isolation_level(pg_engine) -> None:
    """Else psycopg2 sends SET default_transaction_isolation on every checkin after a claim or a read."""
    with session.transaction(one_statement=True) as s:
        s.execute(sa.text("SELECT 1"))
        raw = s.connection().connection.dbapi_connection
        assert raw.autocommit
    assert (raw.autocommit, raw.isolation_level) == (False, None)
    with session.transaction() as s:
        assert s.connection().connection.dbapi_connection is raw
        assert s.execute(sa.text("SHOW transaction_isolation")).scalar() == "read committed"


def test_an_engine_with_options_is_made_once_per_engine() -> None:
    first, second = sa.create_engine("sqlite://"), sa.create_engine("sqlite://")
    reader = session._bind(first, read_only=True)
    assert session._bind(first, read_only=True) is reader
    assert reader.get_execution_options()["mistral_read_only"] is True
    assert session._bind(second, read_only=True) is not reader
    assert session._autocommit(first) is session._autocommit(first) is not reader
    assert session._autocommit(first).get_execution_options()["isolation_level"] == "AUTOCOMMIT"


@pytest.mark.postgres
def test_an_executemany_reaches_postgresql_a_page_of_rows_at_a_time(pg_engine, monkeypatch) -> None:
    """Not one round trip per row (psycopg2's own executemany): with-items writes rows by the thousand.

    ``bulk``'s rows are not paged at all: they go as statements of many rows (test_pg_round_trips).
    """
    import psycopg2.extras

    pages: list[tuple[int, int]] = []
    real = psycopg2.extras.execute_batch

    def execute_batch(cursor: Any, sql: str, rows: list[Any], page_size: int = 100) -> None:
        pages.append((len(rows), page_size))
        real(cursor, sql, rows, page_size=page_size)

    monkeypatch.setattr(psycopg2.extras, "execute_batch", execute_batch)
    table = INSERT_PAGES.table
    with session.transaction() as s:
        s.execute(sa.text("CREATE TEMPORARY TABLE executemany_pages (n integer) ON COMMIT DROP"))
        bulk.execute_many(s.connection(), INSERT_PAGES, [{"n": i} for i in range(1200)])
        s.execute(table.update().values(n=table.c.n + 1).where(table.c.n == sa.bindparam("m")),
                  [{"m": i} for i in (2, 1, 0)])  # fmt: skip
        assert s.execute(sa.text("SELECT count(*), sum(n) FROM executemany_pages")).one() == (1200, 719403)
    assert pages == [(3, session.EXECUTEMANY_PAGE)]


INSERT_PAGES = bulk.TableInsert(
    sa.Table("executemany_pages", sa.MetaData(), sa.Column("n", sa.Integer)), ("n",)
)
