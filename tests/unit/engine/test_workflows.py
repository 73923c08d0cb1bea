"""The step driver: sub-workflows start in their parent's transaction; completion, failure, pause."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from mistral import context
from mistral.db import api as db_api
from mistral.db import models
from mistral.db import session as session_module
from mistral.engine import controls, outbox, tasks, workflows
from mistral.engine.run import lock_run
from mistral.workflow import commands, states
from tests.conftest import Override
from tests.unit.engine.conftest import (
    action_ids,
    actions_sent,
    children_of,
    new_run,
    step,
    task_of,
    tasks_of,
    wf_ex_of,
)

pytestmark = pytest.mark.usefixtures("define")

WORKFLOWS = """
version: '2.0'
leaf:
  tasks:
    work:
      action: std.echo output=leaf
middle:
  tasks:
    call:
      workflow: leaf
parent:
  tasks:
    call:
      workflow: middle
direct_child:
  tasks:
    call:
      workflow: leaf
lost:
  tasks:
    call:
      workflow: nowhere
broken_vars:
  vars:
    x: <% int('x') %>
  tasks:
    work:
      action: std.noop
calls_broken:
  tasks:
    call:
      workflow: broken_vars
many:
  tasks:
    call:
      with-items: i in <% [1, 2] %>
      concurrency: 1
      workflow: leaf
pair:
  output:
    got: <% $.got %>
  tasks:
    a:
      action: std.noop
      publish:
        got: <% task().result %>
      on-success: [b]
    b:
      action: std.noop
handled:
  tasks:
    a:
      action: std.noop
      on-error: [b]
    b:
      action: std.noop
unhandled:
  tasks:
    a:
      action: std.noop
    b:
      action: std.noop
failing:
  tasks:
    a:
      action: std.noop
      on-complete:
        - fail(msg="stopped by a")
bad_output:
  output:
    x: <% int('x') %>
  tasks:
    a:
      action: std.noop
pausing:
  tasks:
    a:
      action: std.noop
      on-complete:
        - pause
        - b
    b:
      action: std.noop
fan:
  tasks:
    a:
      action: std.noop
      on-success: [b1, b2, b3, b4, b5]
    b1:
      action: std.echo output=1
    b2:
      action: std.echo output=2
    b3:
      action: std.echo output=3
    b4:
      action: std.echo output=4
    b5:
      action: std.echo output=5
pausing_with_queued_work:
  tasks:
    a:
      action: std.noop
      on-complete:
        - b
        - c
        - pause
    b:
      action: std.external
    c:
      action: std.echo output=1
      queue: shared
joined:
  tasks:
    a:
      action: std.noop
      on-complete: [j]
    b:
      action: std.noop
      on-complete: [j]
    j:
      join: all
      action: std.noop
"""


@pytest.fixture(autouse=True)
def _workflows(define: Any) -> None:
    define(WORKFLOWS)


def _first_step(name: str, wf_input: dict[str, Any] | None = None) -> str:
    with step():
        run = new_run(name, wf_input)
        workflows.run_first_step(run)
        assert not run.children_to_start
        return run.wf_ex.id


def _finish_task(wf_ex_id: str, name: str, state: str = states.SUCCESS, value: Any = None) -> None:
    """Task ``name``'s action ended: the task completes and the workflow proceeds, in one step."""
    with step():
        run = lock_run(wf_ex_id)
        tasks.on_action_done(run, task_of(run, name), 0, state, value)
        workflows.proceed(run)


# -- sub-workflows ------------------------------------------------------------------------------------


def test_a_sub_workflow_and_its_first_task_start_in_the_parents_transaction(
    sent: list[outbox.Outbox],
) -> None:
    wf_ex_id = _first_step("direct_child")
    (child,) = children_of(wf_ex_id)
    assert (child.state, child.first_step_done, child.workflow_name) == (states.RUNNING, True, "leaf")
    assert child.task_execution_id == tasks_of(wf_ex_id)["call"].id
    assert tasks_of(child.id)["work"].state == states.RUNNING
    (box,) = sent  # one transaction: the child's action left with the parent's step
    assert [r.input for r in box.actions] == [{"output": "leaf"}]
    assert wf_ex_of(wf_ex_id).state == states.RUNNING


def test_grandchildren_start_in_the_same_transaction_too(sent: list[outbox.Outbox]) -> None:
    wf_ex_id = _first_step("parent")
    (middle,) = children_of(wf_ex_id)
    (leaf,) = children_of(middle.id)
    assert (middle.runtime_context["depth"], leaf.runtime_context["depth"]) == (1, 2)
    assert tasks_of(leaf.id)["work"].state == states.RUNNING and len(sent) == 1


