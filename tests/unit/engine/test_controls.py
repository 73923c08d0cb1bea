"""What users do to running workflows (mistral/engine/controls.py), driven directly: each control runs in
a unit of work on the locked execution, as the engine runs it, and what it sends is counted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mistral.db import api as db_api
from mistral.db import models
from mistral.engine import controls, task_records
from mistral.engine.engine import Engine
from mistral.engine.run import lock_run, lock_task
from mistral.engine.unit_of_work import unit_of_work
from mistral.exceptions import InputError
from mistral.rpc.payloads import ActionRequest
from mistral.services import definitions
from mistral.workflow import states

pytestmark = pytest.mark.usefixtures("db")

WORKFLOWS = """
version: '2.0'
chain:
  tasks:
    first:
      action: std.echo output=<% env().get(greeting, hello) %>
      on-success: second
    second:
      action: std.noop
items:
  tasks:
    each:
      with-items: x in <% range(3) %>
      action: std.echo output=<% $.x %>
skippable:
  tasks:
    risky:
      action: std.fail
      publish-on-skip:
        verdict: skipped
      on-skip: after
    after:
      action: std.noop
joined:
  tasks:
    a:
      action: std.noop
      on-success: [j]
    b:
      action: std.noop
      on-success: [j]
    j:
      join: all
      action: std.noop
parent:
  tasks:
    call:
      workflow: child
parent_of_items:
  tasks:
    call:
      with-items: x in <% [1, 2] %>
      workflow: child
child:
  tasks:
    t:
      action: std.noop
handled:
  tasks:
    risky:
      action: std.fail
      on-error: cleanup
    cleanup:
      action: std.noop
"""


class Harness:
    """An engine over the recording outbox: start executions, answer their actions, read their rows."""

    def __init__(self, sent: list[Any]) -> None:
        self.engine = Engine()
        self._sent = sent
        self._seen = 0

    def sent_boxes(self) -> list[Any]:
        """The outboxes sent so far, each once (a second call gives only the newer ones)."""
        boxes, self._seen = self._sent[self._seen :], len(self._sent)
        return boxes

    @property
    def requests(self) -> list[ActionRequest]:
        """Every action request sent so far, in order."""
        return [request for box in self._sent for request in box.actions]

    def start(self, name: str, env: dict[str, Any] | None = None) -> str:
        answer = self.engine.start_workflow(name, params={"env": env} if env else None)
        self.engine.run_first_steps([answer["id"]])
        return str(answer["id"])

    def answer(self, request: ActionRequest, **result: Any) -> None:
        self.engine.on_action_results([{"action_ex_id": request.action_ex_id, **(result or {"data": 1})}])

    def task(self, wf_ex_id: str, name: str) -> models.TaskExecution:
        (task_ex,) = db_api.find_task_executions(wf_ex_id, names=[name])
        return task_ex

    def requests_of(self, task_ex: models.TaskExecution) -> list[ActionRequest]:
        return [r for r in self.requests if r.context.get("task_execution_id") == task_ex.id]

    def failed_task(self, wf_ex_id: str, name: str) -> models.TaskExecution:
        """``name``'s task after its (only) running action failed."""
        (request,) = [r for r in self.requests_of(self.task(wf_ex_id, name)) if self._running(r)]
        self.answer(request, error="it broke")
        task_ex = self.task(wf_ex_id, name)
        assert task_ex.state == states.ERROR
        return task_ex

    @staticmethod
    def _running(request: ActionRequest) -> bool:
        return db_api.get_action_execution(request.action_ex_id).state == states.RUNNING


@pytest.fixture
def harness(sent: list[Any]) -> Harness:
    definitions.create_workflows(WORKFLOWS)
    return Harness(sent)


def on_run(wf_ex_id: str, control: Callable[..., None], *args: Any) -> None:
    with unit_of_work():
        control(lock_run(wf_ex_id), *args)


def on_task(task_ex_id: str, control: Callable[..., None], *args: Any) -> None:
    with unit_of_work():
        run, task_ex = lock_task(task_ex_id)
        control(run, task_ex, *args)


def execution(wf_ex_id: str) -> models.WorkflowExecution:
    return db_api.get_workflow_execution(wf_ex_id)


# -- resume ------------------------------------------------------------------


