"""``/v2/workflows``."""

from __future__ import annotations

from typing import Any

from pecan import rest

from mistral.api import errors, listing, policy
from mistral.api.controllers.v2 import base, members, resources
from mistral.db import api as db_api
from mistral.services import definitions

FILTERS = (
    "name", "namespace", "input", "definition", "tags", "scope", "created_at", "updated_at", "checksum",
)  # fmt: skip


def _plain(obj: Any) -> dict[str, Any]:
    return resources.Workflow.from_model(obj).to_plain()


class WorkflowsController(rest.RestController):
    validate = base.ValidateController("workflow")
    members = members.MembersController("workflow")

    @errors.endpoint()
    def get_all(self, **params: Any) -> dict[str, Any]:
        policy.enforce("workflows:list", all_projects=params.get("all_projects"))
        q, fields = listing.parse(params, resources.Workflow, FILTERS)
        return listing.envelope(
            "workflows",
            db_api.list_workflow_definitions(q),
            q,
            fields,
            params,
            lambda obj: resources.Workflow.from_model(obj, fields).to_json(),
        )

    @errors.endpoint()
    def get_one(self, identifier: str, **params: Any) -> dict[str, Any]:
        policy.enforce("workflows:get")
        base.only(("namespace", "fields"))
        fields = resources.Workflow.check_fields(listing.csv(params.get("fields")))
        wf_def = db_api.get_workflow_definition(identifier, params.get("namespace", ""))
        return resources.Workflow.from_model(wf_def, fields).to_json()

    @errors.endpoint(status=201)
    def post(self, **params: Any) -> dict[str, Any]:
        policy.enforce("workflows:create", scope=params.get("scope"))
        base.only(("namespace", "scope", "skip_validation"))
        created = definitions.create_workflows(
            base.text_body(),
            scope=params.get("scope", "private"),
            namespace=params.get("namespace", ""),
            skip_validation=base.flag(params, "skip_validation"),
        )
        return {"workflows": [_plain(obj) for obj in created]}

    @errors.endpoint()
    def put(self, identifier: str | None = None, **params: Any) -> dict[str, Any]:
        policy.enforce("workflows:update", scope=params.get("scope"))
        base.only(("namespace", "scope", "skip_validation"))
        updated = definitions.update_workflows(
            base.text_body(),
            scope=params.get("scope", "private"),
            namespace=params.get("namespace", ""),
            identifier=identifier,
            skip_validation=base.flag(params, "skip_validation"),
        )
        if identifier is not None:
            return _plain(updated[0])
        return {"workflows": [_plain(obj) for obj in updated]}

    @errors.endpoint(status=204)
    def delete(self, identifier: str, **params: Any) -> None:
        policy.enforce("workflows:delete")
        base.only(("namespace",))
        definitions.delete_workflow(identifier, params.get("namespace", ""))
