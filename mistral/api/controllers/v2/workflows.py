"""``/v2/workflows``."""

from __future__ import annotations

from typing import Any

from pecan import rest

from mistral.api import contract, listing, policy
from mistral.api.controllers.v2 import base, members, resources, workflow_versions
from mistral.db import api as db_api
from mistral.services import definitions

FILTERS = (
    "name", "namespace", "input", "definition", "tags", "scope", "created_at", "updated_at", "checksum",
    "version",
)  # fmt: skip

PLAIN = contract.One(resources.Workflow, plain=True)
PLAIN_LIST = contract.ListOf("workflows", PLAIN)


def _plain(obj: Any) -> dict[str, Any]:
    return resources.Workflow.from_model(obj).to_plain()


class WorkflowsController(rest.RestController):
    validate = base.ValidateController("workflow")
    members = members.MembersController("workflow")
    versions = workflow_versions.WorkflowVersionsController()

    @contract.expose(
        "List workflows",
        query=contract.list_query(FILTERS),
        returns=contract.ListOf("workflows", contract.One(resources.Workflow), paged=True),
    )
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

    @contract.expose(
        "Get a workflow by name or id",
        query=(contract.NAMESPACE, contract.FIELDS),
        returns=resources.Workflow,
    )
    def get_one(self, identifier: str, **params: Any) -> dict[str, Any]:
        policy.enforce("workflows:get")
        fields = resources.Workflow.check_fields(listing.csv(params.get("fields")))
        wf_def = db_api.get_workflow_definition(identifier, params.get("namespace", ""))
        return resources.Workflow.from_model(wf_def, fields).to_json()

    @contract.expose(
        "Create the workflows of a YAML document",
        status=201,
        query=contract.DEFINITION_QUERY,
        body=contract.Text("workflow"),
        returns=PLAIN_LIST,
    )
    def post(self, **params: Any) -> dict[str, Any]:
        policy.enforce("workflows:create", scope=params.get("scope"))
        created = definitions.create_workflows(
            base.text_body(),
            scope=params.get("scope", "private"),
            namespace=params.get("namespace", ""),
            skip_validation=base.flag(params, "skip_validation"),
        )
        return {"workflows": [_plain(obj) for obj in created]}

    @contract.expose(
        "Update the workflows of a YAML document, or the one named",
        query=contract.DEFINITION_QUERY,
        body=contract.Text("workflow"),
        returns=contract.OneOf((PLAIN_LIST, PLAIN)),
    )
    def put(self, identifier: str | None = None, **params: Any) -> dict[str, Any]:
        policy.enforce("workflows:update", scope=params.get("scope"))
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

    @contract.expose("Delete a workflow", status=204, query=(contract.NAMESPACE,))
    def delete(self, identifier: str, **params: Any) -> None:
        policy.enforce("workflows:delete")
        definitions.delete_workflow(identifier, params.get("namespace", ""))
