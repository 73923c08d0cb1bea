"""``/v2/workflows/{id}/members``: sharing a private workflow with other projects."""

from __future__ import annotations

from typing import Any

from pecan import rest

from mistral import context
from mistral.api import contract, policy
from mistral.api.controllers.v2 import base, resources
from mistral.services import members


def _render(obj: Any) -> dict[str, Any]:
    return resources.Member.from_model(obj).to_json()


class MembersController(rest.RestController):
    def __init__(self, resource_type: str) -> None:
        self.resource_type = resource_type

    @contract.expose(
        "List the projects a workflow is shared with",
        returns=contract.ListOf("members", contract.One(resources.Member)),
    )
    def get_all(self, resource_id: str, **params: Any) -> dict[str, Any]:
        policy.enforce("members:list")
        return {"members": [_render(m) for m in members.list_members(resource_id, self.resource_type)]}

    @contract.expose("Get one project's membership", returns=resources.Member)
    def get_one(self, resource_id: str, member_id: str, **params: Any) -> dict[str, Any]:
        policy.enforce("members:get")
        return _render(members.get_member(resource_id, self.resource_type, member_id))

    @contract.expose(
        "Share a workflow with a project",
        status=201,
        body=contract.Body(resources.Member, only=("member_id",)),
        returns=resources.Member,
    )
    def post(self, resource_id: str, **params: Any) -> dict[str, Any]:
        policy.enforce("members:create")
        body = base.json_body(("member_id",))
        return _render(members.add_member(resource_id, self.resource_type, body.get("member_id", "")))

    @contract.expose(
        "Accept or reject a shared workflow",
        body=contract.Body(resources.Member, only=("status", "member_id")),
        returns=resources.Member,
    )
    def put(self, resource_id: str, member_id: str | None = None, **params: Any) -> dict[str, Any]:
        policy.enforce("members:update")
        body = base.json_body(("status", "member_id"))
        member = member_id or body.get("member_id") or context.current().project_id
        return _render(
            members.update_status(resource_id, self.resource_type, member, body.get("status", "accepted"))
        )

    @contract.expose("Stop sharing a workflow with a project", status=204)
    def delete(self, resource_id: str, member_id: str, **params: Any) -> None:
        policy.enforce("members:delete")
        members.delete_member(resource_id, self.resource_type, member_id)