def test_a_child_created_outside_the_driver_starts_when_its_workflow_proceeds() -> None:
    # NOTE: a timer, a re-run or an item's result starts a task outside workflows: proceed follows each.
    with step():
        run = new_run("direct_child")
        task_ex = tasks.create(run, run.task_spec("call"), {}, states.RUNNING)
        tasks.execute(run, task_ex)
        ((queued_for, child),) = run.children_to_start
        assert queued_for is task_ex and child.first_step_done is False
        workflows.proceed(run)
        assert not run.children_to_start and child.first_step_done is True
    assert tasks_of(child.id)["work"].state == states.RUNNING


def test_with_items_concurrency_starts_the_next_child_when_one_ends() -> None:
    wf_ex_id = _first_step("many")
    (first,) = children_of(wf_ex_id)
    with step():
        run = lock_run(wf_ex_id)
        tasks.on_action_done(run, task_of(run, "call"), 0, states.SUCCESS, {})
        workflows.proceed(run)
    second = next(c for c in children_of(wf_ex_id) if c.id != first.id)
    assert second.params["index"] == 1 and second.first_step_done
    assert tasks_of(second.id)["work"].state == states.RUNNING


def test_a_sub_workflow_deeper_than_the_limit_fails_its_task(override_conf: Override) -> None:
    override_conf("engine", "max_subworkflow_depth", 1)
    wf_ex_id = _first_step("parent")
    (middle,) = children_of(wf_ex_id)
    assert children_of(middle.id) == []
    call = tasks_of(middle.id)["call"]
    assert call.state == states.ERROR
    assert call.state_info == (
        "Task 'call': sub-workflow 'leaf' would nest more than 1 levels deep ([engine] max_subworkflow_depth)"
    )
    assert wf_ex_of(middle.id).state == states.ERROR


def test_an_unknown_sub_workflow_fails_its_task_naming_it() -> None:
    wf_ex_id = _first_step("lost")
    assert tasks_of(wf_ex_id)["call"].state_info == "Workflow not found [nowhere]"
    assert children_of(wf_ex_id) == []


def test_a_child_whose_first_step_fails_ends_and_so_does_its_task(sent: list[outbox.Outbox]) -> None:
    wf_ex_id = _first_step("calls_broken")
    (child,) = children_of(wf_ex_id)
    call = tasks_of(wf_ex_id)["call"]
    assert child.state == states.ERROR and child.state_info.startswith("Failed to start the workflow: ")
    assert call.state == states.ERROR and call.state_info == child.state_info.removeprefix(
        "Failed to start the workflow: "
    )
    assert wf_ex_of(wf_ex_id).state == states.ERROR
    assert tasks_of(child.id) == {}
    # the child's end is still told to its parent after commit, where the ended task ignores it
    assert sent[-1].finished_subworkflows == [child.id]


def test_a_finished_sub_workflow_is_told_to_its_parent_after_commit(sent: list[outbox.Outbox]) -> None:
    wf_ex_id = _first_step("direct_child")
    (child,) = children_of(wf_ex_id)
    _finish_task(child.id, "work", value="leaf")
    assert wf_ex_of(child.id).state == states.SUCCESS
    assert sent[-1].finished_subworkflows == [child.id]


# -- completion and failure ---------------------------------------------------------------------------


def test_a_workflow_whose_tasks_all_succeed_succeeds_with_its_output(sent: list[outbox.Outbox]) -> None:
    wf_ex_id = _first_step("pair")
    _finish_task(wf_ex_id, "a", value=7)
    assert wf_ex_of(wf_ex_id).state == states.RUNNING  # b runs
    _finish_task(wf_ex_id, "b")
    wf_ex = wf_ex_of(wf_ex_id)
    assert (wf_ex.state, wf_ex.output) == (states.SUCCESS, {"got": 7})
    assert sent[-1].finished_subworkflows == []  # a top-level execution has no parent to tell


def test_an_unhandled_error_fails_the_workflow_naming_each_failed_task() -> None:
    wf_ex_id = _first_step("unhandled")
    _finish_task(wf_ex_id, "a", states.ERROR, "boom")
    assert wf_ex_of(wf_ex_id).state == states.RUNNING  # b still runs
    _finish_task(wf_ex_id, "b", states.ERROR, "bang")
    wf_ex, by_name = wf_ex_of(wf_ex_id), tasks_of(wf_ex_id)
    assert wf_ex.state == states.ERROR
    assert wf_ex.state_info.splitlines() == [
        "Failure caused by error in tasks: a, b",
        f"  a [task_ex_id={by_name['a'].id}] -> boom",
        f"  b [task_ex_id={by_name['b'].id}] -> bang",
    ]
    assert wf_ex.output == {"result": wf_ex.state_info}


