"""Engines and transactions.

A transaction is bound to the current context (``contextvars``), so the
named queries in ``mistral.db.api`` called inside ``transaction()`` share one
session and commit together: a workbook whose third workflow fails leaves
nothing behind.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, orm

from mistral import config
from mistral.db.writer_lock import WriterLock

_engines: dict[str, sa.Engine] = {}
_engines_lock = threading.Lock()
_current: contextvars.ContextVar[orm.Session | None] = contextvars.ContextVar(
    "mistral_db_session", default=None
)
#: SQLite's one writer slot, taken by this process's threads in turn (see writer_lock).
_sqlite_writer = WriterLock()
#: Whether this process may only read (the API's reader process); see ``reads_only``.
_reads_only = False


def reads_only() -> None:
    """Make every transaction of this process read-only, and a write an error rather than a lock.

    NOTE: the API's reader process answers GET requests beside the engine's process. Its
    transactions then never take SQLite's write lock, which the engine's writers would
    wait for with the busy handler's sleeps, and a write by mistake fails at once.
    """
    global _reads_only
    _reads_only = True
    dispose_engines()


def _configure_sqlite(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # NOTE: pysqlite opens transactions lazily and never for SELECT; take
        # control so BEGIN IMMEDIATE serializes writers like a row lock would.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        if not _is_memory(str(engine.url)) and not _reads_only:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        if _reads_only:
            cur.execute("PRAGMA query_only=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # NOTE: readers take no write lock: in WAL mode they see the last commit
        # and neither wait for the writer nor make it wait.
        read_only = conn.get_execution_options().get("mistral_read_only")
        # NOTE: on the driver's connection: SQLAlchemy's statement machinery costs more than the BEGIN,
        # twice in every engine hop (tools/hop_profile.py no longer counts it among the statements).
        conn.connection.driver_connection.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _is_memory(url: str) -> bool:
    return url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url


def get_engine(url: str | None = None) -> sa.Engine:
    url = url or config.database_url()
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _create_engine(url)
            _engines[url] = engine
        return engine


def _create_engine(url: str) -> sa.Engine:
    conf = config.CONF.database
    kwargs: dict[str, Any] = {"echo": conf.connection_debug, "future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if _is_memory(url):
            kwargs["poolclass"] = sa.pool.StaticPool
    else:
        kwargs.update(
            pool_size=conf.max_pool_size,
            max_overflow=conf.max_overflow,
            pool_timeout=conf.pool_timeout,
            pool_recycle=conf.connection_recycle_time,
            pool_pre_ping=True,
        )
    engine = sa.create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        _configure_sqlite(engine)
    elif _reads_only:
        _configure_read_only(engine)
    return engine


#: How a database server is told that a session only reads.
_READ_ONLY_SESSION = {
    "postgresql": "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
    "mysql": "SET SESSION TRANSACTION READ ONLY",
}


def _configure_read_only(engine: sa.Engine) -> None:
    statement = _READ_ONLY_SESSION.get(engine.dialect.name)
    if statement is None:
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(statement)
        cur.close()
        dbapi_conn.commit()


def dispose_engines() -> None:
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def current_session() -> orm.Session | None:
    return _current.get()


@contextlib.contextmanager
def transaction(*, read_only: bool = False, urgent: bool = False) -> Iterator[orm.Session]:
    """One unit of work; a nested call joins the outer one.

    ``read_only`` (for a query that only reads, called on its own) spares
    SQLite's single writer slot; ``urgent`` (a short transaction others wait on)
    takes that slot before the transactions already queued for it. Inside
    another transaction both change nothing.
    """
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    engine = get_engine()
    sqlite = engine.dialect.name == "sqlite"
    read_only = read_only or _reads_only
    lock = _sqlite_writer.held(urgent=urgent) if sqlite and not read_only else contextlib.nullcontext()
    bind = engine.execution_options(mistral_read_only=True) if read_only and sqlite else engine
    with lock:
        session = orm.Session(bind=bind, expire_on_commit=False, autoflush=True)
        token = _current.set(session)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            _current.reset(token)
            session.close()
