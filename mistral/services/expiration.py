"""The expiration policy: delete old finished root executions, with their whole trees.

``[execution_expiration_policy]``: every ``evaluation_interval`` minutes a
scheduled job (one for all engines, by its key) deletes finished root
executions last changed more than ``older_than`` minutes ago, then the oldest
beyond the newest ``max_finished_executions``, across all projects. At most
``batch_size`` go per run (one transaction); a full batch runs the job again
at once. States in ``ignored_states`` are kept.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable

from mistral import config, context
from mistral.db import api as db_api
from mistral.db.types import utcnow
from mistral.scheduler import jobs
from mistral.workflow import states

LOG = logging.getLogger(__name__)

#: The end states of a workflow execution (SKIPPED is a task's state only).
FINISHED = frozenset({states.SUCCESS, states.ERROR, states.CANCELLED})
JOB = "expiration.run"
#: Naive UTC now; replaced in tests.
clock: Callable[[], datetime.datetime] = utcnow


def is_enabled() -> bool:
    conf = config.CONF.execution_expiration_policy
    return bool(conf.evaluation_interval) and bool(conf.older_than or conf.max_finished_executions)


def expiring_states() -> list[str]:
    ignored = {s.upper() for s in config.CONF.execution_expiration_policy.ignored_states}
    return sorted(FINISHED - ignored)


@db_api.retry_on_transient
def ensure_scheduled() -> None:
    """Called at engine start: make sure the expiration job exists when the policy is on."""
    if not is_enabled():
        return
    with context.using(context.Context(is_internal=True)), db_api.transaction():
        if not db_api.count_scheduled_jobs(JOB):
            jobs.schedule(JOB, run_after=clock() + _interval(), key=JOB)


def _interval() -> datetime.timedelta:
    return datetime.timedelta(minutes=config.CONF.execution_expiration_policy.evaluation_interval or 0)


@jobs.job(JOB)
def run() -> None:
    if not is_enabled():
        LOG.info("The execution expiration policy is off; its job stops")
        return
    now = clock()
    # NOTE: the next run is written first, so overlapping runs (a taken-over
    # job) queue on the job's key before they lock any execution.
    jobs.schedule(JOB, run_after=now + _interval(), key=JOB)
    _, full = delete_expired(now)
    if full:
        jobs.schedule(JOB, run_after=now, key=JOB)  # more may be waiting


def delete_expired(now: datetime.datetime | None = None) -> tuple[int, bool]:
    """Delete one batch; return how many went and whether the batch was full (more may wait)."""
    conf = config.CONF.execution_expiration_policy
    now = now or clock()
    batch = conf.batch_size or None
    finished = expiring_states()
    if not finished:
        return 0, False
    with context.using(context.Context(is_internal=True)), db_api.transaction():
        ids: list[str] = []
        if conf.older_than:
            before = now - datetime.timedelta(minutes=conf.older_than)
            ids += db_api.find_expired_root_executions(finished, before, batch)
            _delete(ids)
        room = None if batch is None else batch - len(ids)
        if conf.max_finished_executions and room != 0:
            excess = db_api.count_finished_root_executions(finished) - conf.max_finished_executions
            if excess > 0:
                oldest = db_api.find_oldest_finished_root_executions(finished, min(excess, room or excess))
                _delete(oldest)
                ids += oldest
    if ids:
        LOG.info("Expiration policy deleted %d finished executions", len(ids))
    return len(ids), batch is not None and len(ids) >= batch


def _delete(wf_ex_ids: list[str]) -> None:
    for wf_ex_id in wf_ex_ids:
        db_api.delete_workflow_execution(wf_ex_id)
