"""A slow expression is evaluated outside the transaction, never while it holds the locks others need."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from mistral.db import api as db_api
from mistral.db import retry
from mistral.db import session as db_session
from mistral.engine import data_flow, evaluation
from mistral.expressions import ExpressionFunctions, LimitExceeded
from tests.unit.api import rows

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture(autouse=True)
def _limits(override_conf: Any) -> None:
    override_conf("yaql", "expression_time_limit", 1.0)
    override_conf("yaql", "expression_time_limit_in_lock", 0.05)
    evaluation._MEMO.clear()


class Probe:
    """An expression function that takes ``seconds`` and notes whether a transaction was open.

    NOTE: a function's own time is not interrupted (it is a database lookup); inside a
    transaction it takes ``inside`` seconds at most, enough to pass the in-lock budget (and a tick).
    """

    def __init__(self, seconds: float, inside: float = 0.15) -> None:
        self.seconds, self.inside = seconds, inside
        self.in_transaction: list[bool] = []

    def __call__(self, name: Any = None) -> str:
        in_transaction = db_session.current_session() is not None
        self.in_transaction.append(in_transaction)
        time.sleep(min(self.seconds, self.inside) if in_transaction else self.seconds)
        return f"slow {name}"

    def functions(self) -> ExpressionFunctions:
        return ExpressionFunctions(task=self)


def _unit(value: Any, probe: Probe, runs: list[int]) -> Any:
    with db_api.transaction():
        runs.append(1)
        db_api.touch_action_heartbeats([], None)  # NOTE: a write, so SQLite's writer slot is taken
        return evaluation.evaluate(
            value, {"x": 1}, probe.functions(), detach=lambda: (probe.functions(), "seen")
        )


def test_a_quick_expression_is_evaluated_in_the_transaction() -> None:
    probe, runs = Probe(0.01), []
    assert db_api.run_with_retry(_unit, "<% task(a) %>", probe, runs) == "slow a"
    assert (probe.in_transaction, len(runs)) == ([True], 1)


def test_a_slow_expression_is_evaluated_outside_then_its_unit_runs_again() -> None:
    probe, runs = Probe(0.3), []
    value = {"a": "<% task(a) %>", "b": "<% $.x + 1 %>"}
    assert db_api.run_with_retry(_unit, value, probe, runs) == {"a": "slow a", "b": 2}
    # In the transaction (cut short), outside it (the outcome); the run again takes the memo at once.
    assert probe.in_transaction == [True, False]
    assert len(runs) == 2


def test_a_limit_exceeded_outside_is_the_outcome_inside() -> None:
    runs: list[int] = []
    started = time.monotonic()
    with pytest.raises(LimitExceeded, match=r"'<% sequence\(\).len\(\) %>' exceeded the time limit of 1 s"):
        db_api.run_with_retry(_unit, "<% sequence().len() %>", Probe(0), runs)
    assert len(runs) == 2
    assert time.monotonic() - started < 1.5


def test_other_writers_go_on_while_a_slow_expression_runs() -> None:
    probe, runs, outcome = Probe(0.7), [], []
    worker = threading.Thread(
        target=lambda: outcome.append(db_api.run_with_retry(_unit, "<% task(a) %>", probe, runs))
    )
    worker.start()
    waits = []
    while worker.is_alive():
        started = time.monotonic()
        with db_api.transaction():
            db_api.touch_action_heartbeats([], None)
        waits.append(time.monotonic() - started)
        time.sleep(0.02)
    worker.join()
    assert outcome == ["slow a"]
    assert len(waits) > 10
    assert max(waits) < 0.5  # the in-lock budget and the two short runs, never the whole 0.7 s


def test_without_a_retry_layer_it_is_evaluated_in_place() -> None:
    """Nobody could run the unit again: it keeps the old way, bounded by the full time limit."""
    probe, runs = Probe(0.3, inside=0.3), []
    assert _unit("<% task(a) %>", probe, runs) == "slow a"
    assert (probe.in_transaction, len(runs)) == ([True], 1)


def test_outside_a_transaction_the_full_limit_applies_at_once() -> None:
    probe = Probe(0.3)
    assert evaluation.evaluate("<% task(a) %>", {}, probe.functions()) == "slow a"
    assert probe.in_transaction == [False]


def test_a_unit_that_keeps_asking_runs_inside_in_the_end() -> None:
    """Whatever it sees changes every run (the memo never matches): after a few rounds it is done inside."""
    probe, runs = Probe(0.1), []
    counter = iter(range(100))

    def unit() -> Any:
        with db_api.transaction():
            runs.append(1)
            return evaluation.evaluate(
                "<% task(a) %>",
                {"n": next(counter)},
                probe.functions(),
                detach=lambda: (probe.functions(), 0),
            )

    assert db_api.run_with_retry(unit) == "slow a"
    assert len(runs) == retry.MAX_OUTSIDE_WORK + 1


def test_the_workflow_row_is_not_locked_while_a_slow_expression_runs() -> None:
    """On PostgreSQL the lock others wait on is the execution's row (SELECT ... FOR UPDATE)."""
    wf_ex = rows.wf_ex(state="RUNNING")
    probe, runs, outcome = Probe(0.7), [], []

    def unit() -> Any:
        with db_api.transaction():
            runs.append(1)
            db_api.lock_workflow_execution(wf_ex.id)
            return evaluation.evaluate(
                "<% task(a) %>", {}, probe.functions(), detach=lambda: (probe.functions(), None)
            )

    worker = threading.Thread(target=lambda: outcome.append(db_api.run_with_retry(unit)))
    worker.start()
    time.sleep(0.01)
    waits = []
    while worker.is_alive():
        started = time.monotonic()
        with db_api.transaction():
            db_api.lock_workflow_execution(wf_ex.id)
        waits.append(time.monotonic() - started)
        time.sleep(0.02)
    worker.join()
    assert outcome == ["slow a"] and len(runs) == 2
    assert len(waits) > 10
    assert max(waits) < 0.5


