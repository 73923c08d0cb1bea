"""One statement run for many rows, without SQLAlchemy building each row's parameters.

NOTE: ``Connection.execute(stmt, rows)`` sends every row through the compiler's parameter
construction (name escaping, extracted parameters, defaults), about 9 us of the 17 us a
with-items result's UPDATE costs a row on SQLite. A statement whose parameters are all plain
named ``bindparam``s given in every row needs none of that: it is compiled once per dialect,
and each value only goes through its type's bind processor. The dialect still runs the batch
(``do_executemany``), except on PostgreSQL, where the rows of a ``TableInsert`` or a
``KeyedUpdate`` go as one statement (``pg_rows``).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from mistral.db import pg_round_trips
from mistral.db.queries import pg_rows

#: The execution options of a write that may wait for the transaction's next round trip.
DEFERRED = {pg_round_trips.DEFERRED: True}


@dataclasses.dataclass(frozen=True)
class TableInsert:
    """``INSERT INTO table (column, ...) VALUES (:column, ...)``, each bind named as its column."""

    table: sa.Table
    columns: tuple[str, ...]

    @functools.cached_property
    def statement(self) -> sa.Insert:
        return self.table.insert().values({name: sa.bindparam(name) for name in self.columns})

    def as_one(self, dialect: sa.Dialect) -> pg_rows.RowsAsOne:
        return pg_rows.insert(dialect, self.table, self.columns)


@dataclasses.dataclass(frozen=True)
class KeyedUpdate:
    """``UPDATE table SET column = :column, ... WHERE key = :key_param``: each row changes the row it names.

    The keys of one ``execute_many`` must differ: on PostgreSQL the rows are one statement, which
    changes a row once.
    """

    table: sa.Table
    key: str
    columns: tuple[str, ...]
    key_param: str = "id_"

    @functools.cached_property
    def statement(self) -> sa.Update:
        return (
            sa.update(self.table)
            .where(self.table.c[self.key] == sa.bindparam(self.key_param))
            .values({name: sa.bindparam(name) for name in self.columns})
        )

    def as_one(self, dialect: sa.Dialect) -> pg_rows.RowsAsOne:
        return pg_rows.keyed_update(dialect, self.table, self.key, self.key_param, self.columns)


#: A statement ``execute_many`` knows the shape of: on PostgreSQL its rows go as one statement.
Shaped = TableInsert | KeyedUpdate


def _executable(stmt: sa.Executable | Shaped) -> sa.Executable:
    return stmt.statement if isinstance(stmt, Shaped) else stmt


class _Compiled(NamedTuple):
    sql: str
    #: the bind names in the order of a positional paramstyle's placeholders; None for a named one
    positions: tuple[str, ...] | None
    names: tuple[str, ...]
    processors: Mapping[str, Callable[[Any], Any]]
    #: every row in one statement (PostgreSQL), for a statement of a known shape
    as_one: pg_rows.RowsAsOne | None


#: Statements kept compiled. NOTE: besides the bulk writes, every insert of one task or execution
#: and every set of changed columns of a task or execution (37 in the engine's unit tests) comes
#: here. A task's insert kept takes about 1.2 KB (its text, bind names and processors); compiling
#: it again, 0.6 ms.
COMPILED_KEPT = 256


@functools.lru_cache(maxsize=COMPILED_KEPT)
def _compile(stmt: sa.Executable | Shaped, dialect: sa.Dialect) -> _Compiled | None:
    """None when the statement needs what only SQLAlchemy's own path does (escaped or default values)."""
    compiled = _executable(stmt).compile(dialect=dialect)  # type: ignore[attr-defined]
    # NOTE: a private attribute; a SQLAlchemy without it takes its own path, as before.
    processors = getattr(compiled, "_bind_processors", None)
    if processors is None or compiled.escaped_bind_names:
        return None
    if compiled.insert_prefetch or compiled.update_prefetch:
        return None  # Python-side defaults, which SQLAlchemy computes per row
    processors = {
        name: _sqlite_datetime(proc) if _is_sqlite_datetime(compiled.binds[name].type, dialect) else proc
        for name, proc in processors.items()
    }
    positions = tuple(compiled.positiontup) if compiled.positional else None
    as_one = stmt.as_one(dialect) if isinstance(stmt, Shaped) and pg_round_trips.joins_rows(dialect) else None
    return _Compiled(str(compiled), positions, tuple(compiled.binds), dict(processors), as_one)


def _is_sqlite_datetime(kind: sa.types.TypeEngine[Any], dialect: sa.Dialect) -> bool:
    """Whether values of ``kind`` are stored as SQLAlchemy's SQLite DATETIME text of the default format."""
    impl = kind.dialect_impl(dialect)
    return type(impl) is sqlite.DATETIME and impl._storage_format == sqlite.DATETIME._storage_format


def _sqlite_datetime(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``processor``, which a naive datetime skips: its ``isoformat`` is the same text, made in C.

    NOTE: SQLAlchemy formats the text from a dict of the datetime's fields, 2 us a value against
    0.8; an action row has three or four of them, and a with-items task writes one per item.
    """

    def process(value: Any) -> Any:
        if type(value) is datetime.datetime and value.tzinfo is None:
            return value.isoformat(" ", "microseconds")
        return processor(value)

    return process


def execute_many(
    connection: sa.Connection,
    stmt: sa.Executable | Shaped,
    rows: Sequence[Mapping[str, Any]],
    *,
    deferred: bool = False,
) -> None:
    """``connection.execute(stmt, rows)``, for a statement of named bind parameters that every row gives.

    ``stmt`` is a constant (built once): it is the key of its compiled form. ``deferred``: a write
    whose errors may surface later in the transaction, which may travel with its next statement
    (``pg_round_trips``).
    """
    if not rows:
        return
    options: dict[str, Any] | None = DEFERRED if deferred else None
    compiled = _compile(stmt, connection.dialect)
    if compiled is None:
        connection.execute(_executable(stmt), list(rows), execution_options=options)
        return
    if compiled.as_one is not None:
        options = {**(options or {}), pg_round_trips.AS_ONE: compiled.as_one}
    processors = compiled.processors
    order = compiled.positions if compiled.positions is not None else compiled.names
    # NOTE: a processor per bind, looked up once for all the rows.
    steps = [(name, processors.get(name)) for name in order]
    if compiled.positions is not None:
        params: list[Any] = [
            tuple(row[name] if proc is None else proc(row[name]) for name, proc in steps) for row in rows
        ]
    else:
        params = [
            {name: row[name] if proc is None else proc(row[name]) for name, proc in steps} for row in rows
        ]
    connection.exec_driver_sql(compiled.sql, params, execution_options=options)
