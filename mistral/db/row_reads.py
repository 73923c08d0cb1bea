"""One row of a kept SELECT, read on SQLite's driver connection: the reads behind every poll.

NOTE (issue 14): the polled read of an execution cost 0.21 ms of CPU through SQLAlchemy's
Connection (its checkout, events, execution context and result objects) where the statement
itself took 12 us on the driver's connection. Here a kept statement is compiled once per
engine, run on a pooled driver connection, and its row's values converted by the columns' own
result processors, so they are the values SQLAlchemy gives. Only on SQLite: its driver takes
the compiled SQL's positional parameters as they are, and without a transaction one
statement sees one committed state (WAL), so no BEGIN is needed. Everything else goes
through SQLAlchemy (``mistral.db.session.read_first``).
"""

from __future__ import annotations

import collections
import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa


@dataclasses.dataclass(frozen=True)
class _Compiled:
    sql: str
    #: the bind parameters' names, in the order of the SQL's placeholders
    params: tuple[str, ...]
    #: the values the statement holds itself (its literals), by parameter name
    literals: Mapping[str, Any]
    processors: tuple[Callable[[Any], Any] | None, ...]
    #: rows by column name, as SQLAlchemy's rows are read by attribute
    row: Callable[..., Any]


def usable(engine: sa.Engine) -> bool:
    """Whether ``first`` reads on this engine's driver connection.

    NOTE: not with a pool that hands every thread one shared connection (an in-memory database):
    there another thread's transaction may be open on it.
    """
    return engine.dialect.name == "sqlite" and not isinstance(engine.pool, sa.pool.StaticPool)


def first(engine: sa.Engine, stmt: sa.Select, params: Mapping[str, Any]) -> Any | None:
    """The first row of ``stmt`` (built once and kept by the caller) with ``params``, or None."""
    compiled = _compile(engine, stmt)
    values = tuple(params[name] if name in params else compiled.literals[name] for name in compiled.params)
    conn = engine.raw_connection()
    try:
        cursor = conn.cursor()
        try:
            cursor.execute(compiled.sql, values)
            found = cursor.fetchone()
        finally:
            cursor.close()
    finally:
        conn.close()  # NOTE: back to the pool, which ends the driver's transaction if it began one
    if found is None:
        return None
    return compiled.row(
        *(p(v) if p is not None else v for p, v in zip(compiled.processors, found, strict=True))
    )


@functools.cache
def _compile(engine: sa.Engine, stmt: sa.Select) -> _Compiled:
    """Once per engine and kept statement (both hash by identity, and the cache holds them)."""
    dialect = engine.dialect
    sql = stmt.compile(dialect=dialect)
    if sql.positiontup is None or any(b.expanding for b in sql.binds.values()):
        raise ValueError("row_reads: a statement with positional parameters and no expanding ones only")
    columns = list(stmt.selected_columns)
    return _Compiled(
        sql=str(sql),
        params=tuple(sql.positiontup),
        literals={name: bind.effective_value for name, bind in sql.binds.items() if not bind.required},
        processors=tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns),
        row=collections.namedtuple("Row", [c.key for c in columns]),  # type: ignore[misc]
    )
