"""Test runs: mocked actions never reach an executor, and their results take an executor's result path."""

from __future__ import annotations

from typing import Any

import pytest

from mistral import context
from mistral.db import api as db_api
from mistral.db.types import utcnow
from mistral.engine import engine as engine_module
from mistral.engine import recovery, timers  # noqa: F401  (timers registers the retry job)
from mistral.exceptions import InputError
from mistral.rpc import clients
from mistral.scheduler.scheduler import Scheduler
from mistral.services import definitions
from mistral.workflow import states

pytestmark = pytest.mark.usefixtures("db")

WORKFLOWS = """
version: '2.0'
chain:
  tasks:
    fetch:
      action: std.http url=http://example.invalid/
      publish:
        body: <% task().result.content %>
      on-success: greet
    greet:
      action: std.echo output=<% $.body %>
      publish:
        said: <% task().result %>
failing:
  tasks:
    call:
      action: std.fail
      publish-on-error:
        why: <% task().result %>
      on-error: recover
    recover:
      action: std.noop
retried:
  tasks:
    flaky:
      action: std.echo output=1
      retry:
        count: 2
        delay: 0
items:
  tasks:
    each:
      with-items: x in <% [1, 2, 3] %>
      concurrency: 1
      action: std.echo output=<% $.x %>
parent:
  tasks:
    call:
      workflow: chain
dynamic:
  input:
    - name: std.noop
  tasks:
    run:
      action: <% $.name %>
"""


