"""Scheduled jobs of task policies: delays that end, retries, wait-after, timeouts."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Any

from mistral.db import api as db_api
from mistral.db import models
from mistral.engine import cascades, policies, task_records, tasks, withdrawn, workflows
from mistral.engine.run import WfRun, lock_task
from mistral.engine.unit_of_work import unit_of_work
from mistral.scheduler import jobs
from mistral.utils import log_ids
from mistral.workflow import states

LOG = logging.getLogger(__name__)


def _with_task(
    task_ex_id: str,
    expected: Collection[str],
    step: Callable[[WfRun, models.TaskExecution], Any],
    *,
    postpone_as: str | None,
) -> None:
    """Run ``step`` on the task if it is still in an ``expected`` state; while its workflow is paused
    a delayed task's ``postpone_as`` job looks again later (None: the step runs even then)."""
    with unit_of_work():
        task_ex = db_api.load_task_execution(task_ex_id)
        if task_ex is None:
            return
        run, task_ex = lock_task(task_ex_id)
        log_ids.set_task(task_ex_id)  # NOTE: undone with the unit of work
        if states.is_completed(run.wf_ex.state) and task_ex.state in states.ACTIVE:
            task_records.set_state(task_ex, states.CANCELLED, f"Its workflow ended {run.wf_ex.state} first")
            return
        if task_ex.state not in expected:
            LOG.info("Timer for task %s ignored: it is %s", task_ex_id, task_ex.state)
            return
        if postpone_as and run.wf_ex.state == states.PAUSED and task_ex.state == states.RUNNING_DELAYED:
            # NOTE: the same job again, so the end of a wait-after still applies its held outcome.
            policies.postpone(postpone_as, task_ex_id)
            return
        step(run, task_ex)
        workflows.proceed(run)


def _fail_task(what: str) -> jobs.GiveUpHandler:
    """A give-up handler: the task the job stood for fails with the reason, and its workflow goes on."""

    def give_up(failure: jobs.GiveUp) -> None:
        message = f"Scheduled {what} could not run after {failure.attempts} attempts: {failure.error}"

        def step(run: WfRun, task_ex: models.TaskExecution) -> None:
            tasks.fail(run, task_ex, message)

        # NOTE: also while its workflow is paused: resume proceeds from finished tasks.
        _with_task(failure.args["task_ex_id"], states.ACTIVE, step, postpone_as=None)

    return give_up


def _run_delayed_task(task_ex_id: str, job: str) -> None:
    def step(run: WfRun, task_ex: models.TaskExecution) -> None:
        task_records.set_state(task_ex, states.RUNNING)
        tasks.execute(run, task_ex)

    _with_task(task_ex_id, (states.RUNNING_DELAYED,), step, postpone_as=job)


@jobs.job(policies.RESUME_DELAYED, on_give_up=_fail_task("resume of the delayed task"))
def resume_delayed_task(task_ex_id: str) -> None:
    """wait-before is over (or a paused workflow resumed): the task runs."""
    _run_delayed_task(task_ex_id, policies.RESUME_DELAYED)


@jobs.job(policies.RETRY, on_give_up=_fail_task("retry of the task"))
def retry_task(task_ex_id: str) -> None:
    """A retry's delay is over: the task runs again."""
    _run_delayed_task(task_ex_id, policies.RETRY)


@jobs.job(policies.FINISH_DELAYED, on_give_up=_fail_task("completion of the delayed task"))
def finish_delayed_task(task_ex_id: str) -> None:
    def step(run: WfRun, task_ex: models.TaskExecution) -> None:
        pending = task_records.runtime(task_ex).pending or task_records.PendingOutcome()
        tasks.finish(run, task_ex, pending.state, pending.result, pending.state_info)

    _with_task(task_ex_id, (states.RUNNING_DELAYED,), step, postpone_as=policies.FINISH_DELAYED)


@jobs.job(policies.TIMEOUT, on_give_up=_fail_task("timeout of the task"))
def task_timeout(task_ex_id: str) -> None:
    def step(run: WfRun, task_ex: models.TaskExecution) -> None:
        task_records.update_runtime(task_ex, timed_out=True)
        cancelled = []
        for action_ex in db_api.find_action_executions(task_ex.id, states=[states.RUNNING]):
            if db_api.update_action_execution_state(
                action_ex.id, expected=[states.RUNNING], new=states.CANCELLED
            ):
                cancelled.append((action_ex, states.CANCELLED))
        # NOTE: an item on a worker queue is withdrawn: no worker runs it for a task that gave up.
        withdrawn.withdraw(cancelled)
        for child in db_api.list_sub_executions_of_task(task_ex.id):
            if not states.is_completed(child.state):
                cascades.schedule("cancel", child.id, "Parent task timed out")
        seconds = policies.timeout_seconds(run, task_ex, run.task_spec(task_ex.name))
        if task_ex.state == states.RUNNING_DELAYED:
            task_records.set_state(task_ex, states.RUNNING)
        # NOTE: Mistral 23's very words (checked black-box); clients and tests match on them.
        tasks.complete(run, task_ex, states.ERROR, None, f"Task timed out [timeout(s)={seconds:g}].")

    _with_task(task_ex_id, (states.RUNNING, states.RUNNING_DELAYED), step, postpone_as=policies.TIMEOUT)
