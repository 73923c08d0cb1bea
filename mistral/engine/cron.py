"""Firing cron triggers: a scheduled job, rescheduled by itself, that starts the due triggers' executions.

Exactly once per due time (architecture rule 5), however many engines run the job:
a firing is claimed by a compare-and-set of the trigger's next execution time
and the execution starts in the same transaction as the claim, so a crash
loses or repeats neither. The execution id is derived from (trigger, due
time), so even a firing replayed after a takeover finds its execution.
"""

from __future__ import annotations

import datetime
import logging

from sqlalchemy.exc import SQLAlchemyError

from mistral import config, context
from mistral.db import api as db_api
from mistral.db import models
from mistral.engine.engine import get as get_engine
from mistral.engine.unit_of_work import unit_of_work
from mistral.scheduler import jobs
from mistral.services import cron_triggers, trusts
from mistral.utils.redact import masked

LOG = logging.getLogger(__name__)

JOB = "cron.fire"
#: Triggers fired in one run (one transaction); a full batch runs the job again at once.
BATCH = 100


def ensure_scheduled() -> None:
    """Called at engine start: make sure the cron job exists (its key keeps it single)."""
    if not config.CONF.cron_trigger.enabled:
        return
    with unit_of_work():
        if not db_api.count_scheduled_jobs(JOB):
            jobs.schedule(JOB, run_after=cron_triggers.clock(), key=JOB)


@jobs.job(JOB)
def fire() -> None:
    if not config.CONF.cron_trigger.enabled:
        LOG.info("Cron triggers are disabled ([cron_trigger] enabled=false); the cron job stops")
        return
    now = cron_triggers.clock()
    interval = datetime.timedelta(seconds=config.CONF.cron_trigger.execution_interval)
    # NOTE: the next run is written before any trigger is claimed. Every cron
    # transaction then locks the job's key before trigger rows, so two runs
    # that overlap (a taken-over job) queue on the key instead of deadlocking.
    jobs.schedule(JOB, run_after=now + interval, key=JOB)
    if fire_due_triggers(now) >= BATCH:
        jobs.schedule(JOB, run_after=now, key=JOB)  # a full batch: more may be due


def fire_due_triggers(now: datetime.datetime | None = None, limit: int = BATCH) -> int:
    """Fire every trigger due at ``now`` (default: the clock); return how many were due.

    Runs in the caller's transaction (the scheduler's) or in one of its own.
    """
    now = now or cron_triggers.clock()
    with context.using(context.Context(is_internal=True)), db_api.transaction():
        due = db_api.list_due_cron_triggers(now, limit)
        for trigger in due:
            _fire(trigger, now)
    return len(due)


def _fire(trigger: models.CronTrigger, now: datetime.datetime) -> str | None:
    """Claim and start one firing; a firing that fails to start is skipped, not retried."""
    firing = cron_triggers.plan_firing(
        trigger.pattern, trigger.next_execution_time, trigger.remaining_executions, now
    )
    try:
        with db_api.trigger_savepoint():
            if not _claim(trigger, firing):
                LOG.debug("Cron trigger %s due at %s was fired by another engine", trigger.id, firing.due)
                return None
            return _start(trigger, firing)
    except SQLAlchemyError:
        # NOTE: the database failed (a deadlock, a lost connection), not the
        # workflow: the whole run rolls back and is retried, losing no firing.
        raise
    except Exception:
        LOG.exception("Cron trigger %s (%s) failed to start its workflow", trigger.id, trigger.name)
    # NOTE: the trigger still moves on; retrying a workflow that refuses its
    # input (or is gone) every second would only fill the log.
    with db_api.trigger_savepoint():
        _claim(trigger, firing)
    return None


def _claim(trigger: models.CronTrigger, firing: cron_triggers.Firing) -> bool:
    return db_api.claim_cron_trigger(trigger.id, firing.due, firing.next_time, firing.remaining)


def _start(trigger: models.CronTrigger, firing: cron_triggers.Firing) -> str:
    # NOTE: the workflow runs as the trigger's owner, through its trust when it has one: it
    # finds only what the owner can see, its execution belongs to the owner, and its actions get
    # a token of the owner made from the trust (the creator's own token is long gone).
    with context.using(trusts.owner_context(trigger.project_id, trigger.trust_id)):
        wf_def = db_api.get_workflow_definition(trigger.workflow_id or "", None)
        wf_ex_id = cron_triggers.execution_id(trigger.id, firing.due)
        params = dict(trigger.workflow_params or {})
        LOG.info(
            "Cron trigger %s (%s) due at %s starts execution %s%s",
            trigger.id, trigger.name, firing.due, wf_ex_id,
            f" for {firing.missed + 1} ticks" if firing.missed else "",
        )  # fmt: skip
        LOG.debug("Cron trigger %s params: %s", trigger.id, masked(params))
        started = get_engine().start_workflow(
            wf_def.id,
            wf_def.namespace or "",
            wf_ex_id,
            dict(trigger.workflow_input or {}),
            cron_triggers.execution_description(trigger, firing),
            params,
        )
    return str(started["id"])
