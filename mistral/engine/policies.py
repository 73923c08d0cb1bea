"""Task policies applied inside the unit of work: pause-before, wait-before, wait-after, retry, timeout,
fail-on.

``policy_decisions`` decides; this module does what a decision says: it writes the task's runtime
record and state, schedules the job that ends a delay, and asks the run to pause. Delays go through
the persistent scheduler, so they survive restarts and run once however many engines run.
"""

from __future__ import annotations

import datetime
import random
from typing import Any

from mistral.db import models
from mistral.db.types import utcnow
from mistral.engine import policy_decisions as decide
from mistral.engine import task_records
from mistral.engine.policy_decisions import Delay, Evaluate, Outcome, Pause, Retry
from mistral.engine.run import WfRun
from mistral.engine.task_records import runtime, update_runtime
from mistral.lang.specs import TaskSpec
from mistral.scheduler import jobs
from mistral.workflow import states

RESUME_DELAYED = decide.RESUME_DELAYED
RETRY = decide.RETRY
FINISH_DELAYED = decide.FINISH_DELAYED
TIMEOUT = decide.TIMEOUT


def _value(run: WfRun, spec: TaskSpec, keyword: str) -> Any:
    return decide.policy_value(spec, run.spec.task_defaults, keyword)


def _evaluator(run: WfRun, task_ex: models.TaskExecution) -> Evaluate:
    def evaluate(value: Any, *, result: Any = None) -> Any:
        return run.evaluate(value, task_ex, result=result)

    return evaluate


def job_key(job: str, task_ex_id: str) -> str:
    """The key of a task's timer job. NOTE: one key for all of a task's delays (a new delay replaces
    the job of the old one), another for its timeout, which runs alongside them."""
    return f"timeout:{task_ex_id}" if job == TIMEOUT else f"delay:{task_ex_id}"


def _schedule(job: str, task_ex_id: str, **when: Any) -> None:
    jobs.schedule(job, func_args={"task_ex_id": task_ex_id}, key=job_key(job, task_ex_id), **when)


def postpone(job: str, task_ex_id: str) -> None:
    """Run ``job`` again in a second: a paused workflow starts nothing until resumed."""
    _schedule(job, task_ex_id, delay=1)


def apply_pause(run: WfRun, task_ex: models.TaskExecution, decision: Pause) -> None:
    update_runtime(task_ex, pause_before_done=True)
    task_records.set_state(task_ex, states.IDLE)
    run.pause_requested = decision.message


def apply_delay(task_ex: models.TaskExecution, decision: Delay) -> None:
    update_runtime(task_ex, **decision.changes)
    task_records.set_state(task_ex, states.RUNNING_DELAYED)
    _schedule(decision.job, task_ex.id, delay=decision.seconds)


def apply_retry(task_ex: models.TaskExecution, decision: Retry) -> None:
    # NOTE: the time is computed once, so the record shows exactly when the job is due.
    run_after = utcnow() + datetime.timedelta(seconds=max(decision.delay, 0))
    update_runtime(task_ex, retry_no=decision.retry_no, next_retry_at=run_after.isoformat())
    task_records.set_state(task_ex, states.RUNNING_DELAYED)
    _schedule(RETRY, task_ex.id, run_after=run_after)


def pause_before(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec) -> bool:
    value = _value(run, spec, "pause_before")
    if value is None:  # NOTE: the common case, on every task start: no evaluator built
        return False
    decision = decide.pause_before(value, runtime(task_ex), _evaluator(run, task_ex), task_ex.name)
    if not isinstance(decision, Pause):
        return False
    apply_pause(run, task_ex, decision)
    return True


def wait_before(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec) -> bool:
    value = _value(run, spec, "wait_before")
    if value is None:
        return False
    decision = decide.wait_before(value, runtime(task_ex), _evaluator(run, task_ex), task_ex.name)
    return _delayed(task_ex, decision)


def wait_after(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec, state: str, result: Any,
               state_info: str | None) -> bool:  # fmt: skip
    value = _value(run, spec, "wait_after")
    if value is None:
        return False
    outcome = Outcome(state, result, state_info)
    decision = decide.wait_after(value, runtime(task_ex), _evaluator(run, task_ex), task_ex.name, outcome)
    return _delayed(task_ex, decision)


def _delayed(task_ex: models.TaskExecution, decision: Delay | decide.Proceed) -> bool:
    if not isinstance(decision, Delay):
        return False
    apply_delay(task_ex, decision)
    return True


def fails_on(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec, result: Any) -> bool:
    value = _value(run, spec, "fail_on")
    return value is not None and decide.fails_on(value, _evaluator(run, task_ex), result)


def retry(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec, state: str, result: Any) -> bool:
    """Schedule another attempt if the retry policy asks for one."""
    policy = _value(run, spec, "retry")
    if policy is None:
        return False
    outcome = Outcome(state, result)
    decision = decide.retry(
        policy, runtime(task_ex), _evaluator(run, task_ex), task_ex.name, outcome, random.uniform
    )
    if not isinstance(decision, Retry):
        return False
    apply_retry(task_ex, decision)
    return True


def timeout_seconds(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec) -> float | None:
    value = _value(run, spec, "timeout")
    if value is None:
        return None
    return decide.timeout(value, _evaluator(run, task_ex), task_ex.name)


def schedule_timeout(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec) -> None:
    seconds = timeout_seconds(run, task_ex, spec)
    if seconds is None or runtime(task_ex).timeout_scheduled:
        return
    update_runtime(task_ex, timeout_scheduled=True)
    _schedule(TIMEOUT, task_ex.id, delay=seconds)


def cancel_timeout(task_ex: models.TaskExecution) -> None:
    if runtime(task_ex).timeout_scheduled:
        jobs.cancel(job_key(TIMEOUT, task_ex.id))
