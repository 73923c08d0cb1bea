"""bench/lock_waits.py: the seconds a deployment's PostgreSQL sessions waited for locks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bench import lock_waits
from tests.conftest import PG_ADMIN_URL, scratch_postgres

#: How long the test's transaction holds the row another one waits for.
HELD_S = 0.6


def test_waiting_sessions_times_the_time_to_the_next_sample() -> None:
    lines = [
        "",
        "100.00|0|5",
        "100.02|2|9",
        "not|a|sample",
        "100.05|1|4",
        "100.07|0|6",
        "100.09|3|7",
        "1|2",
        "\n",
    ]
    waits = lock_waits.summarize(lines)
    assert waits is not None
    # the last sample's waiting sessions have no time to the next one
    assert waits.wait_s == pytest.approx(2 * 0.03 + 1 * 0.02)
    assert (waits.most_waiting, waits.most_sessions, waits.samples, waits.span_s) == (3, 9, 5, 0.09)
    assert "0.080 s over 0.1 s (at most 3 of 9 sessions waiting at once; 5 samples" in lock_waits.line(waits)


def test_fewer_than_two_samples_measure_nothing() -> None:
    assert lock_waits.summarize(["100.00|4|4"]) is None
    assert lock_waits.summarize([]) is None


def test_the_database_name_is_a_quoted_literal() -> None:
    sql = lock_waits.sampling_sql("it's")
    assert "datname = 'it''s'" in sql
    assert sql.endswith(f"\\watch {lock_waits.INTERVAL_S}\n")


def test_without_psql_nothing_is_measured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lock_waits.deploy, "psql_session_argv", lambda _url: ["/nonexistent/psql"])
    sampler = lock_waits.Sampler("postgresql://postgres@127.0.0.1/test", "test")
    assert sampler.start() is False
    assert sampler.stop() is None


@pytest.fixture
def locked_row() -> Iterator[tuple[sa.Engine, str]]:
    with scratch_postgres("bench_lock_waits") as url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE workflow (id int PRIMARY KEY)")
            conn.exec_driver_sql("INSERT INTO workflow VALUES (1)")
        yield engine, sa.engine.make_url(url).database or ""
        engine.dispose()


def _sampled(engine: sa.Engine, database: str, *, contended: bool) -> lock_waits.LockWaits:
    sampler = lock_waits.Sampler(PG_ADMIN_URL.replace("+psycopg2", ""), database)
    assert sampler.start()
    time.sleep(0.2)
    with engine.connect() as holder, holder.begin():
        holder.exec_driver_sql("SELECT id FROM workflow WHERE id = 1 FOR UPDATE")
        waiter = None
        if contended:

            def wait_for_the_row() -> None:
                with engine.begin() as conn:
                    conn.exec_driver_sql("SELECT id FROM workflow WHERE id = 1 FOR UPDATE")

            waiter = threading.Thread(target=wait_for_the_row)
            waiter.start()
        time.sleep(HELD_S)
    if waiter is not None:
        waiter.join(10)
    time.sleep(0.2)
    waits = sampler.stop()
    assert waits is not None
    return waits


@pytest.mark.postgres
def test_a_session_waiting_for_a_row_lock_is_counted_for_as_long_as_it_waits(
    locked_row: tuple[sa.Engine, str],
) -> None:
    waits = _sampled(*locked_row, contended=True)
    assert (waits.most_waiting, waits.most_sessions) == (1, 2)
    assert HELD_S * 0.6 <= waits.wait_s <= HELD_S * 1.4
    assert waits.span_s >= HELD_S


@pytest.mark.postgres
def test_a_held_lock_nobody_waits_for_is_no_wait(locked_row: tuple[sa.Engine, str]) -> None:
    waits = _sampled(*locked_row, contended=False)
    assert (waits.wait_s, waits.most_waiting, waits.most_sessions) == (0, 0, 1)
    assert waits.samples >= 10


def _fake_psql(monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """psql replaced by ``sh -c script`` (the arguments psql would get follow, unused)."""
    monkeypatch.setattr(lock_waits.deploy, "psql_session_argv", lambda _url: ["sh", "-c", script])


def test_start_returns_once_psql_has_taken_its_first_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow connect is waited for: a workload started before the first sample loses its first waits."""
    # NOTE: both samples in one write: a stop sent between two echos would leave one sample, so None.
    _fake_psql(monkeypatch, "sleep 0.6; printf '100.0|1|2\\n100.5|0|2\\n'; exec sleep 30")
    sampler = lock_waits.Sampler("postgresql://postgres@127.0.0.1/test", "test")
    started = time.monotonic()
    assert sampler.start()
    assert time.monotonic() - started >= 0.5
    waits = sampler.stop()
    assert waits is not None and waits.wait_s == 0.5


def test_start_does_not_wait_for_a_psql_that_ended_without_a_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_psql(monkeypatch, "exit 2")
    sampler = lock_waits.Sampler("postgresql://postgres@127.0.0.1/test", "test")
    started = time.monotonic()
    assert sampler.start()
    assert time.monotonic() - started < lock_waits.FIRST_SAMPLE_WAIT_S / 2
    assert sampler.stop() is None


def test_a_psql_gone_before_its_query_is_written_measures_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_psql(monkeypatch, "exec 0<&-; exit 2")  # its stdin closed at once: the write finds no reader
    sampler = lock_waits.Sampler("postgresql://postgres@127.0.0.1/test", "test")
    monkeypatch.setattr(lock_waits, "sampling_sql", lambda _db: time.sleep(0.3) or "x" * 1_000_000)
    assert sampler.start()
    assert sampler.stop() is None
