"""Running a unit of work again when the database failed it for a passing reason.

A deadlock, a serialization failure, a dropped connection or SQLite's busy
writer slot says nothing about the work itself: the transaction was rolled
back whole, so running the whole unit again is safe and usually succeeds.
Only the outermost level may do so: inside an open transaction the error has
already broken that transaction, and the unit that opened it must start over.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import exc as sa_exc

from mistral import config
from mistral.db import session
from mistral.exceptions import WorkOutsideTransaction
from mistral.metrics import series

LOG = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

#: PostgreSQL SQLSTATEs, each with why running again helps.
PG_TRANSIENT_CODES = frozenset(
    {
        "40P01",  # deadlock_detected: the server rolled back one of the two
        "40001",  # serialization_failure: a concurrent commit won
        "55P03",  # lock_not_available: lock_timeout expired waiting for a row
        "57P01",  # admin_shutdown: pg_terminate_backend or a restart
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now: the server is starting
    }
)
#: Class 08 is "connection exception": the connection broke, the data did not.
PG_TRANSIENT_CLASSES = frozenset({"08"})

#: MySQL/MariaDB error numbers.
MYSQL_TRANSIENT_CODES = frozenset(
    {
        1205,  # lock wait timeout exceeded
        1213,  # deadlock found when trying to get lock
        1927,  # MariaDB: connection was killed
        2003,  # can't connect to server
        2006,  # server has gone away
        2013,  # lost connection during query
        2055,  # lost connection (reading/writing)
        4031,  # disconnected by the server for inactivity
    }
)

#: SQLite primary result codes: another connection holds the write lock.
SQLITE_TRANSIENT_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED
SQLITE_TRANSIENT_TEXT = ("database is locked", "database is busy", "database table is locked")

#: NOTE: a module attribute so tests replace it instead of waiting.
_sleep = time.sleep

#: Times one unit of work may ask for work outside its transaction; then it runs
#: once more with that work done inside (``outside_work_allowed`` says False).
MAX_OUTSIDE_WORK = 8
_outside_work_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "mistral_outside_work_allowed", default=False
)


def outside_work_allowed() -> bool:
    """True when a ``WorkOutsideTransaction`` raised now will be handled by a retry layer around."""
    return _outside_work_allowed.get()


def run_with_outside_work(func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Call ``func``, the whole unit of work; do the work it asks for outside its transaction, then again.

    NOTE: each round leaves one piece of work done (a slow expression's outcome
    memoized), so the unit needs at most one round per such piece; past
    MAX_OUTSIDE_WORK rounds it does the rest inside, as it would without this.
    """
    token = _outside_work_allowed.set(True)
    try:
        for _ in range(MAX_OUTSIDE_WORK):
            try:
                return func(*args, **kwargs)
            except WorkOutsideTransaction as request:
                LOG.info("%s rolled back to work outside its transaction: %s", _name(func), request.reason)
                request.work()
        _outside_work_allowed.set(False)
        return func(*args, **kwargs)
    finally:
        _outside_work_allowed.reset(token)


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` (or an error it was raised from) is a passing database failure."""
    return any(_is_transient_one(error) for error in _causes(exc))


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        # NOTE: only explicit causes: __context__ also holds errors merely
        # being handled (a transient error during a rollback after a bug).
        current = current.__cause__


def _is_transient_one(error: BaseException) -> bool:
    if isinstance(error, sa_exc.DisconnectionError):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        if error.orig is None:
            return False
        error = error.orig
    return _is_postgres_transient(error) or _is_mysql_transient(error) or _is_sqlite_transient(error)


def _is_postgres_transient(error: BaseException) -> bool:
    if not type(error).__module__.startswith("psycopg"):
        return False
    # psycopg2 calls it pgcode, psycopg 3 sqlstate.
    code = getattr(error, "pgcode", None) or getattr(error, "sqlstate", None)
    if code:
        return code in PG_TRANSIENT_CODES or code[:2] in PG_TRANSIENT_CLASSES
    # NOTE: no SQLSTATE means the server never answered: the connection is gone.
    names = {cls.__name__ for cls in type(error).__mro__}
    return bool(names & {"OperationalError", "InterfaceError"})


def _is_mysql_transient(error: BaseException) -> bool:
    args = getattr(error, "args", ())
    code = getattr(error, "errno", None) or (args[0] if args else None)
    return isinstance(code, int) and not isinstance(code, bool) and code in MYSQL_TRANSIENT_CODES


def _is_sqlite_transient(error: BaseException) -> bool:
    if not isinstance(error, sqlite3.OperationalError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in SQLITE_TRANSIENT_CODES:
        return True
    return any(text in str(error) for text in SQLITE_TRANSIENT_TEXT)


def backoff(retry: int, interval: float, max_interval: float) -> float:
    """Seconds to wait before the ``retry``-th run again (1-based): doubling, capped, jittered.

    NOTE: the jitter (half to full) keeps two deadlocked units from meeting again in step.
    """
    full = min(interval * 2 ** (retry - 1), max_interval)
    return random.uniform(full / 2, full)


def run_with_retry(func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Call ``func``; on a transient database error call it again, up to ``[database] db_max_retries`` times.

    Inside an open transaction it calls ``func`` once: that transaction is
    already broken, so the error goes up to whoever opened it. Outside, it also
    serves ``func``'s requests for work outside its transaction (``run_with_outside_work``).
    """
    if session.current_session() is not None:
        return func(*args, **kwargs)
    conf = config.CONF.database
    retries = 0
    while True:
        try:
            return run_with_outside_work(func, *args, **kwargs)
        except Exception as exc:
            if not is_transient(exc):
                raise
            if retries >= conf.db_max_retries:
                LOG.error("%s failed on a transient database error %d times; giving up: %s",
                          _name(func), retries + 1, exc)  # fmt: skip
                raise
            retries += 1
            series.DB_RETRIES.inc()
            delay = backoff(retries, conf.db_retry_interval, conf.db_max_retry_interval)
            LOG.warning("%s failed on a transient database error (retry %d of %d in %.2f s): %s",
                        _name(func), retries, conf.db_max_retries, delay, exc)  # fmt: skip
            _sleep(delay)


def retry_on_transient(func: Callable[P, R]) -> Callable[P, R]:
    """Decorator: the whole call is one unit of work, run again on a transient database error."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return run_with_retry(func, *args, **kwargs)

    wrapper.retries_transient_errors = True  # type: ignore[attr-defined]
    return wrapper


def _name(func: Callable[..., Any]) -> str:
    return getattr(func, "__qualname__", None) or repr(func)
