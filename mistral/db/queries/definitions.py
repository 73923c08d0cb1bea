"""Named queries of the definitions: workbooks, workflows, actions, environments, members."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from mistral import context
from mistral.db import models, query
from mistral.db.queries import common
from mistral.db.queries.named_locks import hold_named_lock
from mistral.db.query import ListQuery
from mistral.db.session import transaction
from mistral.exceptions import NotFoundError

# -- workbooks -----------------------------------------------------------


def create_workbook(values: Mapping[str, Any]) -> models.Workbook:
    return common.create(models.Workbook, values, values["name"])


def get_workbook(name: str, namespace: str = "") -> models.Workbook:
    return common.get(models.Workbook, name, namespace)


def list_workbooks(q: ListQuery | None = None) -> list[models.Workbook]:
    return common.find_all(models.Workbook, q or ListQuery())


def update_workbook(name: str, values: Mapping[str, Any], namespace: str = "") -> models.Workbook:
    return common.update(get_workbook(name, namespace), values)


def delete_workbook(name: str, namespace: str = "") -> None:
    common.delete(get_workbook(name, namespace))


# -- workflow definitions -----------------------------------------------


def create_workflow_definition(values: Mapping[str, Any]) -> models.WorkflowDefinition:
    return common.create(
        models.WorkflowDefinition, values, f"{values['name']} (namespace={values.get('namespace', '')})"
    )


def get_workflow_definition(identifier: str, namespace: str | None = "") -> models.WorkflowDefinition:
    return common.get(models.WorkflowDefinition, identifier, namespace)


def load_workflow_definition(identifier: str, namespace: str | None = "") -> models.WorkflowDefinition | None:
    model = models.WorkflowDefinition
    stmt = _workflow_definition_statement(
        identifier, namespace, context.current().project_id, query.sees_everything(model)
    )
    with transaction(read_only=True) as session:
        return session.scalars(stmt).first()


@functools.lru_cache(maxsize=128)
def _workflow_definition_statement(
    identifier: str, namespace: str | None, project_id: str, sees_everything: bool
) -> sa.Select:
    """The statement ``common.first`` builds for this lookup by this caller, built once.

    NOTE: every start of an execution looks its workflow up. SQLAlchemy computes a statement's
    cache key once per statement object, so a new one per lookup cost more than running it
    (0.9 -> 0.4 ms a lookup). Its arguments are everything the statement depends on: the
    caller's project and whether its queries are scoped (``query.scoped``, ``query.owned_first``).
    """
    model = models.WorkflowDefinition
    stmt = query.scoped(sa.select(model).where(*common.by_name_or_id(model, identifier, namespace)), model)
    return stmt.order_by(query.owned_first(model)).limit(1)


def find_workflow_definition(name: str, namespaces: list[str]) -> models.WorkflowDefinition:
    """The workflow called ``name`` in the first of ``namespaces`` that has one."""
    for ns in namespaces:
        found = load_workflow_definition(name, ns)
        if found is not None:
            return found
    raise NotFoundError("Workflow", f"{name}, namespace={namespaces[0]}" if namespaces[0] else name)


def list_workflow_definitions(q: ListQuery | None = None) -> list[models.WorkflowDefinition]:
    return common.find_all(models.WorkflowDefinition, q or ListQuery())


def update_workflow_definition(
    identifier: str, values: Mapping[str, Any], namespace: str | None = ""
) -> models.WorkflowDefinition:
    return common.update(get_workflow_definition(identifier, namespace), values)


def lock_workflow_definition(id: str) -> models.WorkflowDefinition:
    """The workflow row, locked for this transaction (``SELECT ... FOR UPDATE`` where there is one).

    NOTE: an update that keeps the replaced definition as a version reads the version number
    and writes the next: two at once must not both take the same number.
    """
    model = models.WorkflowDefinition
    with transaction() as session:
        stmt = sa.select(model).where(model.id == id).with_for_update()
        obj = session.scalars(stmt.execution_options(populate_existing=True)).first()
    if obj is None:
        raise NotFoundError(model.__kind__, id)
    return obj


def delete_workflow_definition(identifier: str, namespace: str | None = "") -> None:
    common.delete(get_workflow_definition(identifier, namespace))


# -- action definitions -------------------------------------------------


def create_action_definition(values: Mapping[str, Any]) -> models.ActionDefinition:
    return common.create(
        models.ActionDefinition, values, f"{values['name']} (namespace={values.get('namespace', '')})"
    )


def get_action_definition(identifier: str, namespace: str | None = "") -> models.ActionDefinition:
    return common.get(models.ActionDefinition, identifier, namespace)


def load_action_definition(identifier: str, namespace: str | None = "") -> models.ActionDefinition | None:
    model = models.ActionDefinition
    return common.first(model, *common.by_name_or_id(model, identifier, namespace))


def list_action_definitions(q: ListQuery | None = None) -> list[models.ActionDefinition]:
    return common.find_all(models.ActionDefinition, q or ListQuery(sort_keys=("name",)))


def update_action_definition(
    identifier: str, values: Mapping[str, Any], namespace: str | None = ""
) -> models.ActionDefinition:
    return common.update(get_action_definition(identifier, namespace), values)


def delete_action_definition(identifier: str, namespace: str | None = "") -> None:
    common.delete(get_action_definition(identifier, namespace))


#: Held by each sync of the system definitions, actions or workflows, until its transaction ends.
#: NOTE: API processes (or WSGI workers) starting together on a new database all found no row
#: and inserted it; all but one then failed on the unique name and did not start.
_SYNC_LOCK = "system-definitions-sync"


def sync_system_actions(values_by_name: Mapping[str, Mapping[str, Any]]) -> None:
    """Make the system action rows exactly the given ones (plugins come and go).

    NOTE: with mistral-extra there are over 1200 of them and the API syncs at every start, so
    this compares plain column tuples and writes only the difference, new rows in one bulk insert.
    """
    model = models.ActionDefinition
    with transaction() as session:
        hold_named_lock(_SYNC_LOCK)
        columns = sorted({k for values in values_by_name.values() for k in values})
        selected = [model.id, model.name, *(getattr(model, c) for c in columns)]
        existing = {row.name: row for row in session.execute(sa.select(*selected).where(model.is_system))}
        gone = [row.id for name, row in existing.items() if name not in values_by_name]
        if gone:
            session.execute(sa.delete(model).where(model.id.in_(gone)))
        new_rows: list[dict[str, Any]] = []
        for name, values in values_by_name.items():
            row = existing.get(name)
            if row is None:
                new_rows.append(
                    {"name": name, "namespace": "", "is_system": True, "scope": "public", **values}
                )
            elif any(getattr(row, k) != v for k, v in values.items()):
                session.execute(sa.update(model).where(model.id == row.id).values(**values))
        if new_rows:
            session.execute(sa.insert(model), new_rows)


def sync_system_workflows(values_by_name: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Make the system workflow rows exactly the given ones, updated in place (their ids stay).

    A name that a user's own workflow already holds in the default project and namespace is
    skipped, never overwritten; the skipped names are returned.
    """
    model = models.WorkflowDefinition
    skipped: list[str] = []
    with transaction() as session:
        hold_named_lock(_SYNC_LOCK)
        rows = session.scalars(
            sa.select(model).where(model.namespace == "", model.project_id == context.DEFAULT_PROJECT_ID)
        )
        existing = {w.name: w for w in rows}
        for name, obj in existing.items():
            if obj.is_system and name not in values_by_name:
                session.delete(obj)
        for name, values in values_by_name.items():
            current = existing.get(name)
            if current is None:
                session.add(
                    model(
                        name=name,
                        namespace="",
                        is_system=True,
                        scope="public",
                        project_id=context.DEFAULT_PROJECT_ID,
                        **values,
                    )
                )
            elif not current.is_system:
                skipped.append(name)
            else:
                for k, v in values.items():
                    if getattr(current, k) != v:
                        setattr(current, k, v)
    return skipped


