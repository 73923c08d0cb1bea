"""Running due jobs: timing, retries, context, and exactly-once with many schedulers."""

from __future__ import annotations

import datetime
import logging
import threading
import time

import pytest
from prometheus_client import REGISTRY

from mistral import context
from mistral.db import api as db_api
from mistral.db import session as db_session
from mistral.engine import evaluation
from mistral.expressions import ExpressionFunctions
from mistral.scheduler import jobs
from mistral.scheduler.scheduler import Scheduler

pytestmark = pytest.mark.usefixtures("db")


def _s(seconds: float) -> datetime.timedelta:
    return datetime.timedelta(seconds=seconds)


def _recorder(calls):
    def record(**kwargs) -> None:
        calls.add({"ctx": context.current(), **kwargs})

    return record


def test_job_runs_only_when_due_then_is_gone(clock, register, calls) -> None:
    register("t.record", _recorder(calls))
    jobs.schedule("t.record", run_after=clock.now.replace(microsecond=0) + _s(10), func_args={"n": 1})
    sched = Scheduler(clock)
    assert sched.run_once() == 0
    clock.advance(9)
    assert sched.run_once() == 0 and calls.items == []
    clock.advance(2)
    assert sched.run_once() == 1
    assert [c["n"] for c in calls.items] == [1]
    assert db_api.count_scheduled_jobs() == 0
    assert sched.run_once() == 0


def test_due_jobs_run_in_run_after_order(clock, register) -> None:
    order: list[int] = []
    register("t.order", lambda n: order.append(n))
    for n, delay in [(2, 5), (0, 1), (1, 3)]:
        jobs.schedule("t.order", run_after=clock.now - _s(10 - delay), func_args={"n": n})
    assert Scheduler(clock).run_once() == 3
    assert order == [0, 1, 2]


def test_stored_context_is_restored_when_job_runs(clock, register) -> None:
    seen: list[context.Context] = []
    register("t.ctx", lambda: seen.append(context.current()))
    ctx = context.Context(project_id="proj", user_id="alice", roles=("member",), auth_token="tok")
    with context.using(ctx):
        jobs.schedule("t.ctx", run_after=clock.now)
    Scheduler(clock).run_once()
    assert seen == [ctx]
    assert context.current() == context.Context()  # the scheduler's own context is untouched


def test_job_may_schedule_further_jobs_even_under_its_own_key(clock, register) -> None:
    runs: list[int] = []

    def tick(n: int) -> None:
        runs.append(n)
        if n < 3:
            jobs.schedule("t.tick", delay=0, run_after=clock.now, func_args={"n": n + 1}, key="tick")

    register("t.tick", tick)
    jobs.schedule("t.tick", run_after=clock.now, func_args={"n": 1}, key="tick")
    sched = Scheduler(clock)
    for _ in range(5):
        sched.run_once()
    assert runs == [1, 2, 3]
    assert db_api.count_scheduled_jobs() == 0


def test_failing_job_is_retried_with_backoff_then_dropped(clock, register, set_conf, caplog) -> None:
    set_conf("max_attempts", 3)
    attempts: list[dict] = []

    def fail(**kwargs) -> None:
        attempts.append(kwargs)
        # Its own writes roll back with it: this job must never appear.
        jobs.schedule("t.side_effect")
        raise RuntimeError("boom")

    register("t.fail", fail)
    jobs.schedule("t.fail", run_after=clock.now, func_args={"a": 1})
    sched = Scheduler(clock, retry_delay=1.0)
    with caplog.at_level(logging.ERROR, logger="mistral.scheduler.scheduler"):
        assert sched.run_once() == 1
        assert db_api.count_scheduled_jobs() == 1
        assert sched.run_once() == 0  # backing off
        clock.advance(1)
        assert sched.run_once() == 1
        clock.advance(1)
        assert sched.run_once() == 0  # second backoff is 2 s
        clock.advance(1)
        assert sched.run_once() == 1
    assert attempts == [{"a": 1}] * 3  # the attempt counter never reaches the function
    assert db_api.count_scheduled_jobs() == 0
    assert "boom" in caplog.text and "Traceback" in caplog.text
    assert any("after 3 failed attempts" in r.getMessage() for r in caplog.records)


def test_failing_job_that_then_succeeds_is_deleted(clock, register) -> None:
    outcomes = iter([RuntimeError("flaky"), None])

    def flaky() -> None:
        error = next(outcomes)
        if error:
            raise error

    register("t.flaky", flaky)
    jobs.schedule("t.flaky", run_after=clock.now)
    sched = Scheduler(clock, retry_delay=5)
    assert sched.run_once() == 1
    clock.advance(5)
    assert sched.run_once() == 1
    assert db_api.count_scheduled_jobs() == 0