def test_a_slow_expression_sees_other_tasks_as_its_rolled_back_unit_saw_them(monkeypatch) -> None:
    """The unit that finishes task b evaluates the join's input, which reads b's result.

    Cut short, the unit rolls back, so b's result is not in the database while the
    expression runs outside; the outcome must still be the one the unit saw (b's
    result), not the stored row's (RUNNING, no result). A join under load got null.
    """
    wf_ex = rows.wf_ex(state="RUNNING")
    rows.task_ex(wf_ex, "b", state="RUNNING", result=None)
    loads = db_api.load_last_task_execution

    def slow_inside(wf_ex_id: str, name: str) -> Any:
        if db_session.current_session() is not None:
            time.sleep(0.15)  # past the in-lock budget: the unit is cut short
        return loads(wf_ex_id, name)

    monkeypatch.setattr(db_api, "load_last_task_execution", slow_inside)
    runs: list[int] = []

    def unit() -> Any:
        with db_api.transaction():
            runs.append(1)
            locked = db_api.lock_workflow_execution(wf_ex.id)
            (b,) = db_api.find_task_executions(wf_ex.id, names=["b"])
            b.state, b.result = "SUCCESS", 42
            return data_flow.evaluate("<% task(b).result %>", locked, {})

    assert db_api.run_with_retry(unit) == 42
    assert len(runs) == 2


def test_after_a_slow_expression_other_data_is_not_digested_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """The items of a with-items task share a large list: digesting it per item made the task quadratic."""
    probe, runs = Probe(0.3), []
    assert db_api.run_with_retry(_unit, "<% task(a) %>", probe, runs) == "slow a"
    digested: list[Any] = []
    full_key = evaluation._key
    monkeypatch.setattr(evaluation, "_key", lambda *args: digested.append(args) or full_key(*args))
    nums = list(range(1000))

    def unit() -> list[Any]:
        with db_api.transaction():
            return [
                evaluation.evaluate(
                    "<% task(a) %>",
                    {"nums": nums, "x": x},
                    Probe(0).functions(),
                    detach=lambda: (None, "seen"),
                )
                for x in range(3)
            ]

    assert db_api.run_with_retry(unit) == ["slow a"] * 3
    assert digested == []


def test_the_memo_still_answers_the_run_again_of_a_unit_over_large_data() -> None:
    probe, runs = Probe(0.3), []
    nums = list(range(1000))

    def unit() -> Any:
        with db_api.transaction():
            runs.append(1)
            db_api.touch_action_heartbeats([], None)
            return evaluation.evaluate(
                "<% task(a) %>",
                {"nums": nums, "x": 1},
                probe.functions(),
                detach=lambda: (probe.functions(), "s"),
            )

    assert db_api.run_with_retry(unit) == "slow a"
    assert (probe.in_transaction, len(runs)) == ([True, False], 2)
