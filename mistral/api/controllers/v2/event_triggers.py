"""``/v2/event_triggers``: JSON bodies; addressed by id; exchange, topic and event are fixed once created."""

from __future__ import annotations

from typing import Any

from pecan import rest

from mistral.api import contract, listing, policy
from mistral.api.controllers.types import parse_json_object
from mistral.api.controllers.v2 import base
from mistral.api.controllers.v2.event_trigger_resources import EventTrigger
from mistral.api.errors import RequestError
from mistral.db import api as db_api
from mistral.services import event_triggers
from mistral.utils import uuids

FILTERS = (
    "id", "name", "workflow_id", "workflow_input", "workflow_params", "exchange", "topic", "event",
    "scope", "created_at", "updated_at",
)  # fmt: skip
#: Every resource field may be sent back (a GET answer edited and PUT again); the server sets these.
READ_ONLY = ("id", "project_id", "created_at", "updated_at")


def _values() -> dict[str, Any]:
    body = base.json_body(EventTrigger.field_names())
    wf_id = body.get("workflow_id")
    if wf_id is not None and not uuids.is_uuid_like(wf_id):
        # NOTE: Mistral types the field as a uuid: a name or anything else is bad input, not a 404.
        raise RequestError(
            f"Invalid input for field/attribute workflow_id. Value: '{wf_id}'. "
            f"Expected a uuid but received {wf_id}."
        )
    for name in ("workflow_input", "workflow_params"):
        if name in body:
            body[name] = parse_json_object(body[name], name)
    return body


def _render(trigger: Any, fields: list[str] | None = None) -> dict[str, Any]:
    return EventTrigger.from_model(trigger, fields).to_json()


class EventTriggersController(rest.RestController):
    @contract.expose(
        "List event triggers",
        query=contract.list_query(FILTERS),
        returns=contract.ListOf("event_triggers", contract.One(EventTrigger), paged=True),
    )
    def get_all(self, **params: Any) -> dict[str, Any]:
        policy.enforce("event_triggers:list", all_projects=params.get("all_projects"))
        q, fields = listing.parse(params, EventTrigger, FILTERS)
        triggers = db_api.list_event_triggers(q)
        return listing.envelope("event_triggers", triggers, q, fields, params, lambda t: _render(t, fields))

    @contract.expose("Get an event trigger", query=(contract.FIELDS,), returns=EventTrigger)
    def get_one(self, trigger_id: str, **params: Any) -> dict[str, Any]:
        policy.enforce("event_triggers:get")
        fields = EventTrigger.check_fields(listing.csv(params.get("fields")))
        return _render(db_api.get_event_trigger(trigger_id), fields)

    @contract.expose(
        "Create an event trigger", status=201, body=contract.Body(EventTrigger), returns=EventTrigger
    )
    def post(self, **params: Any) -> dict[str, Any]:
        policy.enforce("event_triggers:create", scope=policy.body_scope())
        values = {k: v for k, v in _values().items() if k not in READ_ONLY}
        return _render(event_triggers.create_event_trigger(values))

    @contract.expose("Update an event trigger", body=contract.Body(EventTrigger), returns=EventTrigger)
    def put(self, trigger_id: str, **params: Any) -> dict[str, Any]:
        policy.enforce("event_triggers:update", scope=policy.body_scope())
        values = _values()
        if values.get("id") not in (None, trigger_id):
            raise RequestError(f"The body's id {values['id']} is not the id in the path {trigger_id}")
        values = {k: v for k, v in values.items() if k not in READ_ONLY}
        return _render(event_triggers.update_event_trigger(trigger_id, values))

    @contract.expose("Delete an event trigger", status=204)
    def delete(self, trigger_id: str, **params: Any) -> None:
        policy.enforce("event_triggers:delete")
        event_triggers.delete_event_trigger(trigger_id)
