"""``/v2/environments``: JSON bodies; the name is in the body for PUT."""

from __future__ import annotations

from typing import Any

from pecan import rest

from mistral.api import contract, listing, policy
from mistral.api.controllers.types import parse_json_object
from mistral.api.controllers.v2 import base, resources
from mistral.db import api as db_api
from mistral.services import environments

FILTERS = ("name", "description", "variables", "scope", "created_at", "updated_at")
BODY_KEYS = ("name", "description", "variables", "scope")
BODY = contract.Body(resources.Environment, only=BODY_KEYS)


def _values() -> dict[str, Any]:
    body = base.json_body(BODY_KEYS)
    if "variables" in body:
        body["variables"] = parse_json_object(body["variables"], "variables")
    return body


class EnvironmentsController(rest.RestController):
    @contract.expose(
        "List environments",
        query=contract.list_query(FILTERS),
        returns=contract.ListOf("environments", contract.One(resources.Environment), paged=True),
    )
    def get_all(self, **params: Any) -> dict[str, Any]:
        policy.enforce("environments:list", all_projects=params.get("all_projects"))
        q, fields = listing.parse(params, resources.Environment, FILTERS)
        return listing.envelope(
            "environments",
            db_api.list_environments(q),
            q,
            fields,
            params,
            lambda obj: resources.Environment.from_model(obj, fields).to_json(),
        )

    @contract.expose("Get an environment by name", query=(contract.FIELDS,), returns=resources.Environment)
    def get_one(self, name: str, **params: Any) -> dict[str, Any]:
        policy.enforce("environments:get")
        fields = resources.Environment.check_fields(listing.csv(params.get("fields")))
        return resources.Environment.from_model(db_api.get_environment(name), fields).to_json()

    @contract.expose("Create an environment", status=201, body=BODY, returns=resources.Environment)
    def post(self, **params: Any) -> dict[str, Any]:
        policy.enforce("environments:create", scope=policy.body_scope())
        env = environments.create_environment(_values())
        return resources.Environment.from_model(env).to_json()

    @contract.expose("Update an environment (named in the body)", body=BODY, returns=resources.Environment)
    def put(self, **params: Any) -> dict[str, Any]:
        policy.enforce("environments:update", scope=policy.body_scope())
        env = environments.update_environment(_values())
        return resources.Environment.from_model(env).to_json()

    @contract.expose("Delete an environment", status=204)
    def delete(self, name: str, **params: Any) -> None:
        policy.enforce("environments:delete")
        environments.delete_environment(name)
