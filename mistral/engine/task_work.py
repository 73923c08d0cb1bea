"""What a task's work is made of (its evaluated input, its action, where that action goes) and how it ends.

Below ``tasks`` and ``with_items``: both build a task's work from these, and ``with_items`` answers
how its work ended as a ``Completed`` or ``Failed`` that ``tasks`` applies, so neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mistral import exceptions
from mistral.db import models
from mistral.engine import action_requests, actions, policies, task_records, work_queue
from mistral.engine import policy_decisions as decide
from mistral.engine.run import WfRun
from mistral.lang.specs import TaskSpec
from mistral.workflow import mocks

#: Errors that end a task in ERROR with their message instead of failing the engine call.
TASK_ERRORS = (exceptions.MistralError,)


@dataclass(frozen=True)
class Completed:
    """The task's work is done: the after-policies, publishing and its final state follow."""

    state: str
    result: Any
    state_info: str | None = None


@dataclass(frozen=True)
class Failed:
    """The task ends in ERROR with ``message``, without retrying (bad input, a result too large)."""

    message: str


#: How a step of a task's work ended; None: it is still running.
Outcome = Completed | Failed | None


def task_input(
    run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The evaluated task input: ``input`` (a dict or one expression) with the inline params on top."""
    if isinstance(spec.input, dict):
        raw: Any = spec.merged_input
        value = run.evaluate(raw, task_ex, extra=extra)
    else:
        value = run.evaluate(spec.input, task_ex, extra=extra)
        if not isinstance(value, dict):
            raise exceptions.InputError(f"Task '{spec.name}': input must evaluate to a dict, got {value!r}")
        value = {**value, **run.evaluate(spec.inline_params, task_ex, extra=extra)}
    return dict(value)


def action_name(
    run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec, extra: dict[str, Any] | None = None
) -> str:
    name = run.evaluate(spec.action or "std.noop", task_ex, extra=extra)
    if not isinstance(name, str) or not name:
        raise exceptions.InputError(f"Task '{spec.name}': action name must be a string, got {name!r}")
    return name


def resolve_action(
    run: WfRun, task_ex: models.TaskExecution, name: str, action_input: dict[str, Any]
) -> actions.ResolvedAction:
    """What the task runs as action ``name``: the resolved action, or a test run's mock of it."""
    mock = mocks.find((run.wf_ex.params or {}).get(mocks.KEY), task_ex.name, name)
    if mock is not None:
        return actions.mocked(name, action_input, mock)
    env_defaults = (((run.wf_ex.params or {}).get("env") or {}).get("__actions") or {}).get(name) or {}
    merged = {**env_defaults, **action_input}
    return actions.resolve(run.owner, name, merged, run.namespace, run.workbook)


def delivery(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec) -> action_requests.Delivery:
    """Where and how the task's actions go: its ``target``, ``safe-rerun``, timeout and retry number."""
    target = run.evaluate(spec.target, task_ex) if spec.target else None
    safe_rerun = bool(run.evaluate(spec.safe_rerun, task_ex)) if spec.safe_rerun is not None else False
    timeout = policies.timeout_seconds(run, task_ex, spec)
    return action_requests.Delivery(
        target, safe_rerun, timeout, task_records.runtime(task_ex).retry_no, routing(run, task_ex, spec)
    )


def routing(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec) -> work_queue.Routing:
    """The task's ``queue`` (or task-defaults'), its tags, and one claim plus one per retry of its policy."""
    queue = decide.policy_value(spec, run.spec.task_defaults, "queue")
    if queue is not None:
        queue = run.evaluate(queue, task_ex)
        if not isinstance(queue, str) or not queue:
            raise exceptions.InputError(
                f"Task '{spec.name}': queue must be a non-empty string, got {queue!r}"
            )
    retry = decide.policy_value(spec, run.spec.task_defaults, "retry")
    retries = run.evaluate(retry.count, task_ex) if retry is not None and retry.count is not None else 0
    try:
        attempts = 1 + max(int(retries or 0), 0)
    except (TypeError, ValueError) as error:
        raise exceptions.InputError(
            f"Task '{spec.name}': retry count must be a number, got {retries!r}"
        ) from error
    return work_queue.Routing(queue, tuple(spec.tags), attempts)
