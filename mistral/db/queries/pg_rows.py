"""The rows of a bulk write as one PostgreSQL statement, a value the same in every row put in once.

NOTE (issue 14): psycopg2's executemany (``execute_batch``) sends a statement per row, each
parsed and planned by the server, and quotes every value of every row into the text
(``mogrify``, over a microsecond a value). One statement with a row of VALUES each is parsed
once, and in a with-items batch ten of an action row's thirteen values (its task, state,
project ...) are the same in every row: they are quoted once, not five hundred times.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

Mogrify = Callable[[str, Mapping[str, Any]], bytes]


@dataclasses.dataclass(frozen=True)
class RowsAsOne:
    """``INSERT ... SELECT ... FROM (VALUES ...)`` or ``UPDATE ... FROM (VALUES ...)`` of a table's rows.

    NOTE: every value is cast to its column's type. A VALUES column NULL in every row would be
    text, which PostgreSQL does not assign to a boolean column; a string is cast to TEXT, not to
    VARCHAR(n), which would cut a value too long instead of refusing it as the column does.
    """

    table: str
    #: the bind parameters of a row, in order
    binds: tuple[str, ...]
    #: each bind quoted, as the name of its column of the VALUES list
    aliases: tuple[str, ...]
    #: the quoted column each bind sets
    columns: tuple[str, ...]
    casts: tuple[str, ...]
    #: an update's bind naming the row to change; None: an insert
    key: str | None = None

    def render(self, mogrify: Mogrify, rows: Sequence[Mapping[str, Any]]) -> bytes:
        """The statement of ``rows`` (each a dict of every bind), its values quoted by ``mogrify``."""
        first = rows[0]
        foldable = [b for b in self.binds if b != self.key]
        same = frozenset(b for b in foldable if all(_alike(row[b], first[b]) for row in rows[1:]))
        if len(same) == len(self.binds):
            same -= {self.binds[0]}  # NOTE: rows all alike still need a VALUES column
        head, row, tail = self._shape(same)
        return mogrify(head, first) + b",".join([mogrify(row, r) for r in rows]) + tail.encode()

    @functools.lru_cache(maxsize=16)  # noqa: B019 - instances are few and live as long as the process
    def _shape(self, same: frozenset[str]) -> tuple[str, str, str]:
        """The statement's text before its rows (holding the values that are the same), one row's, after."""
        fields = list(zip(self.binds, self.aliases, self.columns, self.casts, strict=True))
        value = {b: f"%({b})s::{cast}" if b in same else f"v.{alias}::{cast}" for b, alias, _, cast in fields}
        if self.key is None:
            head = (
                f"INSERT INTO {self.table} ({', '.join(self.columns)}) "
                f"SELECT {', '.join(value[b] for b in self.binds)} FROM (VALUES "
            )
            where = ""
        else:
            sets = [f"{column} = {value[b]}" for b, _, column, _ in fields if b != self.key]
            head = f"UPDATE {self.table} SET {', '.join(sets)} FROM (VALUES "
            (key_alias, key_column) = next((a, c) for b, a, c, _ in fields if b == self.key)
            where = f" WHERE {self.table}.{key_column} = v.{key_alias}"
        varying = [(b, alias) for b, alias, _, _ in fields if b not in same]
        row = "(" + ", ".join(f"%({b})s" for b, _ in varying) + ")"
        return head, row, f") AS v({', '.join(alias for _, alias in varying)}){where}"


def insert(dialect: sa.Dialect, table: sa.Table, columns: Sequence[str]) -> RowsAsOne:
    """Rows inserted into ``columns`` of ``table``, each bind named as its column."""
    return _rows(dialect, table, [(c, c) for c in columns])


def keyed_update(
    dialect: sa.Dialect, table: sa.Table, key: str, key_bind: str, columns: Sequence[str]
) -> RowsAsOne:
    """Rows updating ``columns`` (binds named as columns) of the rows whose ``key`` is their ``key_bind``."""
    return _rows(dialect, table, [*((c, c) for c in columns), (key_bind, key)], key=key_bind)


def _rows(
    dialect: sa.Dialect, table: sa.Table, fields: Sequence[tuple[str, str]], key: str | None = None
) -> RowsAsOne:
    """``fields``: (bind, column) pairs."""
    quote = dialect.identifier_preparer.quote
    return RowsAsOne(
        _no_percent(dialect.identifier_preparer.format_table(table)),
        tuple(b for b, _ in fields),
        tuple(_no_percent(quote(b)) for b, _ in fields),
        tuple(_no_percent(quote(c)) for _, c in fields),
        tuple(_cast(dialect, table.c[c]) for _, c in fields),
        key,
    )


def _alike(a: Any, b: Any) -> bool:
    # NOTE: the type too: 1 == True, but they are quoted differently.
    return a is b or (type(a) is type(b) and a == b)


def _no_percent(text: str) -> str:
    """Text that goes through ``mogrify``, where a lone % would be taken for a placeholder."""
    return text.replace("%", "%%")


def _cast(dialect: sa.Dialect, column: sa.Column[Any]) -> str:
    type_ = column.type
    impl = type_.impl_instance if isinstance(type_, sa.TypeDecorator) else type_
    if isinstance(impl, sa.String) and not isinstance(impl, sa.Enum):
        return "TEXT"
    return type_.compile(dialect=dialect)
