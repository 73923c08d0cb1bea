"""The claim protocol of scheduled jobs at the query level."""

from __future__ import annotations

import datetime

import pytest

from mistral.db import api as db_api
from mistral.db.types import utcnow

pytestmark = pytest.mark.usefixtures("db")

T0 = datetime.datetime(2030, 1, 1, 12, 0, 0)


def _s(seconds: float) -> datetime.timedelta:
    return datetime.timedelta(seconds=seconds)


def _job(run_after: datetime.datetime = T0, **extra) -> str:
    values = {"func_name": "t.x", "func_args": {}, "run_after": run_after, "context": {}, **extra}
    return db_api.create_scheduled_job(values).id


def test_list_due_jobs_skips_future_and_freshly_claimed_jobs() -> None:
    due = _job(T0 - _s(1))
    _job(T0 + _s(100))
    claimed = _job(T0 - _s(2))
    assert db_api.claim_scheduled_job(claimed, T0 - _s(1), 30)
    assert [j.id for j in db_api.list_due_jobs(T0, 10, 30)] == [due]
    # Once the claim is older than the timeout it is listed again, oldest run_after first.
    assert [j.id for j in db_api.list_due_jobs(T0 + _s(30), 10, 30)] == [claimed, due]


def test_only_one_of_two_schedulers_that_listed_a_job_claims_it() -> None:
    job_id = _job()
    seen_by_a = db_api.list_due_jobs(T0, 10, 30)
    seen_by_b = db_api.list_due_jobs(T0, 10, 30)
    assert [j.id for j in seen_by_a] == [j.id for j in seen_by_b] == [job_id]
    assert db_api.claim_scheduled_job(job_id, T0, 30) is True
    assert db_api.claim_scheduled_job(job_id, T0, 30) is False
    assert db_api.claim_scheduled_job(job_id, T0 + _s(29), 30) is False
    assert db_api.claim_scheduled_job(job_id, T0 + _s(31), 30) is True


def test_claim_rechecks_run_after() -> None:
    job_id = _job()
    assert db_api.claim_scheduled_job(job_id, T0, 30)
    assert db_api.release_scheduled_job(job_id, T0 + _s(60), 1, claimed_at=T0)
    assert not db_api.claim_scheduled_job(job_id, T0 + _s(1), 30)  # released to later: not due yet
    assert db_api.claim_scheduled_job(job_id, T0 + _s(60), 30)


def test_release_unclaims_and_counts_attempts_in_func_args() -> None:
    job_id = _job(func_args={"a": 1})
    assert db_api.claim_scheduled_job(job_id, T0, 30)
    assert not db_api.release_scheduled_job(job_id, T0, 1, claimed_at=T0 - _s(1))  # not our claim
    assert db_api.release_scheduled_job(job_id, T0 + _s(2), 1, claimed_at=T0)
    job = db_api.load_scheduled_job(job_id)
    assert job.captured_at is None and job.run_after == T0 + _s(2)
    assert job.func_args == {"a": 1, db_api.ATTEMPTS_KEY: 1}


def test_delete_guarded_by_claim_and_delete_by_key() -> None:
    job_id = _job(key="k1")
    other = _job(key="k2")
    assert db_api.claim_scheduled_job(job_id, T0, 30)
    assert not db_api.delete_scheduled_job(job_id, claimed_at=T0 + _s(1))
    assert db_api.delete_scheduled_job(job_id, claimed_at=T0)
    assert db_api.delete_scheduled_jobs(key="k2") == 1
    assert db_api.load_scheduled_job(other) is None
    assert db_api.count_scheduled_jobs() == 0


def test_claim_times_round_trip_exactly() -> None:
    # The claim guard compares captured_at for equality: microseconds must survive the database.
    now = utcnow().replace(microsecond=123456)
    job_id = _job(now)
    assert db_api.claim_scheduled_job(job_id, now, 30)
    assert db_api.load_scheduled_job(job_id).captured_at == now
    assert db_api.delete_scheduled_job(job_id, claimed_at=now)


def test_jobs_are_found_by_their_keys_in_one_query() -> None:
    first, second = _job(key="delay:t1"), _job(key="delay:t2")
    _job(key="timeout:t1")
    found = db_api.find_scheduled_jobs_by_keys(["delay:t1", "delay:t2", "delay:gone"])
    assert sorted(j.id for j in found) == sorted([first, second])
    assert db_api.find_scheduled_jobs_by_keys([]) == []
