"""Named queries of workflow definition history: the previous versions of one workflow.

A version is read through its workflow's id only: the caller looks the workflow up first,
with the usual scoping, so whoever may see a workflow sees its history and nobody else does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from mistral.db import models
from mistral.db.queries import common
from mistral.db.session import transaction

__all__ = [
    "add_workflow_version",
    "find_workflow_versions",
    "load_workflow_version",
    "delete_workflow_versions_before",
]


def add_workflow_version(values: Mapping[str, Any]) -> models.WorkflowVersion:
    """Keep a replaced definition; (workflow_id, version) is unique, and taken under the workflow's update."""
    return common.add(models.WorkflowVersion, values)


def find_workflow_versions(workflow_id: str) -> list[models.WorkflowVersion]:
    """The kept previous versions of a workflow, newest first."""
    model = models.WorkflowVersion
    stmt = sa.select(model).where(model.workflow_id == workflow_id).order_by(model.version.desc())
    with transaction(read_only=True) as session:
        return list(session.scalars(stmt))


def load_workflow_version(workflow_id: str, version: int) -> models.WorkflowVersion | None:
    model = models.WorkflowVersion
    stmt = sa.select(model).where(model.workflow_id == workflow_id, model.version == version)
    with transaction(read_only=True) as session:
        return session.scalars(stmt).first()


def delete_workflow_versions_before(workflow_id: str, version: int) -> int:
    """Forget the versions of a workflow older than ``version``; answers how many went."""
    model = models.WorkflowVersion
    stmt = sa.delete(model).where(model.workflow_id == workflow_id, model.version < version)
    with transaction() as session:
        return common.affected_rows(session, stmt)