def test_an_error_handled_by_on_error_lets_the_workflow_succeed() -> None:
    wf_ex_id = _first_step("handled")
    _finish_task(wf_ex_id, "a", states.ERROR, "boom")
    assert tasks_of(wf_ex_id)["a"].error_handled
    _finish_task(wf_ex_id, "b")
    assert wf_ex_of(wf_ex_id).state == states.SUCCESS


def test_the_fail_command_fails_the_workflow_with_its_message() -> None:
    wf_ex_id = _first_step("failing")
    _finish_task(wf_ex_id, "a")
    wf_ex = wf_ex_of(wf_ex_id)
    assert (wf_ex.state, wf_ex.state_info) == (states.ERROR, "stopped by a")


def test_an_output_that_cannot_be_evaluated_fails_the_workflow() -> None:
    wf_ex_id = _first_step("bad_output")
    _finish_task(wf_ex_id, "a")
    wf_ex = wf_ex_of(wf_ex_id)
    assert wf_ex.state == states.ERROR
    assert wf_ex.state_info.startswith("Failed to evaluate the workflow output: ")


def test_a_join_still_waiting_when_nothing_else_runs_fails_and_so_does_the_workflow() -> None:
    with step():
        run = new_run("joined")
        tasks.arrive_at_join(run, run.task_spec("j"), {}, None, led_here=True)
        join = run.joins["join:j"]
        assert join.state == states.WAITING
        workflows.check_completion(run)
        assert join.state == states.ERROR
        assert join.state_info == "Join can't be satisfied: not every required branch reached it"
        assert join.unique_key == f"join:j:{join.id}"  # a later arrival opens a new join
        assert run.wf_ex.state == states.ERROR


# -- fan-out ---------------------------------------------------------------------------------------


def test_a_fan_out_inserts_its_actions_in_one_statement(sent: list[outbox.Outbox]) -> None:
    wf_ex_id = _first_step("fan")
    inserts: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ACTION_EXECUTIONS"):
            inserts.append(statement)

    engine = session_module.get_engine()
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        _finish_task(wf_ex_id, "a")
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(inserts) == 1
    by_name = tasks_of(wf_ex_id)
    requests = actions_sent(sent)[-5:]
    assert sorted(r.action_ex_id for r in requests) == sorted(
        a for n in ("b1", "b2", "b3", "b4", "b5") for a in action_ids(by_name[n].id)
    )
    assert sorted(r.input["output"] for r in requests) == [1, 2, 3, 4, 5]


# -- pause ------------------------------------------------------------------------------------------


def test_the_pause_command_holds_the_work_items_of_the_tasks_started_before_it() -> None:
    """The tasks before ``pause`` start in the same step; their items must be held with the rest."""
    wf_ex_id = _first_step("pausing_with_queued_work")
    _finish_task(wf_ex_id, "a")
    assert wf_ex_of(wf_ex_id).state == states.PAUSED
    with context.using(context.Context(is_internal=True)):
        items = db_api.list_work_items(None, models.WorkItem.workflow_execution_id == wf_ex_id)
    assert sorted(i.state for i in items) == [db_api.WORK_PAUSED, db_api.WORK_PAUSED]


def test_the_pause_command_keeps_the_commands_after_it_until_resume(sent: list[outbox.Outbox]) -> None:
    wf_ex_id = _first_step("pausing")
    _finish_task(wf_ex_id, "a")
    wf_ex = wf_ex_of(wf_ex_id)
    assert (wf_ex.state, wf_ex.state_info) == (states.PAUSED, "Paused by the 'pause' command")
    backlog = wf_ex.runtime_context["backlog"]
    assert [commands.command_from_dict(c).name for c in backlog["commands"]] == ["b"]
    assert "b" not in tasks_of(wf_ex_id)
    before = len(actions_sent(sent))
    with step():
        controls.resume(lock_run(wf_ex_id))
    assert "backlog" not in wf_ex_of(wf_ex_id).runtime_context
    assert tasks_of(wf_ex_id)["b"].state == states.RUNNING
    assert len(actions_sent(sent)) == before + 1
