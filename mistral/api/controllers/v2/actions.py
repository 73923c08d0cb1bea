"""``/v2/actions``: system actions and ad-hoc actions together."""

from __future__ import annotations

from typing import Any

import pecan
from pecan import rest

from mistral.api import contract, listing, policy, route_faults
from mistral.api.controllers.v2 import base, resources
from mistral.api.errors import RequestError
from mistral.db import api as db_api
from mistral.services import actions, definitions

FILTERS = (
    "name", "scope", "tags", "description", "definition", "is_system", "input", "namespace",
    "created_at", "updated_at",
)  # fmt: skip

PLAIN_LIST = contract.ListOf("actions", contract.One(resources.Action, plain=True))


def _plain(obj: Any) -> dict[str, Any]:
    return resources.Action.from_model(obj).to_plain()


def _namespace(path_parts: tuple[str, ...], params: dict[str, Any]) -> str:
    """The namespace from ``/actions/{name}/{namespace}`` or from ``?namespace=``."""
    if len(path_parts) > 1:
        raise RequestError(route_faults.no_route_message(pecan.request.path), status=404)
    return path_parts[0] if path_parts else params.get("namespace", "")


class ActionsController(rest.RestController):
    validate = base.ValidateController("action")

    @contract.expose(
        "List actions, system and ad-hoc",
        query=contract.list_query(FILTERS),
        returns=contract.ListOf("actions", contract.One(resources.Action), paged=True),
    )
    def get_all(self, **params: Any) -> dict[str, Any]:
        policy.enforce("actions:list", all_projects=params.get("all_projects"))
        # NOTE: Mistral lists every system action in one page (mistral-extra alone brings some 1200);
        # the page still holds at most [api] max_limit of the actions users create.
        q, fields = listing.parse(
            params,
            resources.Action,
            FILTERS,
            default_sort="name",
            beyond_max_limit=actions.system_action_count(),
        )
        return listing.envelope(
            "actions",
            db_api.list_action_definitions(q),
            q,
            fields,
            params,
            lambda obj: resources.Action.from_model(obj, fields).to_json(),
        )

    @contract.expose(
        "Get an action by name or id", query=(contract.NAMESPACE, contract.FIELDS), returns=resources.Action
    )
    def get_one(self, identifier: str, *namespace: str, **params: Any) -> dict[str, Any]:
        policy.enforce("actions:get")
        fields = resources.Action.check_fields(listing.csv(params.get("fields")))
        action = db_api.get_action_definition(identifier, _namespace(namespace, params))
        return resources.Action.from_model(action, fields).to_json()

    @contract.expose(
        "Create the ad-hoc actions of a YAML document",
        status=201,
        query=contract.DEFINITION_QUERY,
        body=contract.Text("action"),
        returns=PLAIN_LIST,
    )
    def post(self, **params: Any) -> dict[str, Any]:
        policy.enforce("actions:create", scope=params.get("scope"))
        created = definitions.create_actions(
            base.text_body(),
            scope=params.get("scope", "private"),
            namespace=params.get("namespace", ""),
            skip_validation=base.flag(params, "skip_validation"),
        )
        return {"actions": [_plain(obj) for obj in created]}

    @contract.expose(
        "Update the ad-hoc actions of a YAML document",
        query=contract.DEFINITION_QUERY,
        body=contract.Text("action"),
        returns=PLAIN_LIST,
    )
    def put(self, identifier: str | None = None, **params: Any) -> dict[str, Any]:
        policy.enforce("actions:update", scope=params.get("scope"))
        updated = definitions.update_actions(
            base.text_body(),
            scope=params.get("scope", "private"),
            namespace=params.get("namespace", ""),
            identifier=identifier,
            skip_validation=base.flag(params, "skip_validation"),
        )
        return {"actions": [_plain(obj) for obj in updated]}

    @contract.expose("Delete an ad-hoc action", status=204, query=(contract.NAMESPACE,))
    def delete(self, identifier: str, *namespace: str, **params: Any) -> None:
        policy.enforce("actions:delete")
        definitions.delete_action(identifier, _namespace(namespace, params))
