"""Use cases for event triggers: start a workflow when a matching notification arrives.

The API creates, changes and deletes the rows; the event engine
(``mistral.event_engine``) reads them. Bad input is an ``InputError`` (400).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mistral import context
from mistral.db import api as db_api
from mistral.db import models
from mistral.exceptions import InputError
from mistral.lang import stored
from mistral.services import trusts
from mistral.services.definitions import check_scope
from mistral.utils.inputs import checked_workflow_input

#: Where a notification comes from and which event types it takes: fixed once created.
IMMUTABLE = ("exchange", "topic", "event", "workflow_id")
#: What ``PUT /v2/event_triggers/{id}`` may change.
MUTABLE = ("name", "workflow_input", "workflow_params", "scope")
#: Column sizes of event_triggers_v2, checked so a long value is a 400 and not a database error.
MAX_LENGTH = {"name": 200, "exchange": 80, "topic": 80, "event": 80}


def _text(values: Mapping[str, Any], name: str, *, required: bool) -> None:
    value = values.get(name)
    if value is None and not required:
        return
    if not isinstance(value, str) or (required and not value.strip()):
        raise InputError(f"Event trigger '{name}' is required and must be a non-empty string")
    if name in MAX_LENGTH and len(value) > MAX_LENGTH[name]:
        raise InputError(f"Event trigger '{name}' is longer than {MAX_LENGTH[name]} characters")


def _object(values: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = values.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(f"Event trigger '{name}' must be a JSON object, got {type(value).__name__}")
    return value


def _check_input(wf_def: models.WorkflowDefinition, wf_input: dict[str, Any]) -> None:
    spec = stored.workflow_spec(wf_def.name, wf_def.spec or {}, wf_def.workbook_name)
    checked_workflow_input(spec.name, spec.input, wf_input)


@db_api.retry_on_transient
def create_event_trigger(values: Mapping[str, Any]) -> models.EventTrigger:
    """Create the trigger, with a Keystone trust from the caller when authentication is on."""
    with trusts.Delegation(context.current()) as delegation:
        return _create_event_trigger(values, delegation)


def _create_event_trigger(values: Mapping[str, Any], delegation: trusts.Delegation) -> models.EventTrigger:
    for name in ("exchange", "topic", "event", "workflow_id"):
        _text(values, name, required=True)
    _text(values, "name", required=False)
    # NOTE: an id, or a name in the default namespace; the trigger keeps the id.
    wf_def = db_api.get_workflow_definition(values["workflow_id"])
    wf_input = _object(values, "workflow_input")
    _check_input(wf_def, wf_input)
    return db_api.create_event_trigger(
        {
            "name": values.get("name") or "",
            "workflow_id": wf_def.id,
            "workflow_input": wf_input,
            "workflow_params": _object(values, "workflow_params"),
            "exchange": values["exchange"],
            "topic": values["topic"],
            "event": values["event"],
            "scope": check_scope(values.get("scope") or "private"),
            # NOTE: made only now that the input is known to be good, so a 400 leaves no trust behind.
            "trust_id": delegation.trust_id(),
        }
    )


@db_api.retry_on_transient
def update_event_trigger(trigger_id: str, values: Mapping[str, Any]) -> models.EventTrigger:
    """Change what may change; naming an immutable field with another value is a 400 naming it."""
    trigger = db_api.get_event_trigger(trigger_id)
    for name in IMMUTABLE:
        if name in values and values[name] != getattr(trigger, name):
            raise InputError(f"The event trigger's '{name}' can't be changed; delete it and create a new one")
    changes = {k: values[k] for k in MUTABLE if k in values}
    if "name" in changes:
        _text(changes, "name", required=False)
        changes["name"] = changes["name"] or ""
    for name in ("workflow_input", "workflow_params"):
        if name in changes:
            changes[name] = _object(changes, name)
    if "scope" in changes:
        changes["scope"] = check_scope(changes["scope"] or "private")
    if "workflow_input" in changes:
        _check_input(db_api.get_workflow_definition(trigger.workflow_id, None), changes["workflow_input"])
    if not changes:
        return trigger
    return db_api.update_event_trigger(trigger_id, changes)


@db_api.retry_on_transient
def delete_event_trigger(trigger_id: str) -> None:
    """Delete the trigger, then its trust (a trust already gone does not fail the delete)."""
    trust_id = db_api.get_event_trigger(trigger_id).trust_id
    db_api.delete_event_trigger(trigger_id)
    trusts.delete_trust(trust_id)