def test_unknown_function_is_logged_and_dropped(clock, caplog) -> None:
    jobs.schedule("t.nobody_registered_this", run_after=clock.now)
    with caplog.at_level(logging.ERROR, logger="mistral.scheduler.scheduler"):
        assert Scheduler(clock).run_once() == 1
    assert "t.nobody_registered_this" in caplog.text
    assert db_api.count_scheduled_jobs() == 0


def test_batch_size_limits_one_look(clock, register, set_conf) -> None:
    set_conf("batch_size", 2)
    register("t.noop", lambda: None)
    for _ in range(3):
        jobs.schedule("t.noop", run_after=clock.now)
    sched = Scheduler(clock)
    assert sched.run_once() == 2
    assert sched.run_once() == 1


def test_scheduler_with_stale_list_does_not_run_a_job_again(clock, register, monkeypatch) -> None:
    runs: list[int] = []
    register("t.once", lambda: runs.append(1))
    jobs.schedule("t.once", run_after=clock.now)
    stale = db_api.list_due_jobs(clock.now, 10, 30)  # B looked before A ran the job
    assert Scheduler(clock).run_once() == 1
    monkeypatch.setattr(db_api, "list_due_jobs", lambda *a: stale)
    assert Scheduler(clock).run_once() == 0
    assert runs == [1]


def test_job_of_dead_scheduler_is_taken_over_after_capture_timeout(clock, register, set_conf) -> None:
    set_conf("captured_job_timeout", 30)
    runs: list[int] = []
    register("t.orphan", lambda: runs.append(1))
    job_id = jobs.schedule("t.orphan", run_after=clock.now)
    dead_claim = clock.now
    assert db_api.claim_scheduled_job(job_id, dead_claim, 30)  # then its scheduler dies

    survivor = Scheduler(clock)
    clock.advance(29)
    assert survivor.run_once() == 0
    clock.advance(2)
    assert survivor.run_once() == 1
    assert runs == [1]
    # The dead scheduler coming back cannot delete or release what is no longer its claim.
    assert not db_api.delete_scheduled_job(job_id, claimed_at=dead_claim)


def test_two_schedulers_in_threads_run_every_job_exactly_once(register, calls) -> None:
    register("t.count", _recorder(calls))
    with db_api.transaction():
        for n in range(60):
            jobs.schedule("t.count", delay=0, func_args={"n": n})
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    claimed: list[int] = []

    def work() -> None:
        sched = Scheduler()
        try:
            barrier.wait()
            deadline = time.monotonic() + 60
            while db_api.count_scheduled_jobs() and time.monotonic() < deadline:
                claimed.append(sched.run_once())
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(c["n"] for c in calls.items) == list(range(60))
    assert sum(claimed) == 60  # no job was claimed twice


def test_start_and_stop_run_jobs_in_the_background(register, set_conf) -> None:
    set_conf("fixed_delay", 0.01)
    ran = threading.Event()
    register("t.signal", lambda: ran.set())
    jobs.schedule("t.signal")
    sched = Scheduler()
    sched.start()
    try:
        assert ran.wait(10)
    finally:
        sched.stop(timeout=10)
    assert sched._thread is None
    assert db_api.count_scheduled_jobs() == 0


def test_a_job_with_a_slow_expression_evaluates_it_outside_then_runs_again(
    clock, register, override_conf
) -> None:
    """The job's transaction rolls back, the expression runs with none open, the job runs again and counts
    no failed attempt."""
    override_conf("yaql", "expression_time_limit_in_lock", 0.05)
    evaluation._MEMO.clear()
    seen, results = [], []

    def slow(name=None):
        in_transaction = db_session.current_session() is not None
        seen.append(in_transaction)
        time.sleep(0.15 if in_transaction else 0.3)
        return name

    def job(**_) -> None:
        functions = ExpressionFunctions(task=slow)
        results.append(evaluation.evaluate("<% task(x) %>", {}, functions, detach=lambda: (functions, None)))

    register("t.slow", job)
    jobs.schedule("t.slow", run_after=clock.now)
    assert Scheduler(clock).run_once() == 1
    assert seen == [True, False]
    assert results == ["x"]
    assert db_api.count_scheduled_jobs() == 0


def test_the_lag_from_due_to_claimed_is_measured_per_job(clock, register, calls) -> None:
    register("t.lagging", _recorder(calls))
    jobs.schedule("t.lagging", run_after=clock.now.replace(microsecond=0) + _s(10), func_args={"n": 1})
    labels = {"job": "t.lagging"}
    count = REGISTRY.get_sample_value("mistral_scheduler_lag_seconds_count", labels) or 0.0
    total = REGISTRY.get_sample_value("mistral_scheduler_lag_seconds_sum", labels) or 0.0
    clock.advance(12.5)
    assert Scheduler(clock).run_once() == 1
    assert REGISTRY.get_sample_value("mistral_scheduler_lag_seconds_count", labels) == count + 1
    lag = REGISTRY.get_sample_value("mistral_scheduler_lag_seconds_sum", labels) - total
    assert 2.5 <= lag < 3.5
