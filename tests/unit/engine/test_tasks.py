"""tasks: a task's input and action, its join, publishing and keep-result, driven one step at a time."""

from __future__ import annotations

from typing import Any

import pytest

from mistral import context
from mistral.db import api as db_api
from mistral.engine import outbox, task_records, tasks
from mistral.engine.run import lock_run
from mistral.workflow import states
from tests.unit.engine.conftest import action_ids, actions_sent, new_run, step, task_of, tasks_of

pytestmark = pytest.mark.usefixtures("define")

WORKFLOWS = """
version: '2.0'
inputs:
  input: [n, action, values]
  tasks:
    by_dict:
      action: std.echo
      input:
        output: <% $.n + 1 %>
    by_expression:
      action: std.echo
      input: <% $.values %>
    by_name:
      action: <% $.action %>
    bad_yaql:
      action: std.echo output=<% int('many') %>
publishing:
  input: [fail_publish]
  tasks:
    t:
      action: std.echo output=1
      publish:
        got: <% task().result %>
        broken: <% $.fail_publish and int('x') %>
      publish-on-error:
        why: <% task().result %>
failing_on_error:
  tasks:
    t:
      action: std.noop
      publish-on-error:
        why: <% int('x') %>
forgetful:
  tasks:
    t:
      action: std.echo output=big
      keep-result: false
      publish:
        seen: <% task().result %>
joined:
  tasks:
    a:
      action: std.noop
      on-complete: [j]
    b:
      action: std.noop
      on-complete: [j]
    c:
      action: std.noop
      on-complete: [j]
    j:
      join: all
      action: std.echo output=<% $.from_a %>
one_of:
  tasks:
    a:
      action: std.noop
      on-complete: [j]
    b:
      action: std.noop
      on-complete: [j]
    j:
      join: 1
      action: std.noop
"""


@pytest.fixture(autouse=True)
def _workflows(define: Any) -> None:
    define(WORKFLOWS)


def _start_one(name: str, wf_input: dict[str, Any]) -> tuple[str, Any]:
    """Start task ``name`` of ``inputs`` alone; its id and its run's id."""
    with step():
        run = new_run("inputs", {"n": 1, "action": "std.noop", "values": {}, **wf_input})
        tasks.start(run, name, {})
        assert list(run.completed) == [t for t in run.touched if states.is_completed(t.state)]
        return run.wf_ex.id, task_of(run, name).id


# -- input and action ---------------------------------------------------------------------------------


def test_a_dict_input_is_evaluated_and_its_action_sent_after_commit(sent: list[outbox.Outbox]) -> None:
    wf_ex_id, _ = _start_one("by_dict", {"n": 41})
    (request,) = actions_sent(sent)
    assert (request.action_name, request.input) == ("std.echo", {"output": 42})
    assert tasks_of(wf_ex_id)["by_dict"].state == states.RUNNING


def test_an_input_expression_must_give_a_dict_and_the_error_names_the_task(sent: list[outbox.Outbox]) -> None:
    wf_ex_id, task_ex_id = _start_one("by_expression", {"values": [1, 2]})
    task_ex = tasks_of(wf_ex_id)["by_expression"]
    assert task_ex.state == states.ERROR
    assert task_ex.state_info == "Task 'by_expression': input must evaluate to a dict, got [1, 2]"
    assert actions_sent(sent) == [] and action_ids(task_ex_id) == []


def test_an_input_expression_that_gives_a_dict_is_the_input(sent: list[outbox.Outbox]) -> None:
    _start_one("by_expression", {"values": {"output": "x"}})
    assert [r.input for r in actions_sent(sent)] == [{"output": "x"}]


