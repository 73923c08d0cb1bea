"""Task policies: pause-before, wait-before, wait-after, retry, timeout, fail-on.

Each keyword falls back to ``task-defaults``. Delays go through the persistent
scheduler, so they survive restarts and run once however many engines run.
"""

from __future__ import annotations

from typing import Any

from mistral.db import models
from mistral.engine import task_records
from mistral.engine.run import WfRun
from mistral.engine.task_records import PendingOutcome, runtime, update_runtime
from mistral.exceptions import InputError
from mistral.lang.specs import RetrySpec, TaskSpec
from mistral.scheduler import jobs
from mistral.workflow import states

RESUME_DELAYED = "engine.resume_delayed_task"
RETRY = "engine.retry_task"
FINISH_DELAYED = "engine.finish_delayed_task"
TIMEOUT = "engine.task_timeout"


def _value(run: WfRun, spec: TaskSpec, keyword: str) -> Any:
    own = getattr(spec, keyword)
    return own if own is not None else getattr(run.spec.task_defaults, keyword)


def _seconds(run: WfRun, task_ex: models.TaskExecution, value: Any, keyword: str) -> float:
    seconds = run.evaluate(value, task_ex)
    try:
        return float(seconds or 0)
    except (TypeError, ValueError) as error:
        raise InputError(
            f"Task '{task_ex.name}': {keyword} must be a number of seconds, got {seconds!r}"
        ) from error


def _delay(task_ex: models.TaskExecution, job: str, seconds: float) -> None:
    task_records.set_state(task_ex, states.RUNNING_DELAYED)
    jobs.schedule(job, delay=seconds, func_args={"task_ex_id": task_ex.id}, key=f"delay:{task_ex.id}")


def pause_before(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec) -> bool:
    value = _value(run, spec, "pause_before")
    if value is None or runtime(task_ex).pause_before_done:
        return False
    if not run.evaluate(value, task_ex):
        return False
    update_runtime(task_ex, pause_before_done=True)
    task_records.set_state(task_ex, states.IDLE)
    run.pause_requested = f"Paused before task '{task_ex.name}' (pause-before)"
    return True


def wait_before(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec) -> bool:
    value = _value(run, spec, "wait_before")
    if value is None or runtime(task_ex).wait_before_done:
        return False
    seconds = _seconds(run, task_ex, value, "wait-before")
    if seconds <= 0:
        return False
    update_runtime(task_ex, wait_before_done=True)
    _delay(task_ex, RESUME_DELAYED, seconds)
    return True


def wait_after(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec, state: str, result: Any,
               state_info: str | None) -> bool:  # fmt: skip
    value = _value(run, spec, "wait_after")
    if value is None or runtime(task_ex).wait_after_done:
        return False
    seconds = _seconds(run, task_ex, value, "wait-after")
    if seconds <= 0:
        return False
    pending = PendingOutcome(state, result, state_info)
    update_runtime(task_ex, wait_after_done=True, pending=pending)
    _delay(task_ex, FINISH_DELAYED, seconds)
    return True


def fails_on(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec, result: Any) -> bool:
    value = _value(run, spec, "fail_on")
    return value is not None and bool(run.evaluate(value, task_ex, result=result))


def retry(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec, state: str, result: Any) -> bool:
    """Schedule another attempt if the retry policy asks for one."""
    policy: RetrySpec | None = _value(run, spec, "retry")
    record = runtime(task_ex)
    retry_no = record.retry_no
    if policy is None or record.timed_out:
        return False
    count = int(run.evaluate(policy.count, task_ex, result=result) or 0)
    if retry_no >= count:
        return False
    if state == states.ERROR:
        if policy.break_on is not None and run.evaluate(policy.break_on, task_ex, result=result):
            return False
    elif state != states.SUCCESS or policy.continue_on is None:
        return False
    elif not run.evaluate(policy.continue_on, task_ex, result=result):
        return False
    update_runtime(task_ex, retry_no=retry_no + 1)
    _delay(task_ex, RETRY, _seconds(run, task_ex, policy.delay, "retry delay"))
    return True


def timeout_seconds(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec) -> float | None:
    value = _value(run, spec, "timeout")
    if value is None:
        return None
    seconds = _seconds(run, task_ex, value, "timeout")
    return seconds if seconds > 0 else None


def schedule_timeout(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec) -> None:
    seconds = timeout_seconds(run, task_ex, spec)
    if seconds is None or runtime(task_ex).timeout_scheduled:
        return
    update_runtime(task_ex, timeout_scheduled=True)
    jobs.schedule(TIMEOUT, delay=seconds, func_args={"task_ex_id": task_ex.id}, key=f"timeout:{task_ex.id}")


def cancel_timeout(task_ex: models.TaskExecution) -> None:
    if runtime(task_ex).timeout_scheduled:
        jobs.cancel(f"timeout:{task_ex.id}")
