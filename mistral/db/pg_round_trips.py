"""Fewer round trips per PostgreSQL transaction: BEGIN goes with the first statement, COMMIT with the writes.

NOTE (issue 14): psycopg2 sends BEGIN and COMMIT as round trips of their own and
every statement as one more. An engine hop on PostgreSQL was eight of them
(BEGIN, the workflow's lock, the read of the action and its task, two UPDATEs,
two INSERTs, COMMIT), each a wake-up of the server's backend and of the engine's
thread, and together most of the hop's time in the engine. Here:

- the driver's connection stays in autocommit, and the transaction is ours: its
  BEGIN is sent in front of the first statement, in the same message;
- a write whose caller needs nothing back from it (no rows, no row count) may be
  marked ``DEFERRED``: it is held and sent in front of the next read, or of the
  COMMIT. The hop is then three round trips: BEGIN with the lock, the read, and
  the writes with the COMMIT;
- the rows of an executemany that ``bulk`` marks ``AS_ONE`` are one statement
  (``mistral.db.queries.pg_rows``), not one statement a row, which the server
  would parse and plan one by one.

The statements reach the server in the order they were made, in the same
transaction; only when the held ones leave changes. A held write that fails
(a constraint) fails the read it travels with, or the commit, and the
transaction rolls back as it would have. In front of another write (or a
SAVEPOINT) the held ones go in a message of their own: a caller that catches
its write's failure (a duplicate key) never takes a held write's for it. The
values are put into the text by psycopg2 (``mogrify``), as it does for every
statement it sends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, cast

import psycopg2.extensions
import psycopg2.sql
import sqlalchemy as sa
from sqlalchemy.engine.interfaces import IsolationLevel

#: The execution option that marks a write as one that may wait for the next round trip.
DEFERRED = "mistral_deferred_write"
#: Rows of one executemany that may be held: a larger batch goes at once.
MOST_DEFERRED_ROWS = 100
#: The execution option of an executemany whose rows may go as one statement (an ``AsOne``).
AS_ONE = "mistral_rows_as_one"
#: Rows in one such statement, at most: a larger executemany is several, each a message.
ROWS_PER_STATEMENT = 1000


class AsOne(Protocol):
    """Rows as one statement (``bulk`` makes one for the statements it knows the shape of)."""

    def render(
        self, mogrify: Callable[[str, Mapping[str, Any]], bytes], rows: Sequence[Mapping[str, Any]]
    ) -> bytes:
        """The statement's text, values quoted by ``mogrify``."""
        ...


_BEGIN = b"BEGIN"

Query = str | bytes | psycopg2.sql.Composable


