"""Sharing a private workflow with other projects."""

from __future__ import annotations

from mistral import config, context
from mistral.db import api as db_api
from mistral.db import models
from mistral.exceptions import InputError, NotAllowedError

STATUSES = ("pending", "accepted", "rejected")


def _check_enabled() -> None:
    if not config.CONF.pecan.auth_enable:
        raise InputError("Resource sharing feature can only be supported with authentication enabled.")


def _owned_workflow(resource_id: str) -> models.WorkflowDefinition:
    wf_def = db_api.get_workflow_definition(resource_id, None)
    if wf_def.project_id != context.current().project_id:
        raise NotAllowedError(f"Only the owner of workflow {resource_id} may share it")
    if wf_def.scope != "private":
        raise InputError(f"Only private workflows can be shared; {resource_id} is {wf_def.scope}")
    return wf_def


@db_api.retry_on_transient
def add_member(resource_id: str, resource_type: str, member_id: str) -> models.ResourceMember:
    _check_enabled()
    if not member_id:
        raise InputError("'member_id' is required")
    with db_api.transaction():
        _owned_workflow(resource_id)
        return db_api.create_resource_member(
            {
                "resource_id": resource_id,
                "resource_type": resource_type,
                "project_id": context.current().project_id,
                "member_id": member_id,
                "status": "pending",
            }
        )


@db_api.retry_on_transient
def update_status(resource_id: str, resource_type: str, member_id: str, status: str) -> models.ResourceMember:
    _check_enabled()
    if status not in STATUSES:
        raise InputError(f"Member status must be one of {', '.join(STATUSES)}, got '{status}'")
    if member_id != context.current().project_id:
        raise NotAllowedError("Only the member itself may accept or reject a share")
    return db_api.update_resource_member(resource_id, resource_type, member_id, {"status": status})


def list_members(resource_id: str, resource_type: str) -> list[models.ResourceMember]:
    _check_enabled()
    return db_api.list_resource_members(resource_id, resource_type)


def get_member(resource_id: str, resource_type: str, member_id: str) -> models.ResourceMember:
    _check_enabled()
    return db_api.get_resource_member(resource_id, resource_type, member_id)


@db_api.retry_on_transient
def delete_member(resource_id: str, resource_type: str, member_id: str) -> None:
    _check_enabled()
    with db_api.transaction():
        _owned_workflow(resource_id)
        db_api.delete_resource_member(resource_id, resource_type, member_id)
