"""Creating, reading and deleting cron triggers: what the API's 400s, 404s and 409s come from."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from mistral import context
from mistral.db import api as db_api
from mistral.exceptions import DuplicateError, InputError, NotFoundError
from mistral.services import cron_triggers as ct
from mistral.services import definitions
from tests.unit.triggers.conftest import T0, WORKFLOW, FakeClock

pytestmark = pytest.mark.usefixtures("clock")


def _create(workflow: Any, **values: Any) -> Any:
    body = {"name": "t", "workflow_name": workflow.name, "workflow_input": {"greeting": "hi"}, **values}
    return ct.create_cron_trigger(body)


def test_pattern_only_starts_at_the_next_tick_unlimited(workflow: Any, clock: FakeClock) -> None:
    clock.set(T0 + datetime.timedelta(seconds=20))
    trigger = _create(workflow, pattern="*/5 * * * *")
    assert trigger.next_execution_time == T0 + datetime.timedelta(minutes=5)
    assert trigger.first_execution_time is None and trigger.remaining_executions is None
    assert (trigger.workflow_id, trigger.workflow_name) == (workflow.id, "ticked")
    assert (trigger.scope, trigger.project_id) == ("private", context.DEFAULT_PROJECT_ID)
    assert trigger.workflow_params == {}


def test_first_time_with_pattern_and_count(workflow: Any) -> None:
    trigger = _create(workflow, pattern="* * * * *", first_execution_time="2030-01-01 12:01",
                      remaining_executions=2)  # fmt: skip
    first = T0 + datetime.timedelta(minutes=1)
    assert (trigger.first_execution_time, trigger.next_execution_time) == (first, first)
    assert trigger.remaining_executions == 2


def test_first_time_without_pattern_fires_once(workflow: Any) -> None:
    trigger = _create(workflow, first_execution_time="2030-01-01 13:00")
    assert trigger.pattern is None and trigger.remaining_executions == 1


def test_by_workflow_id_and_in_a_namespace(workflow: Any) -> None:
    assert (
        _create(workflow, workflow_name=None, workflow_id=workflow.id, pattern="@daily").workflow_id
        == workflow.id
    )
    other = definitions.create_workflows(
        "version: '2.0'\nticked:\n  tasks:\n    t:\n      action: std.noop\n", namespace="ns1"
    )[0]
    trigger = _create(
        workflow, name="t2", pattern="@daily", workflow_input={}, workflow_params={"namespace": "ns1"}
    )
    assert trigger.workflow_id == other.id


@pytest.mark.parametrize(
    ("values", "error", "message"),
    [
        ({}, InputError, "needs a 'pattern' or a 'first_execution_time'"),
        ({"pattern": "61 * * * *"}, InputError, "Invalid cron pattern '61 \\* \\* \\* \\*'"),
        ({"first_execution_time": "2030-01-01 13:00", "remaining_executions": 2}, InputError,
         "without a 'pattern' fires once"),
        ({"first_execution_time": "2030-01-01 12:00", "pattern": "* * * * *"}, InputError,
         "is not in the future"),
        ({"first_execution_time": "2029-12-31 23:00"}, InputError, "is not in the future"),
        ({"first_execution_time": "noon"}, InputError, "must look like 'YYYY-MM-DD HH:MM'"),
        ({"pattern": "* * * * *", "remaining_executions": 0}, InputError, "at least 1"),
        ({"pattern": "* * * * *", "remaining_executions": "two"}, InputError, "at least 1"),
        ({"pattern": "* * * * *", "name": ""}, InputError, "'name' is required"),
        ({"pattern": "* * * * *", "name": "n" * 201}, InputError, "'name' is longer than 200"),
        ({"pattern": "* * * * *", "workflow_input": {}}, InputError, "missing=\\['greeting'\\]"),
        ({"pattern": "* * * * *", "workflow_input": {"greeting": 1, "x": 2}}, InputError,
         "unexpected=\\['x'\\]"),
        ({"pattern": "* * * * *", "workflow_params": "x"}, InputError,
         "'workflow_params' must be a JSON object"),
        ({"pattern": "* * * * *", "scope": "shared"}, InputError, "Scope must be one of"),
        ({"pattern": "* * * * *", "workflow_name": None}, InputError,
         "needs 'workflow_id' or 'workflow_name'"),
        ({"pattern": "* * * * *", "workflow_name": "nope"}, NotFoundError, "Workflow not found \\[nope\\]"),
        ({"pattern": "* * * * *", "workflow_id": "123e4567-e89b-12d3-a456-426655440000"}, NotFoundError,
         "Workflow not found"),
    ],
)  # fmt: skip
def test_create_refuses(workflow: Any, values: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        _create(workflow, **values)
    assert db_api.list_cron_triggers() == []


def test_a_name_is_unique_per_project(workflow: Any) -> None:
    _create(workflow, pattern="* * * * *")
    with pytest.raises(DuplicateError):
        _create(workflow, pattern="0 * * * *")
    with context.using(context.Context(project_id="other")):
        definitions.create_workflows(WORKFLOW)
        _create(workflow, pattern="0 * * * *")
        assert [t.project_id for t in db_api.list_cron_triggers()] == ["other"]
    assert len(db_api.list_cron_triggers()) == 1


def test_get_and_delete_by_name_or_id(workflow: Any) -> None:
    trigger = _create(workflow, pattern="* * * * *")
    assert ct.get_cron_trigger("t").id == trigger.id
    assert ct.get_cron_trigger(trigger.id).name == "t"
    ct.delete_cron_trigger(trigger.id)
    with pytest.raises(NotFoundError, match="Cron trigger not found \\[t\\]"):
        ct.get_cron_trigger("t")
    _create(workflow, pattern="* * * * *")
    ct.delete_cron_trigger("t")
    assert db_api.list_cron_triggers() == []


def test_another_projects_trigger_is_invisible(workflow: Any) -> None:
    _create(workflow, pattern="* * * * *")
    with context.using(context.Context(project_id="other")), pytest.raises(NotFoundError):
        ct.get_cron_trigger("t")