class Connection(psycopg2.extensions.connection):
    """A psycopg2 connection that begins, holds writes and commits in few messages (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        psycopg2.extensions.connection.autocommit.__set__(self, True)  # type: ignore[attr-defined]
        self.cursor_factory = Cursor
        #: what the caller asked for: True runs each statement on its own, as psycopg2's autocommit
        self._autocommit = False
        self._begin = _BEGIN
        #: a transaction is under way (its BEGIN sent, or to go with the next message)
        self._open = False
        #: its BEGIN has reached the server (a ROLLBACK is needed to end it)
        self._sent = False
        #: writes made and not sent yet
        self._held: list[bytes] = []

    @property
    def autocommit(self) -> bool:
        return self._autocommit

    @autocommit.setter
    def autocommit(self, value: bool) -> None:
        self._autocommit = bool(value)

    def use_level(self, level: str | None) -> None:
        """Run later transactions at ``level`` (None: the server's default), or each statement alone."""
        self._autocommit = level == "AUTOCOMMIT"
        self._begin = _BEGIN if level in (None, "AUTOCOMMIT") else f"BEGIN ISOLATION LEVEL {level}".encode()

    def hold(self, statements: Iterable[bytes]) -> bool:
        """Keep ``statements`` (as sent) for the next round trip; False outside a transaction: run them."""
        if self._autocommit:
            return False
        self._open = True
        self._held.extend(statements)
        return True

    def take_held(self, cursor: psycopg2.extensions.cursor, query: Query) -> list[bytes]:
        """What goes in front of ``query``, about to be sent: the BEGIN, and the held writes if it reads.

        Held writes in front of anything else are sent first, in a message of their own.
        """
        if self._autocommit:
            return []
        self._open = True
        writes, self._held = self._held, []
        before = writes if self._sent else [self._begin, *writes]
        if not before:
            return []
        self._sent = True
        if writes and not _reads(query):
            _send(cursor, b";".join(before))
            return []
        return before

    def commit(self) -> None:
        if not self._open:
            return
        if not self._sent and not self._held:
            self._end()
            return
        self._send_ending([*([] if self._sent else [self._begin]), *self._held, b"COMMIT"])

    def rollback(self) -> None:
        if not self._open:
            return
        if not self._sent:
            self._end()  # nothing reached the server: nothing to undo
            return
        self._send_ending([b"ROLLBACK"])

    def _send_ending(self, statements: list[bytes]) -> None:
        self._held, self._sent = [], True
        cursor = psycopg2.extensions.cursor(self)
        try:
            _send(cursor, b";".join(statements))
        finally:
            cursor.close()
        # NOTE: only once the server has it: a failed COMMIT leaves the transaction to roll back.
        self._end()

    def _end(self) -> None:
        self._open = self._sent = False
        self._held = []


class Cursor(psycopg2.extensions.cursor):
    """Sends what its connection holds in front of each statement."""

    def execute(self, query: Query, vars: Any = None) -> None:  # noqa: A002 - psycopg2's name
        held = cast(Connection, self.connection).take_held(self, query)
        if not held:
            _send(self, query, vars)
            return
        _send(self, b";".join([*held, self.mogrify(query, vars)]))

    # NOTE: psycopg2's other ways of sending do not go through ``execute``: what is held goes first.

    def executemany(self, query: Query, vars_list: Any) -> None:
        self._send_held()
        super().executemany(query, vars_list)

    def callproc(self, procname: str | bytes, parameters: Any = None) -> Any:
        self._send_held()
        return super().callproc(procname, parameters)

    def copy_expert(self, sql: Any, file: Any, size: int = 8192) -> None:
        self._send_held()
        super().copy_expert(sql, file, size)

    def copy_from(self, file: Any, table: str, *args: Any, **kwargs: Any) -> None:
        self._send_held()
        super().copy_from(file, table, *args, **kwargs)

    def copy_to(self, file: Any, table: str, *args: Any, **kwargs: Any) -> None:
        self._send_held()
        super().copy_to(file, table, *args, **kwargs)

    def _send_held(self) -> None:
        held = cast(Connection, self.connection).take_held(self, b"")
        if held:
            _send(self, b";".join(held))


def _reads(query: Query) -> bool:
    """A SELECT: nobody catches a failure of its own (as a duplicate key), so held writes may go with it."""
    return isinstance(query, str | bytes) and query[:6].upper() in ("SELECT", b"SELECT")


def _send(cursor: psycopg2.extensions.cursor, query: Query, vars: Any = None) -> None:  # noqa: A002
    """One message to the server (what a round trip carries)."""
    psycopg2.extensions.cursor.execute(cursor, query, vars)


def install(engine: sa.Engine) -> None:
    """Make ``engine`` (psycopg2, its connections made by ``Connection``) hold and join statements."""
    dialect = engine.dialect
    execute, executemany = dialect.do_execute, dialect.do_executemany

    def do_execute(cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        if _deferred(context) and cursor.connection.hold([cursor.mogrify(statement, parameters)]):
            return
        execute(cursor, statement, parameters, context)

    def do_executemany(cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        may_hold = _deferred(context) and len(parameters) <= MOST_DEFERRED_ROWS
        as_one = _as_one(context)
        if as_one is not None:
            statements = _joined(cursor, as_one, parameters)
            if not (may_hold and cursor.connection.hold(statements)):
                for one in statements:
                    cursor.execute(one)
            return
        if may_hold and cursor.connection.hold([cursor.mogrify(statement, row) for row in parameters]):
            return
        executemany(cursor, statement, parameters, context)

    def set_isolation_level(dbapi_conn: Any, level: IsolationLevel) -> None:
        # NOTE: nothing is sent: the level goes with the next BEGIN. The server's own default
        # level needs no naming (psycopg2 would have sent SET default_transaction_isolation).
        dbapi_conn.use_level(None if level == dialect.default_isolation_level else level)

    do_executemany.joins_rows = True  # type: ignore[attr-defined]
    dialect.do_execute = do_execute  # type: ignore[method-assign]
    dialect.do_executemany = do_executemany  # type: ignore[method-assign]
    dialect.set_isolation_level = set_isolation_level  # type: ignore[method-assign,assignment]


def joins_rows(dialect: sa.Dialect) -> bool:
    """Whether an executemany through ``dialect`` honours ``AS_ONE`` (``install`` made it so)."""
    return getattr(dialect.do_executemany, "joins_rows", False)


def _joined(cursor: Any, as_one: AsOne, rows: Sequence[Any]) -> list[bytes]:
    """The statements of ``rows``, ``ROWS_PER_STATEMENT`` at most each; values are put in by psycopg2."""
    return [
        as_one.render(cursor.mogrify, rows[start : start + ROWS_PER_STATEMENT])
        for start in range(0, len(rows), ROWS_PER_STATEMENT)
    ]


def _deferred(context: Any) -> bool:
    return context is not None and bool(context.execution_options.get(DEFERRED))


def _as_one(context: Any) -> AsOne | None:
    return None if context is None else context.execution_options.get(AS_ONE)
