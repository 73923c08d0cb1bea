"""Named queries of scheduled jobs (persistent delayed calls).

Many engines poll the same table. A job is run by whoever wins
``claim_scheduled_job``: an atomic UPDATE of ``captured_at``, so exactly one
claim succeeds per due job. The winner's later ``delete``/``release`` is
guarded by the claim time it wrote, so a scheduler whose claim was taken
over (it looked dead) cannot undo the new owner's work.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from mistral.db import models
from mistral.db.queries import common
from mistral.db.session import transaction
from mistral.db.types import utcnow

__all__ = [
    "ATTEMPTS_KEY",
    "TRANSIENT_FAILURES_KEY",
    "claim_scheduled_job",
    "count_scheduled_jobs",
    "create_scheduled_job",
    "delete_scheduled_job",
    "delete_scheduled_jobs",
    "find_scheduled_jobs_by_keys",
    "list_due_jobs",
    "load_scheduled_job",
    "load_scheduled_job_by_key",
    "release_scheduled_job",
]

Job = models.ScheduledJob

#: Reserved key inside ``func_args`` counting failed runs.
#: NOTE: the schema has no attempts column; the scheduler strips this key
#: before calling the job function.
ATTEMPTS_KEY = "__scheduler_attempts__"
#: Reserved key inside ``func_args`` counting runs in a row that failed on a
#: transient database error: they grow the backoff but never give the job up.
TRANSIENT_FAILURES_KEY = "__scheduler_transient_failures__"


def _claimable(now: datetime.datetime, capture_timeout_s: float) -> Any:
    """Not captured, or captured so long ago that its scheduler is presumed dead."""
    stale = now - datetime.timedelta(seconds=capture_timeout_s)
    return sa.or_(Job.captured_at.is_(None), Job.captured_at < stale)


def _owned(id: str, claimed_at: datetime.datetime | None) -> list[Any]:
    conditions = [Job.id == id]
    if claimed_at is not None:
        conditions.append(Job.captured_at == claimed_at)
    return conditions


def create_scheduled_job(values: Mapping[str, Any]) -> models.ScheduledJob:
    return common.create(Job, values, values.get("key") or values.get("id", ""))


def load_scheduled_job(id: str) -> models.ScheduledJob | None:
    return common.first(Job, Job.id == id)


def load_scheduled_job_by_key(key: str) -> models.ScheduledJob | None:
    """The job holding ``key`` (e.g. ``delay:<task_ex_id>``), if any: what a task waits for."""
    return common.first(Job, Job.key == key)


def find_scheduled_jobs_by_keys(keys: Sequence[str]) -> list[models.ScheduledJob]:
    """The jobs holding any of ``keys``: what the delayed tasks of an execution wait for, in one query."""
    if not keys:
        return []
    with transaction(read_only=True) as session:
        return list(session.scalars(sa.select(Job).where(Job.key.in_(list(keys)))))


def list_due_jobs(now: datetime.datetime, limit: int, capture_timeout_s: float) -> list[models.ScheduledJob]:
    stmt = (
        sa.select(Job)
        .where(Job.run_after <= now, _claimable(now, capture_timeout_s))
        .order_by(Job.run_after, Job.id)
        .limit(limit)
    )
    with transaction(read_only=True) as session:
        return list(session.scalars(stmt))


def claim_scheduled_job(id: str, now: datetime.datetime, capture_timeout_s: float) -> bool:
    """Take the job for running; True for exactly one of many concurrent callers.

    NOTE: ``run_after <= now`` is checked again because the job may have been
    released to a later time since it was listed.
    """
    stmt = (
        sa.update(Job)
        .where(Job.id == id, Job.run_after <= now, _claimable(now, capture_timeout_s))
        .values(captured_at=now, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    with transaction() as session:
        return common.affected_rows(session, stmt) == 1


def delete_scheduled_job(id: str, *, claimed_at: datetime.datetime | None = None) -> bool:
    """Delete one job; with ``claimed_at``, only while that claim still holds."""
    stmt = sa.delete(Job).where(*_owned(id, claimed_at)).execution_options(synchronize_session=False)
    with transaction() as session:
        return common.affected_rows(session, stmt) == 1


def delete_scheduled_jobs(*, key: str) -> int:
    stmt = sa.delete(Job).where(Job.key == key).execution_options(synchronize_session=False)
    with transaction() as session:
        return common.affected_rows(session, stmt)


def release_scheduled_job(
    id: str,
    run_after: datetime.datetime,
    attempts: int | None = None,
    *,
    claimed_at: datetime.datetime | None = None,
    transient_failures: int | None = None,
) -> bool:
    """Unclaim a job after a failed run so it runs again at ``run_after``, recording its failure counts."""
    values: dict[str, Any] = {"run_after": run_after, "captured_at": None, "updated_at": utcnow()}
    counts = {ATTEMPTS_KEY: attempts, TRANSIENT_FAILURES_KEY: transient_failures}
    counts = {k: v for k, v in counts.items() if v is not None}
    with transaction() as session:
        if counts:
            args = session.scalar(sa.select(Job.func_args).where(Job.id == id))
            values["func_args"] = {**(args or {}), **counts}
        # NOTE: the claim guard makes the read-then-write above safe: anyone
        # else changing this row must have claimed it, which moves captured_at.
        stmt = sa.update(Job).where(*_owned(id, claimed_at)).values(**values)
        return common.affected_rows(session, stmt.execution_options(synchronize_session=False)) == 1


def count_scheduled_jobs(func_name: str | None = None) -> int:
    stmt = sa.select(sa.func.count(Job.id))
    if func_name is not None:
        stmt = stmt.where(Job.func_name == func_name)
    with transaction() as session:
        return session.scalar(stmt) or 0
