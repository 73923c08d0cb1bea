"""Engines and transactions.

A transaction is bound to the current context (``contextvars``), so the
named queries in ``mistral.db.api`` called inside ``transaction()`` share one
session and commit together: a workbook whose third workflow fails leaves
nothing behind.
"""

from __future__ import annotations

import contextlib
import contextvars
import select
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, orm

from mistral import config
from mistral.db import pg_round_trips, row_reads, wal_checkpoint
from mistral.db.writer_lock import WriterLock

_engines: dict[str, sa.Engine] = {}
_engines_lock = threading.Lock()
#: url -> the thread that checkpoints the write-ahead log of that SQLite file (see wal_checkpoint)
_checkpointers: dict[str, wal_checkpoint.Checkpointer] = {}
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
        if not is_memory_url(str(engine.url)) and not _reads_only:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA wal_autocheckpoint={wal_checkpoint.AUTOCHECKPOINT_PAGES}")
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
        driver = conn.connection.driver_connection
        assert driver is not None  # NOTE: a connection being begun is checked out, so it has one
        driver.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")


def is_memory_url(url: str) -> bool:
    """Whether ``url`` is an SQLite database in this process's memory, which no other process sees."""
    return url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url


def get_engine(url: str | None = None) -> sa.Engine:
    url = url or config.database_url()
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _create_engine(url)
            _engines[url] = engine
        return engine


#: Statements of one executemany sent to PostgreSQL in one round trip. NOTE: the page is built
#: as one text, its values escaped: a page of large results (a with-items task's outputs) is
#: held twice while it is sent, so it is kept to a fifth of a full batch of results.
EXECUTEMANY_PAGE = 100