@pytest.mark.parametrize("action", [5, "", None])
def test_an_action_name_that_is_not_a_string_fails_the_task(sent: list[outbox.Outbox], action: Any) -> None:
    wf_ex_id, _ = _start_one("by_name", {"action": action})
    task_ex = tasks_of(wf_ex_id)["by_name"]
    assert task_ex.state == states.ERROR
    assert task_ex.state_info == f"Task 'by_name': action name must be a string, got {action!r}"
    assert actions_sent(sent) == []


def test_a_failing_input_expression_ends_the_task_not_the_step(sent: list[outbox.Outbox]) -> None:
    wf_ex_id, _ = _start_one("bad_yaql", {})
    task_ex = tasks_of(wf_ex_id)["bad_yaql"]
    assert task_ex.state == states.ERROR and "int" in task_ex.state_info
    assert actions_sent(sent) == []


# -- results, publish, keep-result -------------------------------------------------------------------


def _run_to_result(name: str, wf_input: dict[str, Any], state: str, value: Any) -> str:
    """Start ``name``'s only task, then hand it its action's outcome in the next step."""
    with step():
        run = new_run(name, wf_input)
        tasks.start(run, "t", {})
        wf_ex_id = run.wf_ex.id
    with step():
        run = lock_run(wf_ex_id)
        tasks.on_action_done(run, task_of(run, "t"), 0, state, value)
        assert [t.name for t in run.completed] == ["t"]
    return wf_ex_id


def test_publish_sees_the_result() -> None:
    task_ex = tasks_of(_run_to_result("publishing", {"fail_publish": False}, states.SUCCESS, 7))["t"]
    assert (task_ex.state, task_ex.result) == (states.SUCCESS, 7)
    assert task_ex.published == {"got": 7, "broken": False}


def test_a_failing_publish_fails_the_task_and_publishes_nothing() -> None:
    task_ex = tasks_of(_run_to_result("publishing", {"fail_publish": True}, states.SUCCESS, 7))["t"]
    assert task_ex.state == states.ERROR and "int" in task_ex.state_info
    assert task_ex.published == {}


def test_an_error_publishes_on_error_and_says_why() -> None:
    task_ex = tasks_of(_run_to_result("publishing", {"fail_publish": False}, states.ERROR, "boom"))["t"]
    assert (task_ex.state, task_ex.state_info) == (states.ERROR, "boom")
    assert task_ex.published == {"why": "boom"}


def test_an_error_that_is_not_text_is_told_as_json() -> None:
    error = {"type": "ValueError", "message": "no"}
    task_ex = tasks_of(_run_to_result("publishing", {"fail_publish": False}, states.ERROR, error))["t"]
    assert task_ex.state_info == '{"type": "ValueError", "message": "no"}'


def test_a_cancelled_action_cancels_its_task() -> None:
    task_ex = tasks_of(_run_to_result("publishing", {"fail_publish": False}, states.CANCELLED, None))["t"]
    assert (task_ex.state, task_ex.state_info) == (states.CANCELLED, "Action was cancelled")
    assert task_ex.published == {}


def test_keep_result_false_publishes_then_forgets_the_result_and_the_action_output() -> None:
    with step():
        run = new_run("forgetful")
        tasks.start(run, "t", {})
        wf_ex_id, task_ex_id = run.wf_ex.id, task_of(run, "t").id
    (action_ex_id,) = action_ids(task_ex_id)
    with step():
        run = lock_run(wf_ex_id)
        task_ex = task_of(run, "t")
        (action_ex,) = db_api.find_action_executions(task_ex.id)
        action_ex.output = {"result": "big"}
        tasks.on_action_done(run, task_ex, 0, states.SUCCESS, "big")
    task_ex = tasks_of(wf_ex_id)["t"]
    assert (task_ex.state, task_ex.result, task_ex.published) == (states.SUCCESS, None, {"seen": "big"})
    with context.using(context.Context(is_internal=True)):
        assert db_api.get_action_execution(action_ex_id).output == {}


