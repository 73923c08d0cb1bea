"""What a task's policies decide, apart from doing it: pause-before, wait-before, wait-after, retry,
timeout, fail-on.

Each function takes the policy's value (the task's own keyword, else ``task-defaults``), the task's
runtime record and the event (the task starting, or its outcome arriving), and returns a decision.
Nothing here touches the database, the scheduler or the workflow run: ``policies`` applies the
decisions inside the unit of work. Expressions are evaluated through the ``evaluate`` callable the
caller passes, as ``workflow/direct.py`` takes a condition callable.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from mistral.engine.task_records import PendingOutcome, TaskRuntime
from mistral.exceptions import InputError
from mistral.lang.specs import RetrySpec, TaskDefaultsSpec, TaskSpec
from mistral.workflow import states

#: the scheduled jobs a delay ends with (``timers`` registers them)
RESUME_DELAYED = "engine.resume_delayed_task"
RETRY = "engine.retry_task"
FINISH_DELAYED = "engine.finish_delayed_task"
TIMEOUT = "engine.task_timeout"

#: the longest delay or timeout a policy may ask for: ten years (a date past year 9999 cannot be stored)
MAX_SECONDS = 10 * 365 * 24 * 3600


class Evaluate(Protocol):
    """Evaluates a policy value (literal or expression) in the task's context, ``result`` as ``task()``."""

    def __call__(self, value: Any, *, result: Any = None) -> Any: ...


#: draws a number in [low, high]: ``random.uniform``, or a fixed source in tests
Draw = Callable[[float, float], float]


@dataclass(frozen=True)
class Proceed:
    """The policy lets the task go on as if it were not there."""


PROCEED = Proceed()


@dataclass(frozen=True)
class Pause:
    """pause-before: the task goes back to IDLE and its workflow pauses after this step."""

    message: str


@dataclass(frozen=True)
class Delay:
    """The task waits ``seconds`` in RUNNING_DELAYED, then ``job`` runs; ``changes`` go to its record."""

    job: str
    seconds: float
    changes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Retry:
    """Attempt ``retry_no`` (1-based) starts after ``delay`` seconds."""

    retry_no: int
    delay: float


@dataclass(frozen=True)
class Outcome:
    """The event of a task's result arriving."""

    state: str
    result: Any = None
    state_info: str | None = None


def policy_value(spec: TaskSpec, defaults: TaskDefaultsSpec, keyword: str) -> Any:
    """The task's own keyword, else the workflow's ``task-defaults`` (None: the policy is off)."""
    own = getattr(spec, keyword)
    return own if own is not None else getattr(defaults, keyword)


def seconds(value: Any, task_name: str, keyword: str) -> float:
    """An evaluated policy value as seconds; anything else is the user's error, named."""
    try:
        number = float(value or 0)
    except (TypeError, ValueError) as error:
        raise InputError(
            f"Task '{task_name}': {keyword} must be a number of seconds, got {value!r}"
        ) from error
    return _bounded(number, task_name, keyword)


def _bounded(number: float, task_name: str, keyword: str) -> float:
    # NOTE: a larger (or NaN) delay would fail the engine when it computes the due date, not the task.
    if math.isnan(number) or number > MAX_SECONDS:
        raise InputError(
            f"Task '{task_name}': {keyword} must be at most {MAX_SECONDS} seconds (ten years), got {number!r}"
        )
    return number


def pause_before(value: Any, record: TaskRuntime, evaluate: Evaluate, task_name: str) -> Pause | Proceed:
    if value is None or record.pause_before_done or not evaluate(value):
        return PROCEED
    return Pause(f"Paused before task '{task_name}' (pause-before)")


def wait_before(value: Any, record: TaskRuntime, evaluate: Evaluate, task_name: str) -> Delay | Proceed:
    if value is None or record.wait_before_done:
        return PROCEED
    delay = seconds(evaluate(value), task_name, "wait-before")
    if delay <= 0:
        return PROCEED
    return Delay(RESUME_DELAYED, delay, {"wait_before_done": True})


def wait_after(
    value: Any, record: TaskRuntime, evaluate: Evaluate, task_name: str, outcome: Outcome
) -> Delay | Proceed:
    """Hold the outcome back for the delay; it is applied when the delay ends."""
    if value is None or record.wait_after_done:
        return PROCEED
    delay = seconds(evaluate(value), task_name, "wait-after")
    if delay <= 0:
        return PROCEED
    pending = PendingOutcome(outcome.state, outcome.result, outcome.state_info)
    return Delay(FINISH_DELAYED, delay, {"wait_after_done": True, "pending": pending})


def fails_on(value: Any, evaluate: Evaluate, result: Any) -> bool:
    """fail-on: a successful result that the condition holds for counts as an error."""
    return value is not None and bool(evaluate(value, result=result))


def retry(
    policy: RetrySpec | None,
    record: TaskRuntime,
    evaluate: Evaluate,
    task_name: str,
    outcome: Outcome,
    draw: Draw = random.uniform,
) -> Retry | Proceed:
    """Another attempt, and after how long; a timed-out task is not retried."""
    if policy is None or record.timed_out:
        return PROCEED
    result = outcome.result
    count = int(evaluate(policy.count, result=result) or 0)
    if record.retry_no >= count:
        return PROCEED
    if outcome.state == states.ERROR:
        if policy.break_on is not None and evaluate(policy.break_on, result=result):
            return PROCEED
    elif outcome.state != states.SUCCESS or policy.continue_on is None:
        return PROCEED
    elif not evaluate(policy.continue_on, result=result):
        return PROCEED
    retry_no = record.retry_no + 1
    return Retry(retry_no, retry_delay(policy, retry_no, evaluate, task_name, draw))


def retry_delay(policy: RetrySpec, retry_no: int, evaluate: Evaluate, task_name: str, draw: Draw) -> float:
    """``delay * backoff**(n-1)``, capped by max-delay; with jitter, a uniform draw below that ("full
    jitter", so many tasks failing together do not retry together)."""
    delay = seconds(evaluate(policy.delay), task_name, "retry delay")
    if policy.backoff is not None:
        backoff = _number(evaluate(policy.backoff), task_name, "backoff", minimum=1)
        try:
            delay *= backoff ** (retry_no - 1)
        except OverflowError:
            delay = math.inf  # NOTE: max-delay may still bound it; otherwise refused just below
    if policy.max_delay is not None:
        delay = min(delay, _number(evaluate(policy.max_delay), task_name, "max-delay"))
    delay = _bounded(delay, task_name, "retry delay")
    if policy.jitter is not None and _flag(evaluate(policy.jitter), task_name, "jitter"):
        delay = draw(0.0, delay)
    return delay


def timeout(value: Any, evaluate: Evaluate, task_name: str) -> float | None:
    """The task's timeout in seconds, or None when it has none."""
    if value is None:
        return None
    limit = seconds(evaluate(value), task_name, "timeout")
    return limit if limit > 0 else None


def _number(value: Any, task_name: str, key: str, *, minimum: float = 0) -> float:
    # NOTE: checked here too, not only by the schema: an expression's value is known only now.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise InputError(f"Task '{task_name}': retry {key} must be a number >= {minimum:g}, got {value!r}")
    return float(value)


def _flag(value: Any, task_name: str, key: str) -> bool:
    if not isinstance(value, bool):
        raise InputError(f"Task '{task_name}': retry {key} must be a boolean, got {value!r}")
    return value
