"""What reaches PostgreSQL, message by message, from a transaction of this process's engine."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest
import sqlalchemy as sa

from mistral.db import pg_round_trips, session
from mistral.db.queries import bulk

pytestmark = pytest.mark.postgres

TABLE = sa.Table("round_trips", sa.MetaData(), sa.Column("n", sa.Integer))
INSERT = bulk.TableInsert(TABLE, ("n",))


@pytest.fixture
def messages(pg_engine: sa.Engine, pg_messages: list[str]) -> Iterator[list[str]]:
    """The texts sent to the server from now on, one per round trip, over a fresh ``round_trips`` table."""
    with session.transaction() as s:
        s.execute(sa.text("DROP TABLE IF EXISTS round_trips"))
        s.execute(sa.text("CREATE TABLE round_trips (n integer PRIMARY KEY CHECK (n >= 0))"))
    pg_messages.clear()  # the table's creation is not the test's
    yield pg_messages
    with session.transaction() as s:
        s.execute(sa.text("DROP TABLE round_trips"))


def _numbers(postgres_url: str) -> list[int]:
    """What another connection sees committed."""
    conn = psycopg2.connect(sa.engine.make_url(postgres_url).render_as_string(hide_password=False).replace(
        "postgresql+psycopg2", "postgresql"))  # fmt: skip
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT n FROM round_trips ORDER BY n")
            return [n for (n,) in cur.fetchall()]
    finally:
        conn.close()


def _write(s: Any, *numbers: int) -> None:
    bulk.execute_many(s.connection(), INSERT, [{"n": n} for n in numbers], deferred=True)


def test_a_hop_shaped_transaction_is_three_round_trips(messages: list[str], postgres_url: str) -> None:
    """BEGIN goes with the first statement, the writes with the COMMIT."""
    with session.transaction() as s:
        assert s.execute(sa.text("SELECT count(*) FROM round_trips")).scalar() == 0
        _write(s, 1)
        assert s.execute(sa.text("SELECT count(*) FROM round_trips")).scalar() == 1  # it sees its write
        _write(s, 2, 3)
        _write(s, 4)
    assert [[part.split(" ")[0] for part in m.split(";")] for m in messages] == [
        ["BEGIN", "SELECT"],
        ["INSERT", "SELECT"],
        ["INSERT", "INSERT", "COMMIT"],
    ]
    assert messages[2].split(";") == [
        # the rows of one executemany: one statement
        "INSERT INTO round_trips (n) SELECT v.n::INTEGER FROM (VALUES (2),(3)) AS v(n)",
        "INSERT INTO round_trips (n) VALUES (4)",
        "COMMIT",
    ]
    assert _numbers(postgres_url) == [1, 2, 3, 4]


def test_a_held_write_that_fails_fails_the_commit_and_nothing_stays(
    messages: list[str], postgres_url: str
) -> None:
    with pytest.raises(sa.exc.IntegrityError, match="round_trips_n_check"):
        with session.transaction() as s:
            s.execute(sa.text("INSERT INTO round_trips VALUES (7)"))
            _write(s, 8, -1)
    assert messages[-1] == "ROLLBACK"
    assert _numbers(postgres_url) == []
    with session.transaction() as s:  # the pooled connection is fine
        _write(s, 9)
    assert _numbers(postgres_url) == [9]


def test_a_rollback_of_held_writes_only_sends_nothing(messages: list[str], postgres_url: str) -> None:
    with pytest.raises(RuntimeError):
        with session.transaction() as s:
            _write(s, 5)
            raise RuntimeError("changed my mind")
    assert messages == []
    assert _numbers(postgres_url) == []


def test_a_savepoint_rolled_back_takes_its_held_writes_with_it(
    messages: list[str], postgres_url: str
) -> None:
    with session.transaction() as s:
        _write(s, 1)
        nested = s.begin_nested()
        _write(s, 2)
        nested.rollback()
        _write(s, 3)
    assert _numbers(postgres_url) == [1, 3]


def test_outside_a_transaction_a_deferred_write_runs_at_once(messages: list[str], postgres_url: str) -> None:
    with session.transaction(one_statement=True) as s:
        _write(s, 6)
        assert messages == ["INSERT INTO round_trips (n) VALUES (6)"]
        assert _numbers(postgres_url) == [6]  # autocommit: already committed
    assert messages == ["INSERT INTO round_trips (n) VALUES (6)"]


def test_a_large_batch_is_not_held(messages: list[str], postgres_url: str) -> None:
    """Its text would be held whole until the next statement: it goes at once."""
    rows = range(pg_round_trips.MOST_DEFERRED_ROWS + 1)
    with session.transaction() as s:
        _write(s, *rows)
        assert len(messages) == 1  # with its BEGIN, every row in one statement
        assert messages[0].startswith(
            "BEGIN;INSERT INTO round_trips (n) SELECT v.n::INTEGER FROM (VALUES (0),(1),"
        )
        assert messages[0].count("INSERT") == 1
    assert messages[-1] == "COMMIT"
    assert _numbers(postgres_url) == list(rows)


def test_rows_beyond_one_statement_go_as_several(
    messages: list[str], postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pg_round_trips, "ROWS_PER_STATEMENT", 2)
    with session.transaction() as s:
        _write(s, 1, 2, 3, 4, 5)
    pages = ["(VALUES (1),(2))", "(VALUES (3),(4))", "(VALUES (5))"]
    assert messages == [
        "BEGIN;"
        + ";".join(f"INSERT INTO round_trips (n) SELECT v.n::INTEGER FROM {p} AS v(n)" for p in pages)
        + ";COMMIT"
    ]
    assert _numbers(postgres_url) == [1, 2, 3, 4, 5]


_KEYED = sa.Table(
    "keyed_rows",
    sa.MetaData(),
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("flag", sa.Boolean),
    sa.Column("note", sa.Text),
    sa.Column("at", sa.DateTime),
)
_SET_KEYED = bulk.KeyedUpdate(_KEYED, "id", ("flag", "note", "at"))


def _fresh_table(table: sa.Table, messages: list[str], rows: list[dict[str, Any]]) -> Iterator[None]:
    """``table`` created anew holding ``rows``; the messages counted from then on; dropped after."""
    with session.transaction() as s:
        table.drop(s.connection(), checkfirst=True)
        table.create(s.connection())
        if rows:
            s.execute(table.insert(), rows)
    messages.clear()
    yield
    with session.transaction() as s:
        table.drop(s.connection())


def _rows_of(table: sa.Table) -> list[tuple[Any, ...]]:
    with session.transaction() as s:
        return [tuple(row) for row in s.execute(sa.select(table).order_by(table.c.id))]


@pytest.fixture
def keyed(messages: list[str]) -> Iterator[None]:
    yield from _fresh_table(
        _KEYED, messages, [{"id": f"r{i}", "flag": True, "note": "old"} for i in range(4)]
    )


@pytest.mark.usefixtures("keyed")
def test_a_keyed_update_of_many_rows_is_one_statement(messages: list[str]) -> None:
    at = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456)
    with session.transaction() as s:
        bulk.execute_many(
            s.connection(),
            _SET_KEYED,
            [
                # NOTE: a column NULL in every row (flag) is still assigned to its boolean column
                {"id_": "r1", "flag": None, "note": "100% 'done'", "at": at},
                {"id_": "r3", "flag": None, "note": None, "at": None},
            ],
            deferred=True,
        )
    assert len(messages) == 1 and messages[0].count("UPDATE") == 1
    # NOTE: a value the same in every row (flag) is put in once
    assert messages[0].startswith("BEGIN;UPDATE keyed_rows SET flag = NULL::BOOLEAN, note = v.note::TEXT")
    assert "AS v(note, at, id_)" in messages[0]
    assert messages[0].endswith("WHERE keyed_rows.id = v.id_;COMMIT")
    assert _rows_of(_KEYED) == [
        ("r0", True, "old", None),
        ("r1", None, "100% 'done'", at),
        ("r2", True, "old", None),
        ("r3", None, None, None),
    ]


@pytest.mark.usefixtures("keyed")
def test_a_keyed_update_that_fails_fails_the_commit(messages: list[str]) -> None:
    with pytest.raises(sa.exc.DataError):
        with session.transaction() as s:
            s.execute(_KEYED.update().where(_KEYED.c.id == "r0").values(note="changed"))
            rows = [{"id_": "r1", "flag": False, "note": "x", "at": None}, {"id_": "r2", "flag": False,
                    "note": "y", "at": "not a time"}]  # fmt: skip
            bulk.execute_many(s.connection(), _SET_KEYED, rows, deferred=True)
    assert messages[-1] == "ROLLBACK"
    assert [row[2] for row in _rows_of(_KEYED)] == ["old", "old", "old", "old"]


def test_an_isolation_level_goes_with_its_begin(pg_engine: sa.Engine, messages: list[str]) -> None:
    with pg_engine.connect().execution_options(isolation_level="SERIALIZABLE") as conn:
        assert conn.execute(sa.text("SHOW transaction_isolation")).scalar() == "serializable"
        conn.commit()
    assert messages[0] == "BEGIN ISOLATION LEVEL SERIALIZABLE;SHOW transaction_isolation"
    with session.transaction() as s:  # back in the pool at the server's default
        assert s.execute(sa.text("SHOW transaction_isolation")).scalar() == "read committed"
    assert messages[-2].startswith("BEGIN;SHOW")


def test_held_writes_go_on_their_own_before_another_write(messages: list[str], postgres_url: str) -> None:
    """A caller that catches its own write's failure (a duplicate key) never gets a held write's."""
    with session.transaction() as s:
        s.execute(sa.text("INSERT INTO round_trips VALUES (1)"))
        _write(s, 2)
        with pytest.raises(sa.exc.IntegrityError, match="round_trips_pkey") as failed:
            with s.begin_nested():
                s.execute(sa.text("INSERT INTO round_trips VALUES (1)"))
        assert failed.value.statement == "INSERT INTO round_trips VALUES (1)"
    assert messages[:3] == [
        "BEGIN;INSERT INTO round_trips VALUES (1)",
        "INSERT INTO round_trips (n) VALUES (2)",
        "SAVEPOINT sa_savepoint_1",
    ]
    assert _numbers(postgres_url) == [1, 2]


_LABELS = sa.Table(
    "labels",
    sa.MetaData(),
    sa.Column("id", sa.String(5), primary_key=True),
    sa.Column("label", sa.String(8)),
    sa.Column("flag", sa.Boolean),
    sa.Column("n", sa.Integer),
)
_INSERT_LABELS = bulk.TableInsert(_LABELS, ("id", "label", "flag", "n"))


@pytest.fixture
def labels(messages: list[str]) -> Iterator[None]:
    yield from _fresh_table(_LABELS, messages, [])


@pytest.mark.usefixtures("labels")
def test_a_value_the_same_in_every_row_is_put_in_once(messages: list[str]) -> None:
    rows = [
        {"id": "a", "label": "50% off", "flag": False, "n": 1},
        {"id": "b", "label": "50% off", "flag": False, "n": 1.0},
    ]
    with session.transaction() as s:
        bulk.execute_many(s.connection(), _INSERT_LABELS, rows, deferred=True)
    # NOTE: 1 and 1.0 are equal, not alike: each row keeps its own
    assert messages == [
        "BEGIN;INSERT INTO labels (id, label, flag, n) SELECT v.id::TEXT, '50% off'::TEXT, false::BOOLEAN, "
        "v.n::INTEGER FROM (VALUES ('a', 1),('b', 1.0)) AS v(id, n);COMMIT"
    ]
    assert _rows_of(_LABELS) == [("a", "50% off", False, 1), ("b", "50% off", False, 1)]


@pytest.mark.usefixtures("labels")
def test_a_value_too_long_for_its_column_is_refused_not_cut() -> None:
    """Cast to VARCHAR(8) it would be cut short; assigned from TEXT it is refused, as a row of its own is."""
    rows = [
        {"id": "a", "label": "short", "flag": None, "n": 1},
        {"id": "b", "label": "far too long", "flag": None, "n": 2},
    ]
    with pytest.raises(sa.exc.DataError, match="too long"):
        with session.transaction() as s:
            bulk.execute_many(s.connection(), _INSERT_LABELS, rows, deferred=True)
    assert _rows_of(_LABELS) == []
