"""``bulk.execute_many`` writes what ``Connection.execute(stmt, rows)`` writes, or leaves it to it."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from mistral.db.queries import bulk

_META = sa.MetaData()
_T = sa.Table(
    "t",
    _META,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("flag", sa.Boolean),
    sa.Column("at", sa.DateTime),
    sa.Column("touched", sa.DateTime, onupdate=lambda: datetime.datetime(2000, 1, 1)),
)
_SET = (
    sa.update(_T)
    .where(_T.c.id == sa.bindparam("id_"))
    .values(flag=sa.bindparam("flag"), at=sa.bindparam("at"))
)
_SET_ALL = _SET.values(touched=sa.bindparam("touched"))


def _table_after(stmt: sa.Executable, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    engine = sa.create_engine("sqlite://")
    _META.create_all(engine)
    with engine.begin() as connection:
        connection.execute(sa.insert(_T), [{"id": f"r{i}", "flag": False} for i in range(3)])
        bulk.execute_many(connection, stmt, rows)
        return list(connection.execute(sa.select(_T).order_by(_T.c.id)))


def test_rows_are_written_as_sqlalchemy_writes_them() -> None:
    at = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456)
    rows = [
        {"id_": "r0", "flag": True, "at": at, "touched": at},
        {"id_": "r2", "flag": None, "at": None, "touched": None},
    ]
    assert bulk._compile(_SET_ALL, sa.create_engine("sqlite://").dialect) is not None
    assert _table_after(_SET_ALL, rows) == [
        ("r0", True, at, at),
        ("r1", False, None, None),
        ("r2", None, None, None),
    ]


def _stored_text(stmt: sa.Executable, at: Any, write: Any) -> str:
    engine = sa.create_engine("sqlite://")
    _META.create_all(engine)
    with engine.begin() as connection:
        connection.execute(sa.insert(_T), [{"id": "r0", "flag": False}])
        write(connection, stmt, [{"id_": "r0", "flag": True, "at": at, "touched": None}])
        return connection.exec_driver_sql("SELECT at FROM t").scalar_one()


@pytest.mark.parametrize(
    "at",
    [
        datetime.datetime(2024, 5, 6, 7, 8, 9, 123456),
        datetime.datetime(2024, 5, 6),  # no microseconds: isoformat would leave them out by default
        datetime.datetime(999, 1, 2, 3, 4, 5, 6),
        datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
        datetime.date(2024, 5, 6),
    ],
)
def test_a_time_is_stored_in_sqlites_text_as_sqlalchemy_stores_it(at: Any) -> None:
    ours = _stored_text(_SET_ALL, at, bulk.execute_many)
    theirs = _stored_text(_SET_ALL, at, lambda connection, stmt, rows: connection.execute(stmt, rows))
    assert ours == theirs


def test_a_statement_with_python_side_defaults_goes_through_sqlalchemy() -> None:
    at = datetime.datetime(2024, 5, 6)
    assert bulk._compile(_SET, sa.create_engine("sqlite://").dialect) is None
    after = _table_after(_SET, [{"id_": "r1", "flag": True, "at": at}])
    assert after[1] == ("r1", True, at, datetime.datetime(2000, 1, 1))  # the onupdate default was applied


def test_a_keyed_update_changes_the_rows_it_names() -> None:
    at = datetime.datetime(2024, 5, 6)
    keyed = bulk.KeyedUpdate(_T, "id", ("flag", "at", "touched"))
    after = _table_after(keyed, [{"id_": "r2", "flag": True, "at": at, "touched": None}, {"id_": "r0",
                         "flag": None, "at": None, "touched": at}])  # fmt: skip
    assert after == [("r0", None, None, at), ("r1", False, None, None), ("r2", True, at, None)]


def test_only_postgresql_joins_the_rows_into_one_statement() -> None:
    keyed = bulk.KeyedUpdate(_T, "id", ("flag", "at", "touched"))
    sqlite = sa.create_engine("sqlite://").dialect
    assert bulk._compile(keyed, sqlite).as_one is None  # type: ignore[union-attr]
    assert bulk._compile(sa.insert(_T).values(id=sa.bindparam("id")), sqlite).as_one is None  # type: ignore[union-attr]
