"""``/v2/workflows/{id}/versions``: a workflow's current and previous definitions (not in Mistral)."""

from __future__ import annotations

import types
from typing import Any

from pecan import rest

from mistral.api import contract, policy
from mistral.api.controllers.v2 import resources
from mistral.db import api as db_api
from mistral.services import workflow_versions
from mistral.services.workflow_versions import Version


def _render(version: Version) -> dict[str, Any]:
    wf_def = version.workflow
    row = types.SimpleNamespace(
        workflow_id=wf_def.id,
        workflow_name=wf_def.name,
        namespace=wf_def.namespace,
        version=version.number,
        current=version.current,
        definition=version.definition,
        checksum=version.checksum,
        project_id=wf_def.project_id,
        created_at=version.created_at,
    )
    return resources.WorkflowVersion.from_model(row).to_json()


class WorkflowVersionsController(rest.RestController):
    """The workflow is looked up as ``GET /v2/workflows/{id}`` looks it up: who sees it sees its history."""

    @contract.expose(
        "List a workflow's definitions, newest (its current one) first",
        query=(contract.NAMESPACE,),
        returns=contract.ListOf("versions", contract.One(resources.WorkflowVersion)),
    )
    def get_all(self, identifier: str, **params: Any) -> dict[str, Any]:
        policy.enforce("workflow_versions:list")
        wf_def = db_api.get_workflow_definition(identifier, params.get("namespace", ""))
        return {"versions": [_render(v) for v in workflow_versions.versions_of(wf_def)]}

    @contract.expose(
        "Get one definition of a workflow by its number",
        query=(contract.NAMESPACE,),
        returns=resources.WorkflowVersion,
    )
    def get_one(self, identifier: str, number: str, **params: Any) -> dict[str, Any]:
        policy.enforce("workflow_versions:get")
        wf_def = db_api.get_workflow_definition(identifier, params.get("namespace", ""))
        return _render(workflow_versions.version_of(wf_def, number))