def test_resume_refuses_an_execution_that_is_not_paused_and_names_it(harness: Harness) -> None:
    wf_ex_id = harness.start("chain")
    with pytest.raises(InputError, match=f"Can't resume execution {wf_ex_id} in state RUNNING"):
        on_run(wf_ex_id, controls.resume)


def test_resume_moves_on_from_what_finished_while_paused(harness: Harness) -> None:
    wf_ex_id = harness.start("chain")
    harness.engine.pause_workflow(wf_ex_id)
    harness.answer(harness.requests[0])
    assert [t.name for t in db_api.find_task_executions(wf_ex_id)] == ["first"]  # held while paused
    on_run(wf_ex_id, controls.resume)
    assert execution(wf_ex_id).state == states.RUNNING
    second = harness.task(wf_ex_id, "second")
    assert len(harness.requests) == 2 and len(harness.requests_of(second)) == 1


def test_resume_with_env_merges_it_into_the_executions_env(harness: Harness) -> None:
    wf_ex_id = harness.start("chain", env={"greeting": "hi", "keep": {"a": 1}})
    harness.engine.pause_workflow(wf_ex_id)
    on_run(wf_ex_id, controls.resume, {"keep": {"b": 2}, "new": True})
    wf_ex = execution(wf_ex_id)
    merged = {"greeting": "hi", "keep": {"a": 1, "b": 2}, "new": True}
    assert wf_ex.params["env"] == merged and wf_ex.context["__env"] == merged


def test_resume_before_the_first_step_runs_the_first_step(harness: Harness) -> None:
    answer = harness.engine.start_workflow("items", send_first_step=False)
    wf_ex_id = answer["id"]
    harness.engine.pause_workflow(wf_ex_id)
    harness.engine.run_first_steps([wf_ex_id])  # paused: it waits for the resume
    assert harness.requests == []
    on_run(wf_ex_id, controls.resume)
    assert len(harness.requests) == 3 and execution(wf_ex_id).first_step_done


def test_update_env_merges_params_and_context(harness: Harness) -> None:
    wf_ex_id = harness.start("chain", env={"greeting": "hi"})
    on_run(wf_ex_id, lambda run: controls.update_env(run.wf_ex, {"greeting": "hey", "more": 1}))
    wf_ex = execution(wf_ex_id)
    assert wf_ex.params["env"] == {"greeting": "hey", "more": 1}
    assert wf_ex.context["__env"] == {"greeting": "hey", "more": 1}


# -- stop --------------------------------------------------------------------


def test_stop_cancels_running_tasks_and_their_actions_and_sends_nothing(harness: Harness) -> None:
    wf_ex_id = harness.start("items")
    sent_before = len(harness.requests)
    on_run(wf_ex_id, controls.stop, states.CANCELLED, None)
    wf_ex, task_ex = execution(wf_ex_id), harness.task(wf_ex_id, "each")
    assert (wf_ex.state, wf_ex.state_info) == (states.CANCELLED, "Workflow was cancelled by the user")
    assert (task_ex.state, task_ex.state_info) == (states.CANCELLED, "Cancelled with its workflow")
    actions = db_api.find_action_executions(task_ex.id)
    assert [a.state for a in actions] == [states.CANCELLED] * 3
    assert len(harness.requests) == sent_before


def test_a_result_arriving_after_a_stop_is_ignored(harness: Harness) -> None:
    wf_ex_id = harness.start("chain")
    on_run(wf_ex_id, controls.stop, states.CANCELLED, None)
    harness.answer(harness.requests[0])
    assert [t.name for t in db_api.find_task_executions(wf_ex_id)] == ["first"]
    assert harness.task(wf_ex_id, "first").state == states.CANCELLED


@pytest.mark.parametrize(
    ("state", "message", "state_info"),
    [
        (states.ERROR, "stopped for maintenance", "stopped for maintenance"),
        (states.ERROR, None, "Workflow was error by the user"),
        (states.SUCCESS, None, None),
    ],
)
def test_stop_ends_the_execution_in_the_state_asked(
    harness: Harness, state: str, message: str | None, state_info: str | None
) -> None:
    wf_ex_id = harness.start("chain")
    on_run(wf_ex_id, controls.stop, state, message)
    wf_ex = execution(wf_ex_id)
    assert (wf_ex.state, wf_ex.state_info) == (state, state_info)


