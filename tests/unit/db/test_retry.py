"""Transient database errors: which errors they are, and the decorator that runs the work again."""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg2
import pymysql
import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from mistral.db import api as db_api
from mistral.db import retry


def _wrapped(orig: BaseException, **kwargs: Any) -> sa.exc.DBAPIError:
    """What SQLAlchemy raises around a driver's error."""
    return sa.exc.DBAPIError.instance("UPDATE t SET x = 1", {}, orig, type(orig), **kwargs)


class _PgError(Exception):
    """A psycopg2-style error carrying a SQLSTATE (real ones are only made by the server)."""

    __module__ = "psycopg2"

    def __init__(self, pgcode: str | None, message: str = "") -> None:
        super().__init__(message)
        self.pgcode = pgcode


TRANSIENT = {
    "pg deadlock 40P01": _wrapped(_PgError("40P01", "deadlock detected")),
    "pg serialization 40001": _wrapped(_PgError("40001", "could not serialize access")),
    "pg admin shutdown 57P01": _wrapped(_PgError("57P01", "terminating connection")),
    "pg connection failure 08006": _wrapped(_PgError("08006", "connection failure")),
    "pg closed connection (no code)": _wrapped(psycopg2.OperationalError("server closed the connection")),
    "pg connection already closed": _wrapped(psycopg2.InterfaceError("connection already closed")),
    "mysql deadlock 1213": _wrapped(pymysql.err.OperationalError(1213, "Deadlock found")),
    "mysql lock wait timeout 1205": _wrapped(pymysql.err.OperationalError(1205, "Lock wait timeout")),
    "mysql gone away 2006": _wrapped(pymysql.err.OperationalError(2006, "MySQL server has gone away")),
    "mysql lost connection 2013": _wrapped(pymysql.err.OperationalError(2013, "Lost connection")),
    "sqlite locked": _wrapped(sqlite3.OperationalError("database is locked")),
    "sqlite busy": _wrapped(sqlite3.OperationalError("database is busy")),
    "invalidated connection": _wrapped(RuntimeError("socket closed"), connection_invalidated=True),
    "disconnection": sa.exc.DisconnectionError("pool pre-ping failed"),
}

NOT_TRANSIENT = {
    "pg unique violation 23505": _wrapped(_PgError("23505", "duplicate key")),
    "pg syntax error 42601": _wrapped(_PgError("42601", "syntax error")),
    "pg statement timeout 57014": _wrapped(_PgError("57014", "canceling statement")),
    "mysql duplicate 1062": _wrapped(pymysql.err.IntegrityError(1062, "Duplicate entry")),
    "mysql unknown column 1054": _wrapped(pymysql.err.OperationalError(1054, "Unknown column")),
    "sqlite no such table": _wrapped(sqlite3.OperationalError("no such table: t")),
    "sqlite unique": _wrapped(sqlite3.IntegrityError("UNIQUE constraint failed: t.x")),
    "plain runtime error": RuntimeError("database is locked"),
    "value error": ValueError("boom"),
}


@pytest.mark.parametrize("error", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_transient_errors(error: BaseException) -> None:
    assert retry.is_transient(error)


@pytest.mark.parametrize("error", NOT_TRANSIENT.values(), ids=NOT_TRANSIENT.keys())
def test_other_errors_are_not_transient(error: BaseException) -> None:
    assert not retry.is_transient(error)


def test_a_transient_error_raised_as_the_cause_of_another_counts() -> None:
    try:
        try:
            raise TRANSIENT["mysql deadlock 1213"]
        except sa.exc.DBAPIError as exc:
            raise RuntimeError("while saving") from exc
    except RuntimeError as outer:
        assert retry.is_transient(outer)


def test_real_sqlite_lock_error_is_transient(tmp_path: Any) -> None:
    path = tmp_path / "busy.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:
        with pytest.raises(sa.exc.OperationalError) as info, engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        assert retry.is_transient(info.value)
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()


# -- the decorator -------------------------------------------------------------


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(retry, "_sleep", slept.append)
    return slept


@pytest.fixture
def db_conf(override_conf: Any) -> Any:
    return lambda name, value: override_conf("database", name, value)


def _failing(errors: list[BaseException], calls: list[int]) -> Any:
    @db_api.retry_on_transient
    def work(x: int) -> int:
        calls.append(x)
        if errors:
            raise errors.pop(0)
        return x * 2

    return work


def test_transient_errors_are_retried_then_it_succeeds(sleeps: list[float], db_conf: Any) -> None:
    db_conf("db_max_retries", 5)
    db_conf("db_retry_interval", 0.1)
    db_conf("db_max_retry_interval", 0.3)
    calls: list[int] = []
    deadlock = TRANSIENT["pg deadlock 40P01"]
    assert _failing([deadlock] * 4, calls)(21) == 42
    assert calls == [21] * 5
    assert len(sleeps) == 4
    # Exponential with jitter (half to full), capped.
    for slept, full in zip(sleeps, [0.1, 0.2, 0.3, 0.3], strict=True):
        assert full / 2 <= slept <= full


def test_a_non_transient_error_is_not_retried(sleeps: list[float]) -> None:
    calls: list[int] = []
    with pytest.raises(ValueError):
        _failing([ValueError("bad input")], calls)(1)
    assert calls == [1] and sleeps == []


@pytest.mark.usefixtures("db")
def test_inside_an_open_transaction_it_is_not_retried(sleeps: list[float]) -> None:
    calls: list[int] = []
    deadlock = TRANSIENT["mysql deadlock 1213"]
    with pytest.raises(sa.exc.DBAPIError), db_api.transaction():
        _failing([deadlock, deadlock], calls)(1)
    # The outer transaction is broken: only its own outermost level may run it again.
    assert calls == [1] and sleeps == []


def test_gives_up_after_max_retries_with_the_last_error(sleeps: list[float], db_conf: Any) -> None:
    db_conf("db_max_retries", 3)
    calls: list[int] = []
    errors: list[BaseException] = [_wrapped(_PgError("40P01", f"deadlock {n}")) for n in range(10)]
    with pytest.raises(sa.exc.DBAPIError, match="deadlock 3"):
        _failing(errors, calls)(1)
    assert len(calls) == 4 and len(sleeps) == 3


def test_run_with_retry_passes_arguments(sleeps: list[float]) -> None:
    outcomes: list[Any] = [TRANSIENT["sqlite locked"]]

    def work(a: int, *, b: int) -> int:
        if outcomes:
            raise outcomes.pop()
        return a + b

    assert db_api.run_with_retry(work, 1, b=2) == 3
    assert len(sleeps) == 1


def test_each_run_again_is_counted(sleeps: list[float], db_conf: Any) -> None:
    db_conf("db_max_retries", 5)
    before = REGISTRY.get_sample_value("mistral_db_transaction_retries_total") or 0.0
    assert _failing([TRANSIENT["pg deadlock 40P01"]] * 2, [])(1) == 2
    assert REGISTRY.get_sample_value("mistral_db_transaction_retries_total") == before + 2