def _create_engine(url: str) -> sa.Engine:
    conf = config.CONF.database
    kwargs: dict[str, Any] = {"echo": conf.connection_debug, "future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if is_memory_url(url):
            kwargs["poolclass"] = sa.pool.StaticPool
    else:
        kwargs.update(
            pool_size=conf.max_pool_size,
            max_overflow=conf.max_overflow,
            pool_timeout=conf.pool_timeout,
            pool_recycle=conf.connection_recycle_time,
        )
    psycopg2 = sa.engine.make_url(url).get_dialect().driver == "psycopg2"
    if psycopg2:
        # NOTE: by default psycopg2 runs an executemany as one round trip per row: a with-items
        # task's 10 000 results and 10 000 actions were 20 000 round trips, and the engine waited
        # on them (issue 14). execute_batch sends them a page of statements at a time.
        kwargs.update(executemany_mode="values_plus_batch", executemany_batch_page_size=EXECUTEMANY_PAGE)
        kwargs["connect_args"] = {"connection_factory": pg_round_trips.Connection}
    engine = sa.create_engine(url, **kwargs)
    if psycopg2:
        pg_round_trips.install(engine)
    if url.startswith("sqlite"):
        _configure_sqlite(engine)
        if not is_memory_url(url) and not _reads_only and engine.url.database:
            _checkpointers[url] = wal_checkpoint.Checkpointer(engine.url.database)
            _checkpointers[url].start()
    else:
        _ping_when_in_doubt(engine)
        if _reads_only:
            _configure_read_only(engine)
    return engine


#: Seconds a pooled connection may sit unused and still be handed out without a ping.
PING_AFTER_IDLE = 10.0


def _ping_when_in_doubt(engine: sa.Engine) -> None:
    """Check a pooled connection on checkout, with a round trip only when it is in doubt.

    NOTE: ``pool_pre_ping`` costs a round trip to the server on every checkout, that is
    on every transaction: two per hop of a workflow (the take, the result). A connection
    used a moment ago is alive unless the server closed it (a restart, pg_terminate_backend),
    and then the server's goodbye or the end of the stream waits on its socket: a poll of
    the socket, in this process, sees it. Only a connection idle for a while (a firewall may
    have dropped it silently) or one without a socket to poll is pinged. A connection that
    dies between this check and its use fails its transaction with a transient error, which
    is retried (architecture rule 10) on a fresh connection: SQLAlchemy invalidates the pool then.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["mistral_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("mistral_idle_since")
        if idle_since is None:
            return  # just connected
        if time.monotonic() - idle_since < PING_AFTER_IDLE and _quiet(dbapi_conn):
            return
        if _socket_closed(dbapi_conn) or not _pings(engine, dbapi_conn):
            # NOTE: the pool drops this connection and checks out another (a new one).
            raise sa.exc.DisconnectionError("the database closed this pooled connection")


def _quiet(dbapi_conn: Any) -> bool:
    """True when the idle connection has nothing to read: the server has not said goodbye."""
    # NOTE: poll, not select: select() fails on descriptors above 1023, which a busy process reaches.
    try:
        poller = select.poll()
        poller.register(dbapi_conn.fileno(), select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP)
        return not poller.poll(0)
    except (AttributeError, OSError, ValueError, TypeError):
        return False  # no socket to poll (or it is closed), or no poll() here: ping


def _socket_closed(dbapi_conn: Any) -> bool:
    return bool(getattr(dbapi_conn, "closed", False))


def _pings(engine: sa.Engine, dbapi_conn: Any) -> bool:
    try:
        return bool(engine.dialect.do_ping(dbapi_conn))
    except Exception:  # noqa: BLE001 - any failure of the ping means the connection is unusable
        return False


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
        for checkpointer in _checkpointers.values():
            checkpointer.stop()
        _checkpointers.clear()
        _option_binds.clear()


def close_idle_connections() -> None:
    """Close the pooled connections of embedded (SQLite file) databases while none is in use.

    NOTE (issue 14): each SQLite connection keeps its page cache and up to 128 prepared
    statements, IN lists of up to 1000 parameters among them: 22-26 MB over three
    connections after a 100000-item with-items, kept to the end of the process. Called
    when the process is quiet (``memory.start_trimming``); the next transaction connects
    again, a fraction of a millisecond. A server database keeps its connections: their
    memory is mostly the server's, and a new one costs round trips.
    """
    with _engines_lock:
        pools = [e.pool for url, e in _engines.items() if url.startswith("sqlite") and not is_memory_url(url)]
    for pool in pools:
        # NOTE: a connection checked out after this look stays open and goes back to the pool as usual.
        if isinstance(pool, sa.pool.QueuePool) and pool.checkedout() == 0:
            pool.dispose()


#: (id of an engine, its options) -> (that engine, the engine with those options): see ``_with_options``.
_option_binds: dict[tuple[int, tuple[tuple[str, Any], ...]], tuple[sa.Engine, sa.Engine]] = {}


def _with_options(engine: sa.Engine, **options: Any) -> sa.Engine:
    """``engine.execution_options(**options)``, made once per engine (its pool shared).

    NOTE: making one costs about 0.4 ms (it copies the engine's event dispatch), once per
    transaction before: every read and every claim of a worker. The engine is kept with it,
    so an id reused by a later engine never finds this one's.
    """
    key = (id(engine), tuple(sorted(options.items())))
    found = _option_binds.get(key)
    if found is None or found[0] is not engine:
        found = _option_binds[key] = (engine, engine.execution_options(**options))
    return found[1]


def statements_see_their_own_snapshot(engine: sa.Engine) -> bool:
    """True when every statement of a transaction takes a snapshot of its own, as it starts.

    So a transaction that only reads is no different from its statements run one by one.
    NOTE: PostgreSQL's READ COMMITTED (its default) takes a new snapshot for every statement,
    so a transaction gives reads nothing but a round trip (its COMMIT): every GET of the
    API, every look of the scheduler and of recovery. Under REPEATABLE READ (a server set up
    so) the transaction would hold one snapshot for all of them, and it is kept.
    """
    dialect = engine.dialect
    level = getattr(dialect, "default_isolation_level", None)
    return dialect.name == "postgresql" and level == "READ COMMITTED"


def _autocommit(engine: sa.Engine) -> sa.Engine:
    """``engine`` in autocommit (its pool shared; SQLAlchemy restores the mode when a connection returns)."""
    return _with_options(engine, isolation_level="AUTOCOMMIT")


def _bind(engine: sa.Engine, *, read_only: bool, one_statement: bool = False) -> sa.Engine:
    """What a unit of work runs on: SQLite's reader, autocommit where it saves round trips, or ``engine``."""
    if engine.dialect.name == "sqlite":
        return _with_options(engine, mistral_read_only=True) if read_only else engine
    if one_statement or (read_only and statements_see_their_own_snapshot(engine)):
        return _autocommit(engine)
    return engine


def current_session() -> orm.Session | None:
    return _current.get()


@contextlib.contextmanager
def transaction(
    *, read_only: bool = False, urgent: bool = False, one_statement: bool = False
) -> Iterator[orm.Session]:
    """One unit of work; a nested call joins the outer one.

    ``read_only`` (for a query that only reads, called on its own) spares
    SQLite's single writer slot; ``urgent`` (a short transaction others wait on)
    takes that slot before the transactions already queued for it;
    ``one_statement`` (the caller runs a single statement, atomic on its own) runs
    it in autocommit on a server database, and so does ``read_only`` where that
    changes nothing a reader sees (see ``statements_see_their_own_snapshot``). Inside another
    transaction they change nothing.

    NOTE: a transaction's COMMIT is a round trip of its own (its BEGIN goes with the first
    statement, ``pg_round_trips``); a single statement in autocommit is its own transaction,
    as atomic and as durable, for one round trip instead of two.
    """
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    engine = get_engine()
    read_only = read_only or _reads_only
    with _writer_slot(engine, read_only=read_only, urgent=urgent):
        bind = _bind(engine, read_only=read_only, one_statement=one_statement)
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


def _writer_slot(
    engine: sa.Engine, *, read_only: bool, urgent: bool
) -> contextlib.AbstractContextManager[Any]:
    """SQLite's one writer slot for a unit of work that may write (nothing to take on a server database)."""
    if engine.dialect.name == "sqlite" and not read_only:
        return _sqlite_writer.held(urgent=urgent)
    return contextlib.nullcontext()


@contextlib.contextmanager
def statement(*, urgent: bool = False) -> Iterator[sa.Connection]:
    """A connection to run one statement on, atomic on its own: the caller's transaction's, else its own.

    Its own is a transaction as ``transaction(one_statement=True, urgent=urgent)`` makes, on a bare
    connection: the statement's rows come back as rows, not models.

    NOTE (issue 13): every worker's claim is one statement; an ORM session around it (its
    transaction bookkeeping, its flush at commit) cost about a third of the claim's CPU in the API.
    """
    outer = _current.get()
    if outer is not None:
        yield outer.connection()
        return
    engine = get_engine()
    with _writer_slot(engine, read_only=_reads_only, urgent=urgent):
        with _bind(engine, read_only=_reads_only, one_statement=True).begin() as conn:
            yield conn


def on_commit(callback: Callable[[], None]) -> None:
    """Call ``callback`` once the current transaction has committed: the outermost one.

    NOTE: SQLAlchemy reports a savepoint's release as a commit too, but nobody else
    sees its rows before the outermost commit: work sent then (an action) could
    finish before its row exists for the engine that gets its result.
    """
    session = _in_transaction()

    def committed(s: orm.Session) -> None:
        if not s.in_nested_transaction():
            callback()

    event.listen(session, "after_commit", committed)


def on_rollback(callback: Callable[[], None]) -> None:
    """Call ``callback`` (once) if the part of the transaction in progress now rolls back.

    That part is the innermost savepoint, if any: it rolls back on its own or with any
    transaction around it; a savepoint begun later and rolled back alone leaves it be.
    """
    session = _in_transaction()
    own = session.get_nested_transaction() or session.get_transaction()
    called = False

    def rolled_back(_s: orm.Session, previous: orm.SessionTransaction) -> None:
        nonlocal called
        tx = own
        while tx is not None and not called:
            if tx is previous:
                called = True
                callback()
                return
            tx = tx.parent

    event.listen(session, "after_soft_rollback", rolled_back)


def _in_transaction() -> orm.Session:
    session = _current.get()
    if session is None:
        raise RuntimeError("No transaction: on_commit and on_rollback need one (db.session.transaction)")
    return session


@contextlib.contextmanager
def reading() -> Iterator[orm.Session | sa.Connection]:
    """Something to run one reading statement on: the caller's transaction, else a bare connection.

    NOTE (issue 14): the read behind every poll of an execution. A connection of its own skips
    the ORM session (its identity map, its transaction bookkeeping), two thirds of the read's
    CPU; the statement's rows come back as rows, not models. Like ``transaction(read_only=True)``
    it takes no SQLite write slot.
    """
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    with _bind(get_engine(), read_only=True).connect() as conn:
        yield conn


def read_first(stmt: sa.Select, params: Mapping[str, Any]) -> Any | None:
    """The first row of a kept ``stmt`` with ``params`` (attributes by column name), or None.

    In the caller's transaction when there is one; else, on SQLite, on the driver's connection
    (``row_reads``); else on a bare connection, as ``reading``.
    """
    engine = get_engine()
    if _current.get() is None and row_reads.usable(engine):
        return row_reads.first(engine, stmt, params)
    with reading() as conn:
        return conn.execute(stmt, params).first()