def test_stop_refuses_a_state_that_does_not_end_a_workflow(harness: Harness) -> None:
    wf_ex_id = harness.start("chain")
    with pytest.raises(InputError, match="Can't stop a workflow with state PAUSED"):
        on_run(wf_ex_id, controls.stop, states.PAUSED, None)
    assert execution(wf_ex_id).state == states.RUNNING


def test_stop_refuses_an_execution_already_finished_and_names_it(harness: Harness) -> None:
    wf_ex_id = harness.start("chain")
    on_run(wf_ex_id, controls.stop, states.CANCELLED, None)
    with pytest.raises(InputError, match=f"Execution {wf_ex_id} is already CANCELLED"):
        on_run(wf_ex_id, controls.stop, states.ERROR, None)


# -- rerun -------------------------------------------------------------------


def test_rerun_of_a_failed_task_resets_its_runtime_and_sends_its_action_again(harness: Harness) -> None:
    wf_ex_id = harness.start("chain")
    first = harness.failed_task(wf_ex_id, "first")
    task_records.update_runtime(first, retry_no=2, timed_out=True)  # what policies left behind
    assert execution(wf_ex_id).state == states.ERROR
    on_task(first.id, controls.rerun, True, None)
    first = harness.task(wf_ex_id, "first")
    assert (first.state, first.state_info, first.reset) == (states.RUNNING, None, True)
    assert task_records.runtime(first) == task_records.TaskRuntime(rerun_no=1)
    assert execution(wf_ex_id).state == states.RUNNING
    (old, new) = harness.requests_of(first)
    assert old.action_ex_id != new.action_ex_id and len(harness.requests) == 2
    harness.answer(new)
    assert harness.task(wf_ex_id, "first").state == states.SUCCESS
    assert len(harness.requests_of(harness.task(wf_ex_id, "second"))) == 1


def test_rerun_of_a_branch_that_failed_before_its_join_completes_the_join(harness: Harness) -> None:
    wf_ex_id = harness.start("joined")
    harness.answer(harness.requests_of(harness.task(wf_ex_id, "a"))[0])
    b = harness.failed_task(wf_ex_id, "b")
    join = harness.task(wf_ex_id, "j")
    assert join.state == states.ERROR and "can't be satisfied" in join.state_info
    assert execution(wf_ex_id).state == states.ERROR
    on_task(b.id, controls.rerun, True, None)
    assert harness.task(wf_ex_id, "j").state == states.WAITING  # re-opened: b may reach it now
    harness.answer(harness.requests_of(harness.task(wf_ex_id, "b"))[-1])
    join = harness.task(wf_ex_id, "j")  # the same join task, not a second one
    assert (join.id, join.state, join.state_info) == (harness.task(wf_ex_id, "j").id, states.RUNNING, None)
    harness.answer(harness.requests_of(join)[0])
    assert execution(wf_ex_id).state == states.SUCCESS


def _children_report(harness: Harness) -> None:
    """Deliver what the sender would: the finished sub-workflows' outcomes to their parents."""
    for box in harness.sent_boxes():
        if box.finished_subworkflows:
            harness.engine.on_subworkflows_finished(list(box.finished_subworkflows))


def _child_task(wf_ex_id: str, harness: Harness, index: int = 0) -> models.TaskExecution:
    (call,) = db_api.find_task_executions(wf_ex_id, names=["call"])
    children = sorted(db_api.list_sub_executions_of_task(call.id), key=lambda c: c.params["index"])
    return harness.task(children[index].id, "t")


@pytest.mark.parametrize("name", ["parent", "parent_of_items"])
def test_a_sub_workflow_task_re_run_that_fails_again_fails_its_parent_again(
    harness: Harness, name: str
) -> None:
    wf_ex_id = harness.start(name)
    if name == "parent_of_items":
        harness.answer(harness.requests_of(_child_task(wf_ex_id, harness, 1))[0])
    t = _child_task(wf_ex_id, harness)
    harness.answer(harness.requests_of(t)[0], error="broke")
    _children_report(harness)
    assert execution(wf_ex_id).state == states.ERROR
    for outcome, parent_state in (({"error": "again"}, states.ERROR), ({"data": 2}, states.SUCCESS)):
        harness.engine.rerun_task(t.id)
        assert execution(wf_ex_id).state == states.RUNNING
        harness.answer(harness.requests_of(_child_task(wf_ex_id, harness))[-1], **outcome)
        _children_report(harness)
        assert execution(wf_ex_id).state == parent_state  # not left RUNNING
    (call,) = db_api.find_task_executions(wf_ex_id, names=["call"])
    assert call.state == states.SUCCESS


