"""No job is dropped silently: transient failures retry forever, others end in the job's give-up handler."""

from __future__ import annotations

import datetime
from typing import Any

import pymysql
import pytest
import sqlalchemy as sa

from mistral import context
from mistral.db import api as db_api
from mistral.db import retry
from mistral.scheduler import jobs
from mistral.scheduler.scheduler import Scheduler

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "_sleep", lambda _s: None)


def _deadlock() -> sa.exc.OperationalError:
    orig = pymysql.err.OperationalError(1213, "Deadlock found when trying to get lock")
    return sa.exc.OperationalError("UPDATE task_executions_v2 ...", {}, orig)


def _job_row(job_id: str) -> Any:
    return db_api.load_scheduled_job(job_id)


def test_job_failing_transiently_ten_times_still_runs_in_the_end(clock, register, set_conf) -> None:
    set_conf("max_attempts", 3)
    runs: list[int] = []
    given_up: list[jobs.GiveUp] = []

    def flaky(n: int) -> None:
        runs.append(n)
        if len(runs) <= 10:
            raise _deadlock()

    jobs.register("t.flaky_db", flaky, on_give_up=given_up.append)
    register("t.flaky_db", flaky)
    job_id = jobs.schedule("t.flaky_db", run_after=clock.now, func_args={"n": 7})
    sched = Scheduler(clock, retry_delay=1.0, max_retry_delay=8.0)
    waits: list[float] = []
    for _ in range(10):
        assert sched.run_once() == 1
        row = _job_row(job_id)
        assert row is not None, "a transiently failing job must never be dropped"
        waits.append((row.run_after - clock.now).total_seconds())
        clock.now = row.run_after
    assert waits == [1, 2, 4, 8, 8, 8, 8, 8, 8, 8]  # doubling, capped, never given up
    assert sched.run_once() == 1
    assert runs == [7] * 11
    assert _job_row(job_id) is None
    assert given_up == []


def test_give_up_handler_runs_once_with_args_and_error_after_max_attempts(clock, register, set_conf) -> None:
    set_conf("max_attempts", 3)
    given_up: list[tuple[jobs.GiveUp, context.Context]] = []

    def on_give_up(give_up: jobs.GiveUp) -> None:
        given_up.append((give_up, context.current()))
        jobs.schedule("t.follow_up", run_after=clock.now)  # its writes commit

    def broken(task_ex_id: str) -> None:
        raise RuntimeError("no such thing")

    jobs.register("t.broken", broken, on_give_up=on_give_up)
    register("t.broken", broken)
    ctx = context.Context(project_id="proj", user_id="alice")
    with context.using(ctx):
        job_id = jobs.schedule("t.broken", run_after=clock.now, func_args={"task_ex_id": "t-1"})
    sched = Scheduler(clock, retry_delay=1.0)
    for _ in range(3):
        assert sched.run_once() == 1
        clock.advance(10)
    assert _job_row(job_id) is None
    assert len(given_up) == 1
    give_up, seen_ctx = given_up[0]
    assert give_up.args == {"task_ex_id": "t-1"}
    assert give_up.attempts == 3 and give_up.error == "RuntimeError: no such thing"
    assert seen_ctx == ctx
    assert db_api.count_scheduled_jobs("t.follow_up") == 1


def test_give_up_handler_is_retried_on_transient_errors(clock, register, set_conf) -> None:
    set_conf("max_attempts", 1)
    calls: list[int] = []

    def on_give_up(give_up: jobs.GiveUp) -> None:
        calls.append(1)
        if len(calls) < 3:
            raise _deadlock()

    def broken() -> None:
        raise RuntimeError("boom")

    jobs.register("t.broken2", broken, on_give_up=on_give_up)
    register("t.broken2", broken)
    job_id = jobs.schedule("t.broken2", run_after=clock.now)
    assert Scheduler(clock).run_once() == 1
    assert len(calls) == 3
    assert _job_row(job_id) is None


def test_failing_give_up_handler_keeps_the_job_with_max_backoff(clock, register, set_conf) -> None:
    set_conf("max_attempts", 1)

    def on_give_up(give_up: jobs.GiveUp) -> None:
        jobs.schedule("t.half_done", run_after=clock.now)  # rolled back with the failure
        raise ValueError("handler bug")

    def broken() -> None:
        raise RuntimeError("boom")

    jobs.register("t.broken3", broken, on_give_up=on_give_up)
    register("t.broken3", broken)
    job_id = jobs.schedule("t.broken3", run_after=clock.now)
    assert Scheduler(clock, max_retry_delay=60.0).run_once() == 1
    row = _job_row(job_id)
    assert row is not None and row.captured_at is None
    assert row.run_after == clock.now + datetime.timedelta(seconds=60)
    assert db_api.count_scheduled_jobs("t.half_done") == 0


def test_claimed_job_whose_release_failed_is_taken_over_later(
    clock, register, set_conf, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_conf("captured_job_timeout", 30)
    outcomes = [RuntimeError("flaky"), None]
    runs: list[int] = []

    def flaky() -> None:
        runs.append(1)
        error = outcomes.pop(0)
        if error:
            raise error

    register("t.flaky_release", flaky)
    job_id = jobs.schedule("t.flaky_release", run_after=clock.now)
    real_release = db_api.release_scheduled_job

    def release_down(*args: Any, **kwargs: Any) -> bool:
        raise _deadlock()  # the database stays down longer than the retries

    monkeypatch.setattr(db_api, "release_scheduled_job", release_down)
    sched = Scheduler(clock, retry_delay=1.0)
    assert sched.run_once() == 1  # the failure is logged, not raised
    monkeypatch.setattr(db_api, "release_scheduled_job", real_release)
    assert _job_row(job_id).captured_at is not None  # still our stale claim
    clock.advance(29)
    assert sched.run_once() == 0
    clock.advance(2)
    assert sched.run_once() == 1
    assert len(runs) == 2 and _job_row(job_id) is None
