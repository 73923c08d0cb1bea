"""Finding lost work (DESIGN rules 2 and 4): unsent actions, silent executors, unheard sub-workflows.

One scheduled job, rescheduled by itself, so only one engine runs each check.
"""

from __future__ import annotations

import datetime
import logging

from mistral import config
from mistral.db import api as db_api
from mistral.db.types import utcnow
from mistral.engine import outbox
from mistral.engine.engine import get as get_engine
from mistral.engine.engine import unit_of_work
from mistral.scheduler import jobs

LOG = logging.getLogger(__name__)

JOB = "engine.recover"
INTERVAL = 5.0


def ensure_scheduled() -> None:
    """Called at engine start: make sure the recovery job exists (its key keeps it single)."""
    with unit_of_work():
        if not db_api.count_scheduled_jobs(JOB):
            jobs.schedule(JOB, delay=INTERVAL, key=JOB)


@jobs.job(JOB)
def recover() -> None:
    try:
        resend_unsent_actions()
        fail_silent_actions()
        redeliver_subworkflow_results()
    finally:
        jobs.schedule(JOB, delay=INTERVAL, key=JOB)


def resend_unsent_actions() -> None:
    """Actions committed but never taken by an executor (lost between commit and send)."""
    delay = config.CONF.engine.execution_integrity_check_delay
    if delay <= 0:
        return
    before = utcnow() - datetime.timedelta(seconds=delay)
    with unit_of_work():
        for action_ex in db_api.find_unaccepted_actions(before, limit=200):
            if not action_ex.task_execution_id:
                continue
            runtime = dict(action_ex.runtime_context or {})
            runtime["resent"] = runtime.get("resent", 0) + 1
            action_ex.runtime_context = runtime
            action_ex.created_at = utcnow()
            LOG.warning("Action execution %s was never taken by an executor; sending it again", action_ex.id)
            outbox.current().actions.append((None, _request(action_ex)))


def _request(action_ex: db_api.models.ActionExecution) -> dict:
    runtime = action_ex.runtime_context or {}
    return {
        "action_ex_id": action_ex.id,
        "action_name": runtime.get("system_name", action_ex.name),
        "input": action_ex.input or {},
        "safe_rerun": False,
        "timeout": None,
        "context": {"action_execution_id": action_ex.id, "task_execution_id": action_ex.task_execution_id},
    }


def fail_silent_actions() -> None:
    """Running actions whose executor stopped sending heartbeats fail (rule 4)."""
    conf = config.CONF.action_heartbeat
    if not conf.max_missed_heartbeats or not conf.check_interval:
        return
    limit = utcnow() - datetime.timedelta(seconds=conf.max_missed_heartbeats * conf.check_interval)
    silent = db_api.find_silent_actions(limit, limit=conf.batch_size * 10)
    if silent:
        LOG.warning("Failing %d action executions whose executor went silent", len(silent))
        message = "Heartbeat lost: the executor running this action stopped responding"
        get_engine().on_action_results([{"action_ex_id": a.id, "error": message} for a in silent])


def redeliver_subworkflow_results() -> None:
    """Finished sub-workflows whose parent task never heard of it."""
    ids = db_api.find_unreported_subworkflows(limit=200)
    if ids:
        get_engine().on_subworkflows_finished(ids)