# -- environments -------------------------------------------------------


def create_environment(values: Mapping[str, Any]) -> models.Environment:
    return common.create(models.Environment, values, values["name"])


def get_environment(name: str) -> models.Environment:
    return common.get(models.Environment, name, None)


def load_environment(name: str) -> models.Environment | None:
    return common.first(models.Environment, *common.by_name_or_id(models.Environment, name, None))


def list_environments(q: ListQuery | None = None) -> list[models.Environment]:
    return common.find_all(models.Environment, q or ListQuery())


def update_environment(name: str, values: Mapping[str, Any]) -> models.Environment:
    return common.update(get_environment(name), values)


def delete_environment(name: str) -> None:
    common.delete(get_environment(name))


# -- resource members ---------------------------------------------------


def create_resource_member(values: Mapping[str, Any]) -> models.ResourceMember:
    return common.create(models.ResourceMember, values, f"{values['resource_id']}/{values['member_id']}")


def get_resource_member(resource_id: str, resource_type: str, member_id: str) -> models.ResourceMember:
    model = models.ResourceMember
    ctx = context.current()
    obj = common.first(
        model,
        model.resource_id == resource_id,
        model.resource_type == resource_type,
        model.member_id == member_id,
        sa.or_(model.project_id == ctx.project_id, model.member_id == ctx.project_id),
    )
    if obj is None:
        raise NotFoundError("Resource member", f"{resource_type}:{resource_id}/{member_id}")
    return obj


def list_resource_members(resource_id: str, resource_type: str) -> list[models.ResourceMember]:
    model = models.ResourceMember
    ctx = context.current()
    return common.find_all(
        model,
        ListQuery(),
        model.resource_id == resource_id,
        model.resource_type == resource_type,
        sa.or_(model.project_id == ctx.project_id, model.member_id == ctx.project_id),
    )


def update_resource_member(
    resource_id: str, resource_type: str, member_id: str, values: Mapping[str, Any]
) -> models.ResourceMember:
    return common.update(get_resource_member(resource_id, resource_type, member_id), values)


def delete_resource_member(resource_id: str, resource_type: str, member_id: str) -> None:
    common.delete(get_resource_member(resource_id, resource_type, member_id))
