"""``/v2/dynamic_actions``: actions that run a class of a code source (JSON bodies).

As in Mistral 23, PUT names the action in the body (``id`` or ``name``), and every
operation is admin-only by default.
"""

from __future__ import annotations

from typing import Any

from pecan import rest

from mistral.api import contract, listing, policy
from mistral.api.controllers.v2 import base
from mistral.api.controllers.v2.code_resources import DynamicAction
from mistral.db import api as db_api
from mistral.services import code_sources

FILTERS = ("name", "namespace", "class_name", "code_source_name", "scope", "project_id", "created_at",
           "updated_at")  # fmt: skip
BODY_KEYS = ("id", "name", "namespace", "class_name", "code_source_id", "code_source_name", "scope")
BODY = contract.Body(DynamicAction, only=BODY_KEYS)


def _json(obj: Any, fields: list[str] | None = None) -> dict[str, Any]:
    return DynamicAction.from_model(obj, fields).to_json()


class DynamicActionsController(rest.RestController):
    @contract.expose(
        "List dynamic actions",
        query=contract.list_query(FILTERS),
        returns=contract.ListOf("dynamic_actions", contract.One(DynamicAction), paged=True),
    )
    def get_all(self, **params: Any) -> dict[str, Any]:
        policy.enforce("dynamic_actions:list", all_projects=params.get("all_projects"))
        q, fields = listing.parse(params, DynamicAction, FILTERS)
        return listing.envelope(
            "dynamic_actions",
            db_api.list_dynamic_action_definitions(q),
            q,
            fields,
            params,
            lambda obj: _json(obj, fields),
        )

    @contract.expose(
        "Get a dynamic action by name or id",
        query=(contract.NAMESPACE, contract.FIELDS),
        returns=DynamicAction,
    )
    def get_one(self, identifier: str, **params: Any) -> dict[str, Any]:
        policy.enforce("dynamic_actions:get")
        fields = DynamicAction.check_fields(listing.csv(params.get("fields")))
        return _json(db_api.get_dynamic_action_definition(identifier, params.get("namespace", "")), fields)

    @contract.expose("Create a dynamic action", status=201, body=BODY, returns=DynamicAction)
    def post(self, **params: Any) -> dict[str, Any]:
        policy.enforce("dynamic_actions:create", scope=policy.body_scope())
        return _json(code_sources.create_dynamic_action(base.json_body(BODY_KEYS)))

    @contract.expose("Update a dynamic action (named in the body)", body=BODY, returns=DynamicAction)
    def put(self, **params: Any) -> dict[str, Any]:
        policy.enforce("dynamic_actions:update", scope=policy.body_scope())
        return _json(code_sources.update_dynamic_action(base.json_body(BODY_KEYS)))

    @contract.expose("Delete a dynamic action", status=204, query=(contract.NAMESPACE,))
    def delete(self, identifier: str, **params: Any) -> None:
        policy.enforce("dynamic_actions:delete")
        code_sources.delete_dynamic_action(identifier, params.get("namespace", ""))
