"""Scheduling, replacing and cancelling jobs, and the function registry."""

from __future__ import annotations

import datetime

import pytest

from mistral import context
from mistral.db import api as db_api
from mistral.db.types import utcnow
from mistral.scheduler import jobs

pytestmark = pytest.mark.usefixtures("db")

FAR_FUTURE = datetime.datetime(2999, 1, 1)


def _due() -> list:
    return db_api.list_due_jobs(FAR_FUTURE, 100, 30)


def test_schedule_stores_args_time_and_context() -> None:
    ctx = context.Context(project_id="p1", user_id="u1", roles=("admin",))
    before = utcnow()
    with context.using(ctx):
        job_id = jobs.schedule("t.noop", delay=10, func_args={"x": 1})
    job = db_api.load_scheduled_job(job_id)
    assert job is not None
    assert job.func_name == "t.noop"
    assert job.func_args == {"x": 1}
    assert job.captured_at is None and job.key is None
    assert (
        before + datetime.timedelta(seconds=10) <= job.run_after <= utcnow() + datetime.timedelta(seconds=10)
    )
    assert context.Context.from_dict(job.context) == ctx


def test_explicit_run_after_wins_over_delay() -> None:
    at = datetime.datetime(2030, 5, 6, 7, 8, 9)
    job_id = jobs.schedule("t.noop", delay=99, run_after=at)
    assert db_api.load_scheduled_job(job_id).run_after == at


def test_job_scheduled_in_rolled_back_transaction_does_not_exist() -> None:
    with pytest.raises(RuntimeError), db_api.transaction():
        jobs.schedule("t.noop", key="k")
        raise RuntimeError("the state that needed the job failed")
    assert db_api.count_scheduled_jobs() == 0


def test_job_scheduled_in_committed_transaction_exists() -> None:
    with db_api.transaction():
        jobs.schedule("t.noop")
        jobs.schedule("t.other")
    assert db_api.count_scheduled_jobs() == 2
    assert db_api.count_scheduled_jobs("t.other") == 1


def test_same_key_replaces_the_job() -> None:
    first = jobs.schedule("t.noop", key="wait:task1", func_args={"n": 1})
    with db_api.transaction():
        second = jobs.schedule("t.noop", key="wait:task1", func_args={"n": 2})
    assert first != second
    assert [(j.id, j.func_args) for j in _due()] == [(second, {"n": 2})]


def test_replacement_rolled_back_keeps_the_old_job() -> None:
    first = jobs.schedule("t.noop", key="k", func_args={"n": 1})
    with pytest.raises(RuntimeError), db_api.transaction():
        jobs.schedule("t.noop", key="k", func_args={"n": 2})
        raise RuntimeError
    assert [j.id for j in _due()] == [first]


def test_cancel_removes_only_that_key() -> None:
    jobs.schedule("t.noop", key="a")
    kept = jobs.schedule("t.noop", key="b")
    jobs.schedule("t.noop")
    jobs.cancel("a")
    jobs.cancel("missing")  # cancelling nothing is fine
    ids = [j.id for j in _due()]
    assert len(ids) == 2 and kept in ids


def test_registry() -> None:
    @jobs.job("t.decorated")
    def decorated() -> str:
        return "ok"

    try:
        assert jobs.get("t.decorated") is decorated
        jobs.register("t.decorated", decorated)  # the same function again is harmless
        with pytest.raises(ValueError, match="already registered"):
            jobs.register("t.decorated", lambda: None)
    finally:
        jobs.unregister("t.decorated")
    assert jobs.get("t.decorated") is None


def test_work_done_through_a_trust_keeps_no_token_in_its_jobs() -> None:
    """The engine makes a new trust-scoped token when the job's actions leave; none is stored."""
    through_trust = context.Context(
        project_id="p", user_id="u", auth_token="trust-token", expires_at="2030-01-01T00:00:00+00:00",
        trust_id="t", is_trust_scoped=True,
    )  # fmt: skip
    with context.using(through_trust):
        job_id = jobs.schedule("t.noop", delay=10)
    job = db_api.load_scheduled_job(job_id)
    assert job is not None
    stored = context.Context.from_dict(job.context)
    assert (stored.auth_token, stored.expires_at) == (None, None)
    assert (stored.trust_id, stored.user_id, stored.is_trust_scoped) == ("t", "u", True)


def test_a_job_is_found_by_its_key() -> None:
    job_id = jobs.schedule("t.noop", delay=10, key="delay:task-1")
    found = db_api.load_scheduled_job_by_key("delay:task-1")
    assert found is not None and found.id == job_id
    assert db_api.load_scheduled_job_by_key("delay:task-2") is None
