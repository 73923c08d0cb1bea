"""``/v2/cron_triggers``: JSON bodies; addressed by name or id; no PUT (delete and create again)."""

from __future__ import annotations

from typing import Any

from pecan import rest

from mistral.api import contract, listing, policy
from mistral.api.controllers.types import parse_json_object
from mistral.api.controllers.v2 import base
from mistral.api.controllers.v2.trigger_resources import CronTrigger
from mistral.db import api as db_api
from mistral.services import cron_triggers

FILTERS = (
    "id", "name", "workflow_name", "workflow_id", "workflow_input", "workflow_params", "scope", "pattern",
    "remaining_executions", "first_execution_time", "next_execution_time", "created_at", "updated_at",
)  # fmt: skip
#: Every resource field may be sent (a GET answer posted again); the server sets these.
READ_ONLY = ("id", "project_id", "created_at", "updated_at", "next_execution_time")


def _values() -> dict[str, Any]:
    body = base.json_body(CronTrigger.field_names())
    for name in ("workflow_input", "workflow_params"):
        if name in body:
            body[name] = parse_json_object(body[name], name)
    return {k: v for k, v in body.items() if k not in READ_ONLY}


def _render(trigger: Any, fields: list[str] | None = None) -> dict[str, Any]:
    return CronTrigger.from_model(trigger, fields).to_json()


class CronTriggersController(rest.RestController):
    @contract.expose(
        "List cron triggers",
        query=contract.list_query(FILTERS),
        returns=contract.ListOf("cron_triggers", contract.One(CronTrigger), paged=True),
    )
    def get_all(self, **params: Any) -> dict[str, Any]:
        policy.enforce("cron_triggers:list", all_projects=params.get("all_projects"))
        q, fields = listing.parse(params, CronTrigger, FILTERS)
        triggers = db_api.list_cron_triggers(q)
        return listing.envelope("cron_triggers", triggers, q, fields, params, lambda t: _render(t, fields))

    @contract.expose("Get a cron trigger by name or id", query=(contract.FIELDS,), returns=CronTrigger)
    def get_one(self, identifier: str, **params: Any) -> dict[str, Any]:
        policy.enforce("cron_triggers:get")
        fields = CronTrigger.check_fields(listing.csv(params.get("fields")))
        return _render(cron_triggers.get_cron_trigger(identifier), fields)

    @contract.expose(
        "Create a cron trigger", status=201, body=contract.Body(CronTrigger), returns=CronTrigger
    )
    def post(self, **params: Any) -> dict[str, Any]:
        policy.enforce("cron_triggers:create", scope=policy.body_scope())
        return _render(cron_triggers.create_cron_trigger(_values()))

    @contract.expose("Delete a cron trigger", status=204)
    def delete(self, identifier: str, **params: Any) -> None:
        policy.enforce("cron_triggers:delete")
        cron_triggers.delete_cron_trigger(identifier)
