"""Finding lost work (architecture rules 2, 4, 7): untaken actions, silent executors, unheard sub-workflows.

One scheduled job, rescheduled by itself, so only one engine runs each check.

- An action no executor has taken was lost on its way (a crash between commit
  and send, a broker that dropped it, no executor listening): it is sent again
  every ``[engine] execution_integrity_check_delay`` seconds, which is safe
  because an executor runs only what it has taken, and an action is taken once.
  If nobody takes it within ``[action_heartbeat] first_heartbeat_timeout`` of its
  offer (``offered_at``: its creation, or its executor giving it back), it fails.
- An execution whose first step never ran (a crash between its creation and
  the message that starts it) is started, once: the step runs under the
  execution's lock and only while ``first_step_done`` is False.
- An action taken whose executor stopped sending heartbeats may or may not
  have run: it is sent again when its task says ``safe-rerun: true``, and
  fails otherwise.
"""

from __future__ import annotations

import datetime
import logging

from mistral import config
from mistral.db import api as db_api
from mistral.db import models
from mistral.db.types import utcnow
from mistral.engine import action_requests, work_queue
from mistral.engine.engine import get as get_engine
from mistral.engine.unit_of_work import unit_of_work
from mistral.scheduler import jobs

LOG = logging.getLogger(__name__)

JOB = "engine.recover"
#: Actions looked at per check and kind; the oldest first, so none starves.
BATCH = 200
#: When this process's engine started (None where no engine runs here, e.g. a test calling in).
_engine_started_at: datetime.datetime | None = None


def ensure_scheduled() -> None:
    """Called at engine start: make sure the recovery job exists (its key keeps it single)."""
    with unit_of_work():
        if not db_api.count_scheduled_jobs(JOB):
            jobs.schedule(JOB, delay=config.CONF.engine.recovery_interval, key=JOB)


@jobs.job(JOB)
def recover() -> None:
    try:
        resend_untaken_actions()
        start_unstarted_executions()
        handle_silent_actions()
        redeliver_subworkflow_results()
        expire_work_leases()
    finally:
        jobs.schedule(JOB, delay=config.CONF.engine.recovery_interval, key=JOB)


def resend_left_behind() -> None:
    """At engine start: send again at once what nobody took before (a crash, a stop).

    NOTE: an action another engine sent a moment ago may be sent twice; only one
    copy can be taken, so that costs a message, not a second run.
    """
    try:
        start_unstarted_executions(created_before=utcnow())
        resend_untaken_actions(sent_before=utcnow())
    except Exception:  # noqa: BLE001 - the recovery job tries again within [engine] recovery_interval
        LOG.exception("Could not send again the actions left untaken before this engine started")


def resend_untaken_actions(
    now: datetime.datetime | None = None, *, sent_before: datetime.datetime | None = None
) -> None:
    """Send again the actions nobody took; fail those nobody took for too long.

    ``sent_before`` defaults to [engine] execution_integrity_check_delay seconds before ``now``.
    """
    delay = config.CONF.engine.execution_integrity_check_delay
    if delay <= 0:
        return
    now = now or utcnow()
    sent_before = sent_before or now - datetime.timedelta(seconds=delay)
    give_up = config.CONF.action_heartbeat.first_heartbeat_timeout
    expired: list[models.ActionExecution] = []
    with unit_of_work():
        for action_ex in db_api.find_untaken_actions(sent_before, limit=BATCH):
            # NOTE: counted from its offer (created, or given back by a silent or stopping executor),
            # not from its creation: an action re-run after hours gets its full time to be taken.
            offered_at = action_ex.offered_at or action_ex.created_at
            if give_up and offered_at < now - datetime.timedelta(seconds=give_up):
                expired.append(action_ex)
            elif db_api.mark_action_resent(action_ex.id, sent_before=sent_before, now=now):
                LOG.warning(
                    "Action execution %s was not taken by any executor; sending it again", action_ex.id
                )
                action_requests.queue_again(action_ex)
    if expired:
        _fail(
            expired,
            f"No executor took this action within {give_up} s ([action_heartbeat] first_heartbeat_timeout)",
        )


def start_unstarted_executions(
    now: datetime.datetime | None = None, *, created_before: datetime.datetime | None = None
) -> None:
    """Run the first step of executions whose start message was lost (architecture rule 2).

    ``created_before`` defaults to [engine] execution_integrity_check_delay seconds before ``now``,
    so that an execution whose message is on its way is left to it.
    """
    delay = config.CONF.engine.execution_integrity_check_delay
    if created_before is None:
        if delay <= 0:
            return
        created_before = (now or utcnow()) - datetime.timedelta(seconds=delay)
    ids = db_api.find_executions_awaiting_first_step(created_before, limit=BATCH)
    if ids:
        LOG.warning("Starting %d executions whose start message was lost: %s", len(ids), ids)
        get_engine().run_first_steps(ids)


def engine_started() -> None:
    """Called when this process's engine starts: see ``handle_silent_actions``."""
    global _engine_started_at
    _engine_started_at = utcnow()


def handle_silent_actions(now: datetime.datetime | None = None) -> None:
    """Actions whose executor stopped sending heartbeats: re-run if safe, else fail (architecture rule 4).

    NOTE: an engine that has just started judges nothing for one silence period: if every
    engine was down, the executors' heartbeats of that time wait in the broker, and an
    action still running would look silent (and, under a retry policy, run twice).
    """
    conf = config.CONF.action_heartbeat
    if not conf.max_missed_heartbeats or not conf.check_interval:
        return
    now = now or utcnow()
    period = datetime.timedelta(seconds=conf.max_missed_heartbeats * conf.check_interval)
    if _engine_started_at is not None and now - _engine_started_at < period:
        return
    silent_since = now - period
    unsafe: list[models.ActionExecution] = []
    with unit_of_work():
        for action_ex in db_api.find_silent_actions(silent_since, limit=conf.batch_size * 10):
            if not (action_ex.runtime_context or {}).get("safe_rerun"):
                unsafe.append(action_ex)
            elif db_api.release_silent_action(action_ex.id, heartbeat_before=silent_since, now=now):
                LOG.warning(
                    "Executor %s went silent running action %s; it is safe to re-run, so it is sent again",
                    action_ex.executor_host, action_ex.id,
                )  # fmt: skip
                action_requests.queue(action_requests.of(action_ex, redelivered=True))
    for action_ex in unsafe:
        _fail(
            [action_ex],
            f"Heartbeat lost: executor {action_ex.executor_host} took this action and stopped responding; "
            "it is not run again because its task is not marked 'safe-rerun: true'",
        )


def _fail(actions: list[models.ActionExecution], message: str) -> None:
    LOG.warning("Failing %d action executions: %s", len(actions), message)
    get_engine().on_action_results([{"action_ex_id": a.id, "error": message} for a in actions])


@db_api.retry_on_transient
def expire_work_leases(now: datetime.datetime | None = None) -> None:
    """External workers' leases that ran out: the item is queued again, or its action fails (rule 4).

    NOTE: an item is marked failed in the transaction that fails its action, so neither happens alone.
    """
    with unit_of_work():
        failures = work_queue.expire_leases(now or utcnow())
        if failures:
            LOG.warning("Failing %d actions whose work item's lease expired too often", len(failures))
            get_engine().on_action_results(failures)


def redeliver_subworkflow_results() -> None:
    """Finished sub-workflows whose parent task never heard of it."""
    ids = db_api.find_unreported_subworkflows(limit=BATCH)
    if ids:
        get_engine().on_subworkflows_finished(ids)
