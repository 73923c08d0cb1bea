"""``/v2/actions``: system actions and ad-hoc actions together."""

from __future__ import annotations

from typing import Any

from pecan import rest

from mistral.api import errors, listing, policy
from mistral.api.controllers.v2 import base, resources
from mistral.db import api as db_api
from mistral.services import definitions

FILTERS = (
    "name", "scope", "tags", "description", "definition", "is_system", "input", "namespace",
    "created_at", "updated_at",
)  # fmt: skip


def _plain(obj: Any) -> dict[str, Any]:
    return resources.Action.from_model(obj).to_plain()


def _namespace(path_parts: tuple[str, ...], params: dict[str, Any]) -> str:
    """The namespace from ``/actions/{name}/{namespace}`` or from ``?namespace=``."""
    return path_parts[0] if path_parts else params.get("namespace", "")


class ActionsController(rest.RestController):
    validate = base.ValidateController("action")

    @errors.endpoint()
    def get_all(self, **params: Any) -> dict[str, Any]:
        policy.enforce("actions:list", all_projects=params.get("all_projects"))
        q, fields = listing.parse(params, resources.Action, FILTERS, default_sort="name")
        return listing.envelope(
            "actions",
            db_api.list_action_definitions(q),
            q,
            fields,
            params,
            lambda obj: resources.Action.from_model(obj, fields).to_json(),
        )

    @errors.endpoint()
    def get_one(self, identifier: str, *namespace: str, **params: Any) -> dict[str, Any]:
        policy.enforce("actions:get")
        base.only(("namespace", "fields"))
        fields = resources.Action.check_fields(listing.csv(params.get("fields")))
        action = db_api.get_action_definition(identifier, _namespace(namespace, params))
        return resources.Action.from_model(action, fields).to_json()

    @errors.endpoint(status=201)
    def post(self, **params: Any) -> dict[str, Any]:
        policy.enforce("actions:create", scope=params.get("scope"))
        base.only(("namespace", "scope", "skip_validation"))
        created = definitions.create_actions(
            base.text_body(),
            scope=params.get("scope", "private"),
            namespace=params.get("namespace", ""),
            skip_validation=base.flag(params, "skip_validation"),
        )
        return {"actions": [_plain(obj) for obj in created]}

    @errors.endpoint()
    def put(self, identifier: str | None = None, **params: Any) -> dict[str, Any]:
        policy.enforce("actions:update", scope=params.get("scope"))
        base.only(("namespace", "scope", "skip_validation"))
        updated = definitions.update_actions(
            base.text_body(),
            scope=params.get("scope", "private"),
            namespace=params.get("namespace", ""),
            identifier=identifier,
            skip_validation=base.flag(params, "skip_validation"),
        )
        return {"actions": [_plain(obj) for obj in updated]}

    @errors.endpoint(status=204)
    def delete(self, identifier: str, *namespace: str, **params: Any) -> None:
        policy.enforce("actions:delete")
        base.only(("namespace",))
        definitions.delete_action(identifier, _namespace(namespace, params))
