"""Where a start's first step runs: in the start, or after its answer, sent by the engine or by its caller."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mistral.db import api as db_api
from mistral.engine import engine as engine_module
from mistral.exceptions import InputError
from mistral.rpc import clients
from mistral.services import definitions

pytestmark = pytest.mark.usefixtures("db")

WORKFLOWS = """
version: '2.0'
items:
  tasks:
    each:
      with-items: x in <% range(3) %>
      action: std.echo output=<% $.x %>
plain:
  tasks:
    one:
      action: std.noop
takes_nums:
  input: [nums]
  tasks:
    one:
      action: std.noop
"""


class Sent:
    def __init__(self) -> None:
        self.first_steps: list[list[str]] = []
        self.actions: list[dict[str, Any]] = []


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Sent:
    record = Sent()
    engines, executors = clients.EngineClient, clients.ExecutorClient
    monkeypatch.setattr(engines, "run_first_steps", lambda _, ids: record.first_steps.append(ids))
    monkeypatch.setattr(executors, "run_actions", lambda _, r, target=None: record.actions.extend(r))
    definitions.create_workflows(WORKFLOWS)
    return record


def test_a_first_step_that_fans_out_is_the_callers_to_send_when_it_asks(sent: Sent) -> None:
    engine = engine_module.get()
    answer = engine.start_workflow("items", send_first_step=False)
    assert answer == {"id": answer["id"], "state": "RUNNING", "state_info": None, "first_step_pending": True}
    assert sent.first_steps == [] and db_api.find_task_executions(answer["id"]) == []
    engine.run_first_steps([answer["id"]])
    engine.run_first_steps([answer["id"]])  # a second copy of the message runs nothing
    assert len(sent.actions) == 3 and len(db_api.find_task_executions(answer["id"])) == 1


def test_the_engine_sends_a_first_step_that_fans_out_by_default(sent: Sent) -> None:
    answer = engine_module.get().start_workflow("items")
    assert answer == {"id": answer["id"], "state": "RUNNING", "state_info": None}
    assert sent.first_steps == [[answer["id"]]]


@pytest.mark.parametrize("send_first_step", [True, False])
def test_a_first_step_that_does_not_fan_out_runs_in_the_start(sent: Sent, send_first_step: bool) -> None:
    answer = engine_module.get().start_workflow("plain", send_first_step=send_first_step)
    assert answer == {"id": answer["id"], "state": "RUNNING", "state_info": None} and sent.first_steps == []
    assert [t.name for t in db_api.find_task_executions(answer["id"])] == ["one"] and len(sent.actions) == 1


def test_a_start_answers_the_state_it_commits(sent: Sent) -> None:
    definitions.create_workflows(
        "version: '2.0'\nbroken_at_once:\n  tasks:\n    one:\n      action: std.echo output=<% 1 / 0 %>\n"
    )
    answer = engine_module.get().start_workflow("broken_at_once")
    stored = db_api.get_workflow_execution(answer["id"])
    assert stored.state == "ERROR" and sent.actions == []
    assert (answer["state"], answer["state_info"]) == (stored.state, stored.state_info)


def test_input_given_as_json_text_is_read_by_the_engine(sent: Sent) -> None:
    answer = engine_module.get().start_workflow("takes_nums", wf_input_json='{"nums": [1, 2]}')
    assert db_api.get_workflow_execution(answer["id"]).input == {"nums": [1, 2]}


@pytest.mark.parametrize(
    ("text", "problem"),
    [("{nope", "Invalid JSON in 'input'"), ("[1, 2]", "'input' must be a JSON object, got list"),
     ("[" * 101 + "]" * 101, "nested deeper than 100 levels")],
)  # fmt: skip
def test_input_text_that_is_no_json_object_is_refused_before_anything_is_stored(
    sent: Sent, text: str, problem: str
) -> None:
    with pytest.raises(InputError, match=re.escape(problem)):
        engine_module.get().start_workflow("takes_nums", wf_input_json=text)
    assert db_api.list_workflow_executions() == []