def test_rerun_with_env_updates_the_env_the_action_sees(harness: Harness) -> None:
    wf_ex_id = harness.start("chain", env={"greeting": "hi"})
    first = harness.failed_task(wf_ex_id, "first")
    on_task(first.id, controls.rerun, True, {"greeting": "again"})
    assert execution(wf_ex_id).params["env"] == {"greeting": "again"}
    assert harness.requests[-1].input == {"output": "again"}


def test_rerun_of_a_task_not_in_error_is_refused_and_names_it(harness: Harness) -> None:
    wf_ex_id = harness.start("chain")
    first = harness.task(wf_ex_id, "first")
    with pytest.raises(InputError, match=f"Can't re-run task {first.id}: it is RUNNING"):
        on_task(first.id, controls.rerun, True, None)
    assert len(harness.requests) == 1


def test_rerun_without_reset_is_only_for_with_items_tasks(harness: Harness) -> None:
    wf_ex_id = harness.start("chain")
    first = harness.failed_task(wf_ex_id, "first")
    with pytest.raises(InputError, match="Only with-items tasks can be re-run without reset"):
        on_task(first.id, controls.rerun, False, None)
    assert harness.task(wf_ex_id, "first").state == states.ERROR


def test_rerun_refuses_a_task_of_an_execution_that_succeeded_and_names_it(harness: Harness) -> None:
    wf_ex_id = harness.start("handled")
    harness.answer(harness.requests[0], error="it broke")
    harness.answer(harness.requests[1])  # the on-error handler succeeds: so does the workflow
    assert execution(wf_ex_id).state == states.SUCCESS
    risky = harness.task(wf_ex_id, "risky")
    with pytest.raises(InputError, match=f"Can't re-run a task of execution {wf_ex_id} in state SUCCESS"):
        on_task(risky.id, controls.rerun, True, None)


def _items_with_one_failure(harness: Harness) -> tuple[str, models.TaskExecution]:
    wf_ex_id = harness.start("items")
    first_run = harness.requests
    assert [r.context["with_items_index"] for r in first_run] == [0, 1, 2]
    for request in first_run:
        if request.context["with_items_index"] == 1:
            harness.answer(request, error="item 1 broke")
        else:
            harness.answer(request)
    task_ex = harness.task(wf_ex_id, "each")
    assert task_ex.state == states.ERROR
    return wf_ex_id, task_ex


def test_rerun_of_with_items_without_reset_runs_only_the_failed_items(harness: Harness) -> None:
    wf_ex_id, each = _items_with_one_failure(harness)
    on_task(each.id, controls.rerun, False, None)
    (again,) = harness.requests[3:]
    assert again.context["with_items_index"] == 1 and again.input == {"output": 1}
    harness.answer(again)
    assert harness.task(wf_ex_id, "each").state == states.SUCCESS
    assert execution(wf_ex_id).state == states.SUCCESS


def test_rerun_of_with_items_with_reset_runs_every_item_again(harness: Harness) -> None:
    _, each = _items_with_one_failure(harness)
    on_task(each.id, controls.rerun, True, None)
    assert sorted(r.context["with_items_index"] for r in harness.requests[3:]) == [0, 1, 2]


# -- skip --------------------------------------------------------------------


def test_skip_ends_a_failed_task_skipped_publishes_on_skip_and_goes_on(harness: Harness) -> None:
    wf_ex_id = harness.start("skippable")
    risky = harness.failed_task(wf_ex_id, "risky")
    assert execution(wf_ex_id).state == states.ERROR
    on_task(risky.id, controls.skip)
    risky = harness.task(wf_ex_id, "risky")
    assert risky.state == states.SKIPPED and risky.published == {"verdict": "skipped"}
    assert execution(wf_ex_id).state == states.RUNNING
    after = harness.task(wf_ex_id, "after")
    assert len(harness.requests_of(after)) == 1 and len(harness.requests) == 2


def test_skip_of_a_task_not_in_error_is_refused_and_names_it(harness: Harness) -> None:
    wf_ex_id = harness.start("skippable")
    risky = harness.task(wf_ex_id, "risky")
    with pytest.raises(InputError, match=f"Can't skip task {risky.id}: it is RUNNING"):
        on_task(risky.id, controls.skip)
    assert harness.task(wf_ex_id, "risky").state == states.RUNNING
