"""Policy decisions as pure functions: no database, no scheduler, no workflow run.

An "expression" here is a Python callable of the result, so a test states what it evaluates to.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from mistral.engine import policy_decisions as decide
from mistral.engine.policy_decisions import PROCEED, Delay, Outcome, Pause, Retry
from mistral.engine.task_records import PendingOutcome, TaskRuntime
from mistral.exceptions import InputError
from mistral.lang import parse_workflows
from mistral.lang.specs import RetrySpec, TaskDefaultsSpec, TaskSpec
from mistral.workflow import states

FRESH = TaskRuntime()
FAILED = Outcome(states.ERROR, {"code": 500}, "boom")
SUCCEEDED = Outcome(states.SUCCESS, {"code": 200})


def evaluate(value: Any, *, result: Any = None) -> Any:
    return value(result) if callable(value) else value


def never_draw(low: float, high: float) -> float:
    raise AssertionError("no jitter asked for, nothing drawn")


def retry(policy: RetrySpec, record: TaskRuntime = FRESH, outcome: Outcome = FAILED, **kw: Any) -> Any:
    return decide.retry(policy, record, evaluate, "t", outcome, kw.get("draw", never_draw))


def delays(policy: RetrySpec, draw: decide.Draw = never_draw) -> list[float]:
    """The delays before attempts 1..count, as one task failing every time would get them."""
    out, record = [], FRESH
    while isinstance(decision := decide.retry(policy, record, evaluate, "t", FAILED, draw), Retry):
        out.append(decision.delay)
        record = TaskRuntime(retry_no=decision.retry_no)
    return out


# Which value applies


def test_the_task_keyword_wins_over_task_defaults_and_defaults_fill_the_gaps() -> None:
    spec = parse_workflows(
        "version: '2.0'\nwf:\n  task-defaults:\n    wait-before: 5\n    timeout: 9\n"
        "  tasks:\n    t:\n      action: std.noop\n      timeout: 3\n"
    ).workflows[0]
    task = spec.tasks["t"]
    assert decide.policy_value(task, spec.task_defaults, "timeout") == 3
    assert decide.policy_value(task, spec.task_defaults, "wait_before") == 5
    assert decide.policy_value(task, spec.task_defaults, "retry") is None


def test_task_defaults_retry_applies_to_a_task_without_one() -> None:
    defaults = TaskDefaultsSpec(retry=RetrySpec(count=2, delay=1))
    policy = decide.policy_value(TaskSpec(name="t"), defaults, "retry")
    assert retry(policy) == Retry(1, 1.0)


# pause-before, wait-before, wait-after, fail-on, timeout


def test_pause_before_pauses_once() -> None:
    assert decide.pause_before(True, FRESH, evaluate, "t") == Pause("Paused before task 't' (pause-before)")
    assert decide.pause_before(True, TaskRuntime(pause_before_done=True), evaluate, "t") is PROCEED
    assert decide.pause_before(lambda _: False, FRESH, evaluate, "t") is PROCEED
    assert decide.pause_before(None, FRESH, evaluate, "t") is PROCEED


def test_wait_before_delays_once_and_marks_it_done() -> None:
    assert decide.wait_before(2, FRESH, evaluate, "t") == Delay(
        decide.RESUME_DELAYED, 2.0, {"wait_before_done": True}
    )
    assert decide.wait_before(2, TaskRuntime(wait_before_done=True), evaluate, "t") is PROCEED
    assert decide.wait_before(0, FRESH, evaluate, "t") is PROCEED
    assert decide.wait_before(None, FRESH, evaluate, "t") is PROCEED


def test_a_wait_that_is_not_a_number_names_the_task_and_keyword() -> None:
    with pytest.raises(InputError, match=r"Task 't': wait-before must be a number of seconds, got 'soon'"):
        decide.wait_before(lambda _: "soon", FRESH, evaluate, "t")


def test_wait_after_holds_the_outcome_back() -> None:
    decision = decide.wait_after(lambda _: 3, FRESH, evaluate, "t", FAILED)
    assert decision == Delay(
        decide.FINISH_DELAYED,
        3.0,
        {"wait_after_done": True, "pending": PendingOutcome(states.ERROR, {"code": 500}, "boom")},
    )
    assert decide.wait_after(3, TaskRuntime(wait_after_done=True), evaluate, "t", FAILED) is PROCEED


def test_fail_on_sees_the_result() -> None:
    assert decide.fails_on(lambda result: result["code"] == 200, evaluate, {"code": 200})
    assert not decide.fails_on(lambda result: result["code"] == 500, evaluate, {"code": 200})
    assert not decide.fails_on(None, evaluate, {"code": 200})


def test_timeout_is_seconds_or_none() -> None:
    assert decide.timeout(lambda _: "2.5", evaluate, "t") == 2.5
    assert decide.timeout(0, evaluate, "t") is None
    assert decide.timeout(None, evaluate, "t") is None


# retry


def test_retry_counts_attempts_and_stops_at_count() -> None:
    policy = RetrySpec(count=2, delay=1)
    assert retry(policy) == Retry(1, 1.0)
    assert retry(policy, TaskRuntime(retry_no=1)) == Retry(2, 1.0)
    assert retry(policy, TaskRuntime(retry_no=2)) is PROCEED


def test_a_timed_out_task_is_not_retried() -> None:
    assert retry(RetrySpec(count=5, delay=1), TaskRuntime(timed_out=True)) is PROCEED


def test_break_on_stops_retrying_an_error() -> None:
    policy = RetrySpec(count=3, delay=0, break_on=lambda result: result["code"] == 500)
    assert retry(policy) is PROCEED
    assert retry(policy, outcome=Outcome(states.ERROR, {"code": 503})) == Retry(1, 0.0)


def test_a_success_is_retried_only_while_continue_on_holds() -> None:
    assert retry(RetrySpec(count=3, delay=0), outcome=SUCCEEDED) is PROCEED
    keep_going = RetrySpec(count=3, delay=0, continue_on=lambda result: result["code"] == 200)
    assert retry(keep_going, outcome=SUCCEEDED) == Retry(1, 0.0)
    assert retry(keep_going, outcome=Outcome(states.SUCCESS, {"code": 201})) is PROCEED


def test_retry_count_and_delay_may_be_expressions() -> None:
    assert retry(RetrySpec(count=lambda _: "2", delay=lambda _: 1.5)) == Retry(1, 1.5)


def test_without_backoff_every_delay_is_the_same() -> None:
    assert delays(RetrySpec(count=4, delay=2)) == [2.0, 2.0, 2.0, 2.0]


def test_backoff_multiplies_the_delay_for_each_attempt() -> None:
    assert delays(RetrySpec(count=4, delay=1, backoff=2.0)) == [1.0, 2.0, 4.0, 8.0]
    assert delays(RetrySpec(count=3, delay=3, backoff=1)) == [3.0, 3.0, 3.0]


def test_max_delay_caps_the_backoff() -> None:
    assert delays(RetrySpec(count=6, delay=1, backoff=3, max_delay=10)) == [1.0, 3.0, 9.0, 10.0, 10.0, 10.0]
    assert delays(RetrySpec(count=2, delay=5, max_delay=2)) == [2.0, 2.0]


def test_jitter_draws_between_zero_and_the_capped_delay() -> None:
    asked: list[tuple[float, float]] = []

    def draw(low: float, high: float) -> float:
        asked.append((low, high))
        return high / 2

    policy = RetrySpec(count=4, delay=1, backoff=2, max_delay=5, jitter=True)
    assert delays(policy, draw) == [0.5, 1.0, 2.0, 2.5]
    assert asked == [(0.0, 1.0), (0.0, 2.0), (0.0, 4.0), (0.0, 5.0)]


def test_jitter_with_the_real_random_source_stays_in_bounds() -> None:
    policy = RetrySpec(count=8, delay=1, backoff=2, max_delay=20, jitter=lambda _: True)
    drawn = delays(policy, random.Random(7).uniform)
    caps = [1, 2, 4, 8, 16, 20, 20, 20]
    assert len(drawn) == 8 and all(0 <= d <= cap for d, cap in zip(drawn, caps, strict=True))


def test_jitter_false_draws_nothing() -> None:
    assert delays(RetrySpec(count=2, delay=1, backoff=2, jitter=False)) == [1.0, 2.0]


def _retry(**keys: Any) -> RetrySpec:
    return RetrySpec(count=1, delay=1, **{k: (lambda _, v=v: v) for k, v in keys.items()})


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        pytest.param(_retry(backoff=0.5), "retry backoff must be a number >= 1", id="backoff-below-one"),
        pytest.param(_retry(backoff="x"), "retry backoff must be a number >= 1", id="backoff-not-a-number"),
        pytest.param(_retry(max_delay=-1), "retry max-delay must be a number >= 0", id="max-delay-negative"),
        pytest.param(_retry(jitter="yes"), "retry jitter must be a boolean", id="jitter-not-a-bool"),
    ],
)
def test_a_bad_value_from_an_expression_names_the_task_and_key(policy: RetrySpec, message: str) -> None:
    with pytest.raises(InputError, match=f"Task 't': {message}"):
        retry(policy)


def test_a_backoff_too_large_to_compute_is_refused_unless_max_delay_caps_it() -> None:
    runaway = TaskRuntime(retry_no=999)
    with pytest.raises(InputError, match="Task 't': retry delay must be at most"):
        retry(RetrySpec(count=1000, delay=1, backoff=10), runaway)
    assert retry(RetrySpec(count=1000, delay=1, backoff=10, max_delay=60), runaway) == Retry(1000, 60.0)


@pytest.mark.parametrize("value", [1e12, float("nan")], ids=["beyond-ten-years", "nan"])
def test_a_delay_or_timeout_that_no_date_can_hold_names_the_task(value: float) -> None:
    with pytest.raises(InputError, match="Task 't': wait-before must be at most"):
        decide.wait_before(value, FRESH, evaluate, "t")
    with pytest.raises(InputError, match="Task 't': timeout must be at most"):
        decide.timeout(value, evaluate, "t")
