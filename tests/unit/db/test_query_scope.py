"""A kept statement scoped by a bind parameter sees what ``query.scoped`` sees, for every caller."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mistral import context
from mistral.db import api as db_api
from mistral.db import models, query
from mistral.db.session import transaction
from tests.unit.api import rows

pytestmark = pytest.mark.usefixtures("db")

CALLERS = ["me", "them", "nobody"]


def _definition(name: str, scope: str = "private") -> str:
    values = {"name": name, "definition": f"{name}: {{}}", "spec": {}, "tags": [], "scope": scope}
    return db_api.create_workflow_definition(values).id


def _seen(model: type[models.Base], by_param: bool) -> set[str]:
    select = sa.select(model.id)
    with transaction(read_only=True) as session:
        if by_param:
            return set(session.scalars(query.scoped_by_param(select, model), query.caller_scope()))
        return set(session.scalars(query.scoped(select, model)))


@pytest.mark.parametrize("caller", CALLERS)
def test_workflow_definitions_own_public_and_shared_with_the_caller(caller: str) -> None:
    with context.using(context.Context(project_id="me")):
        mine = _definition("mine")
    with context.using(context.Context(project_id="them")):
        theirs = _definition("theirs")
        public = _definition("public", scope="public")
        shared = _definition("shared")
        pending = _definition("pending")
        for resource_id, status in ((shared, "accepted"), (pending, "pending")):
            db_api.create_resource_member(
                {
                    "resource_id": resource_id,
                    "resource_type": "workflow",
                    "project_id": "them",
                    "member_id": "me",
                    "status": status,
                }
            )
    expected = {"me": {mine, public, shared}, "them": {theirs, public, shared, pending}, "nobody": {public}}
    with context.using(context.Context(project_id=caller)):
        seen = _seen(models.WorkflowDefinition, by_param=True)
        assert seen == _seen(models.WorkflowDefinition, by_param=False)
    assert seen == expected[caller]


@pytest.mark.parametrize("caller", CALLERS)
def test_executions_of_the_callers_project_only(caller: str) -> None:
    owned: dict[str, str] = {}
    for project in ("me", "them"):
        with context.using(context.Context(project_id=project)):
            owned[project] = rows.wf_ex().id
    with context.using(context.Context(project_id=caller)):
        seen = _seen(models.WorkflowExecution, by_param=True)
        assert seen == _seen(models.WorkflowExecution, by_param=False)
    assert seen == ({owned[caller]} if caller in owned else set())