def test_a_result_for_a_task_that_ended_is_ignored() -> None:
    wf_ex_id = _run_to_result("publishing", {"fail_publish": False}, states.SUCCESS, 7)
    with step():
        run = lock_run(wf_ex_id)
        tasks.on_action_done(run, task_of(run, "t"), 0, states.ERROR, "late")
        assert list(run.completed) == []
    task_ex = tasks_of(wf_ex_id)["t"]
    assert (task_ex.state, task_ex.result) == (states.SUCCESS, 7)


def test_fail_runs_publish_on_error_and_tells_when_that_fails_too() -> None:
    with step():
        run = new_run("publishing", {"fail_publish": False})
        task_ex = tasks.create(run, run.task_spec("t"), {}, states.RUNNING)
        tasks.fail(run, task_ex, "bad input")
        assert (task_ex.state, task_ex.state_info) == (states.ERROR, "bad input")
        assert task_ex.published == {"why": None}
    assert list(run.completed) == [task_ex]


def test_fail_tells_when_publish_on_error_fails_too() -> None:
    with step():
        run = new_run("failing_on_error")
        task_ex = tasks.create(run, run.task_spec("t"), {}, states.RUNNING)
        tasks.fail(run, task_ex, "bad input")
        assert task_ex.state == states.ERROR and task_ex.published == {}
        assert task_ex.state_info.startswith("bad input; publish-on-error failed: ")


# -- joins ----------------------------------------------------------------------------------------


def _arrive(run: Any, name: str, ctx: dict[str, Any], *, led_here: bool = True) -> None:
    tasks.arrive_at_join(run, run.task_spec(name), ctx, None, led_here=led_here)


def test_a_join_waits_for_every_branch_then_runs_with_their_contexts_merged(
    sent: list[outbox.Outbox],
) -> None:
    with step():
        run = new_run("joined")
        _arrive(run, "j", {"from_a": "A"})
        _arrive(run, "j", {"from_b": "B"})
        join = run.joins["join:j"]
        assert join.state == states.WAITING and actions_sent([outbox.current()]) == []
        _arrive(run, "j", {})
        assert join.state == states.RUNNING
        assert task_records.runtime(join).join == task_records.JoinCounts(arrived=3, missed=0)
        assert join.in_context == {"from_a": "A", "from_b": "B"}
    assert [(r.action_name, r.input) for r in actions_sent(sent)] == [("std.echo", {"output": "A"})]


def test_a_join_that_a_branch_can_no_longer_reach_fails_and_says_how_many_came() -> None:
    with step():
        run = new_run("joined")
        _arrive(run, "j", {})
        _arrive(run, "j", {}, led_here=False)
        join = run.joins["join:j"]
        assert join.state == states.ERROR
        assert join.state_info == "Join can't be satisfied: 1 of 3 required branches arrived"


def test_a_join_of_one_runs_on_the_first_branch_and_counts_the_late_ones() -> None:
    with step():
        run = new_run("one_of")
        _arrive(run, "j", {})
        join = run.joins["join:j"]
        assert join.state == states.RUNNING
        _arrive(run, "j", {})
        assert task_records.runtime(join).join == task_records.JoinCounts(arrived=2, missed=0)
        # every inbound branch is counted: a loop back into the join opens a new one
        _arrive(run, "j", {})
        again = run.joins["join:j"]
        assert again is not join and again.state == states.RUNNING
        assert join.unique_key == f"join:j:{join.id}" and again.unique_key == "join:j"


def test_a_join_is_found_again_in_the_next_step() -> None:
    with step():
        run = new_run("joined")
        _arrive(run, "j", {"from_a": "A"})
        wf_ex_id = run.wf_ex.id
    with step():
        run = lock_run(wf_ex_id)
        _arrive(run, "j", {})
        _arrive(run, "j", {})
        join = run.joins["join:j"]
        assert join.state == states.RUNNING and join.in_context == {"from_a": "A"}
    assert len(tasks_of(wf_ex_id)) == 1
