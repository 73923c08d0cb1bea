"""Creating, changing and deleting event triggers: what the API's 400s and 409s come from."""

from __future__ import annotations

from typing import Any

import pytest

from mistral import context
from mistral.db import api as db_api
from mistral.exceptions import DuplicateError, InputError, NotAllowedError, NotFoundError
from mistral.services import event_triggers

VALUES = {"exchange": "nova", "topic": "notifications", "event": "compute.instance.create.end"}


def _create(workflow: Any, **values: Any) -> Any:
    return event_triggers.create_event_trigger(
        {"name": "t", "workflow_id": workflow.id, "workflow_input": {"greeting": "hi"}, **VALUES, **values}
    )


def test_create_fills_defaults(workflow: Any) -> None:
    trigger = _create(workflow, name=None, workflow_params=None)
    assert trigger.name == "" and trigger.scope == "private" and trigger.workflow_params == {}
    assert trigger.project_id == context.DEFAULT_PROJECT_ID


def test_create_takes_a_workflow_name_and_keeps_its_id(workflow: Any) -> None:
    assert _create(workflow, workflow_id="on_event").workflow_id == workflow.id


@pytest.mark.parametrize("missing", ["exchange", "topic", "event", "workflow_id"])
def test_create_requires(workflow: Any, missing: str) -> None:
    with pytest.raises(InputError, match=f"'{missing}' is required"):
        _create(workflow, **{missing: None})


@pytest.mark.parametrize(
    ("values", "error", "message"),
    [
        ({"workflow_input": {}}, InputError, "missing=\\['greeting'\\]"),
        ({"workflow_input": {"greeting": 1, "x": 2}}, InputError, "unexpected=\\['x'\\]"),
        ({"workflow_params": "x"}, InputError, "'workflow_params' must be a JSON object"),
        ({"scope": "shared"}, InputError, "Scope must be one of"),
        ({"topic": "t" * 81}, InputError, "'topic' is longer than 80"),
        ({"workflow_id": "123e4567-e89b-12d3-a456-426655440000"}, NotFoundError, "Workflow not found"),
    ],
)
def test_create_refuses(workflow: Any, values: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        _create(workflow, **values)
    assert db_api.list_event_triggers() == []


def test_the_same_source_event_and_workflow_twice_is_a_duplicate(workflow: Any) -> None:
    _create(workflow)
    with pytest.raises(DuplicateError):
        _create(workflow, name="other")
    _create(workflow, event="compute.instance.delete.end")


def test_update_changes_what_may_change(workflow: Any) -> None:
    trigger = _create(workflow)
    updated = event_triggers.update_event_trigger(
        trigger.id,
        {
            "name": "renamed",
            "workflow_input": {"greeting": "yo"},
            "workflow_params": {"a": 1},
            "scope": "public",
        },
    )
    assert (updated.name, updated.workflow_input, updated.workflow_params, updated.scope) == (
        "renamed",
        {"greeting": "yo"},
        {"a": 1},
        "public",
    )
    assert event_triggers.update_event_trigger(trigger.id, dict(VALUES)).name == "renamed", "same values pass"


@pytest.mark.parametrize("field", ["exchange", "topic", "event", "workflow_id"])
def test_update_refuses_a_new_source(workflow: Any, field: str) -> None:
    trigger = _create(workflow)
    with pytest.raises(InputError, match=f"'{field}' can't be changed"):
        event_triggers.update_event_trigger(trigger.id, {field: "other"})


def test_update_checks_the_input(workflow: Any) -> None:
    trigger = _create(workflow)
    with pytest.raises(InputError, match="unexpected"):
        event_triggers.update_event_trigger(trigger.id, {"workflow_input": {"greeting": 1, "nope": 2}})


def test_another_project_can_neither_see_nor_change_a_private_trigger(workflow: Any) -> None:
    trigger = _create(workflow)
    with context.using(context.Context(project_id="other")):
        with pytest.raises(NotFoundError):
            event_triggers.delete_event_trigger(trigger.id)
    event_triggers.update_event_trigger(trigger.id, {"scope": "public"})
    with context.using(context.Context(project_id="other")):
        with pytest.raises(NotAllowedError):
            event_triggers.delete_event_trigger(trigger.id)
    event_triggers.delete_event_trigger(trigger.id)
    with pytest.raises(NotFoundError, match="Event trigger not found"):
        db_api.get_event_trigger(trigger.id)