class Pump:
    """What the engine sends, kept and delivered by hand: one step after another, no executor."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.results: list[list[dict[str, Any]]] = []
        self.finished: list[list[str]] = []
        self.first_steps: list[list[str]] = []
        self.executor: list[dict[str, Any]] = []
        self.engine = engine_module.Engine()
        engines, executors = clients.EngineClient, clients.ExecutorClient
        monkeypatch.setattr(engines, "apply_results", lambda _, r: self.results.append(r))
        monkeypatch.setattr(engines, "on_subworkflows_finished", lambda _, ids: self.finished.append(ids))
        monkeypatch.setattr(engines, "run_first_steps", lambda _, ids: self.first_steps.append(ids))
        monkeypatch.setattr(executors, "run_actions", lambda _, r, target=None: self.executor.extend(r))

    def start(self, name: str, mocks: dict[str, Any] | None, **params: Any) -> str:
        if mocks is not None:
            params["mock_actions"] = mocks
        wf_ex_id = self.engine.start_workflow(name, params=params)["id"]
        self.drain()
        return wf_ex_id

    def drain(self) -> None:
        scheduler = Scheduler()
        while self.results or self.finished or self.first_steps or scheduler.run_once():
            if self.first_steps:
                self.engine.run_first_steps(self.first_steps.pop(0))
            elif self.results:
                self.engine.apply_results(self.results.pop(0))
            elif self.finished:
                self.engine.on_subworkflows_finished(self.finished.pop(0))


@pytest.fixture
def pump(monkeypatch: pytest.MonkeyPatch) -> Pump:
    definitions.create_workflows(WORKFLOWS)
    return Pump(monkeypatch)


def _read(wf_ex_id: str) -> tuple[Any, dict[str, Any], list[Any]]:
    with context.using(context.Context(is_internal=True)):
        wf_ex = db_api.get_workflow_execution(wf_ex_id)
        task_exs = {t.name: t for t in db_api.find_task_executions(wf_ex_id)}
        action_exs = [a for t in task_exs.values() for a in db_api.find_action_executions(t.id)]
    return wf_ex, task_exs, action_exs


def test_mocked_actions_reach_no_executor_and_their_results_publish(pump: Pump) -> None:
    wf_ex_id = pump.start("chain", {"fetch": {"content": "hi"}, "greet": "by task", "std.echo": "by action"})
    wf_ex, task_exs, action_exs = _read(wf_ex_id)
    assert pump.executor == []
    assert wf_ex.state == states.SUCCESS and wf_ex.test_run is True
    assert task_exs["fetch"].published == {"body": "hi"}
    assert task_exs["greet"].published == {"said": "by task"}  # the task's name wins over its action's
    assert {a.name: a.output for a in action_exs} == {
        "std.http": {"result": {"content": "hi"}},
        "std.echo": {"result": "by task"},
    }
    assert all(a.description.startswith("Mocked result") and a.result_applied for a in action_exs)
    # the input was still evaluated: the expressions of the definition were tried
    assert [a.input for a in action_exs if a.name == "std.echo"] == [{"output": "hi"}]


def test_an_action_not_mocked_still_runs(pump: Pump) -> None:
    pump.start("chain", {"fetch": {"content": "hi"}})
    assert [r["action_name"] for r in pump.executor] == ["std.echo"]


def test_a_mocked_error_fails_the_task_and_on_error_follows(pump: Pump) -> None:
    wf_ex_id = pump.start("failing", {"std.fail": {"error": "boom"}, "recover": None})
    wf_ex, task_exs, action_exs = _read(wf_ex_id)
    assert wf_ex.state == states.SUCCESS and pump.executor == []
    assert task_exs["call"].state == states.ERROR and task_exs["call"].published == {"why": "boom"}
    assert task_exs["recover"].state == states.SUCCESS
    assert [(a.name, a.state, a.state_info) for a in action_exs if a.name == "std.fail"] == [
        ("std.fail", states.ERROR, "boom")
    ]


def test_a_retry_runs_the_mocked_action_again_each_time(pump: Pump) -> None:
    wf_ex_id = pump.start("retried", {"flaky": {"error": "still down"}})
    wf_ex, task_exs, action_exs = _read(wf_ex_id)
    assert wf_ex.state == states.ERROR and pump.executor == []
    assert len(action_exs) == 3 and {a.state for a in action_exs} == {states.ERROR}


def test_each_item_gets_the_mocked_result(pump: Pump) -> None:
    wf_ex_id = pump.start("items", {"each": "m"})
    wf_ex, task_exs, action_exs = _read(wf_ex_id)
    assert wf_ex.state == states.SUCCESS and pump.executor == []
    assert task_exs["each"].result == ["m", "m", "m"]
    assert sorted(a.input["output"] for a in action_exs) == [1, 2, 3]


def test_sub_workflows_inherit_the_mocks_and_are_test_runs_too(pump: Pump) -> None:
    wf_ex_id = pump.start("parent", {"fetch": {"content": "deep"}, "greet": "ok"})
    wf_ex, task_exs, _ = _read(wf_ex_id)
    with context.using(context.Context(is_internal=True)):
        (child,) = db_api.list_sub_executions([wf_ex_id])
    assert wf_ex.state == states.SUCCESS and pump.executor == []
    assert child.test_run is True
    assert child.params["mock_actions"] == {"fetch": {"content": "deep"}, "greet": "ok"}
    assert child.output == {"body": "deep", "said": "ok"}


def test_an_execution_without_mocks_is_no_test_run(pump: Pump) -> None:
    wf_ex_id = pump.start("chain", None)
    wf_ex, _, _ = _read(wf_ex_id)
    assert wf_ex.test_run is False and len(pump.executor) == 1


def test_a_lost_mocked_result_is_given_again_by_recovery_never_sent_to_an_executor(pump: Pump) -> None:
    wf_ex_id = pump.engine.start_workflow("chain", params={"mock_actions": {"fetch": {"content": "x"}}})["id"]
    pump.results.clear()  # the result's message is lost
    recovery.resend_untaken_actions(sent_before=utcnow())
    assert len(pump.results) == 1 and pump.executor == []
    pump.drain()
    assert _read(wf_ex_id)[1]["fetch"].state == states.SUCCESS


@pytest.mark.parametrize(
    ("mocks", "message"),
    [
        ({"nope": 1}, "'nope' is no task or action of the workflow or its sub-workflows"),
        ({"call": 1}, "'call' is a task that runs a workflow"),
        (["fetch"], "must be a JSON object"),
        ({"fetch": {"error": None}}, "a mocked error must not be null"),
    ],
)
def test_mocks_that_mock_nothing_are_refused_and_nothing_starts(pump: Pump, mocks: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        pump.engine.start_workflow("parent", params={"mock_actions": mocks})
    with context.using(context.Context(is_internal=True)):
        assert db_api.list_workflow_executions() == []


def test_keys_may_name_actions_of_sub_workflows_and_of_any_name_where_an_expression_names_the_action(
    pump: Pump,
) -> None:
    parent_id = pump.start("parent", {"std.http": {"content": ""}, "std.echo": 1})
    assert _read(parent_id)[0].state == states.SUCCESS
    wf_ex_id = pump.start("dynamic", {"anything": 1, "std.noop": "mocked"})
    assert _read(wf_ex_id)[1]["run"].result == "mocked"
