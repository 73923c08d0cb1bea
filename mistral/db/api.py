"""The named queries: the only way the rest of the service reads and writes the database.

``get_*`` raises ``NotFoundError``; ``load_*`` returns ``None``; ``list_*``
takes a ``ListQuery``. Every function joins the caller's ``transaction()`` or
opens its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from mistral import context
from mistral.db import models, query
from mistral.db.query import Filter, ListQuery
from mistral.db.session import transaction
from mistral.exceptions import DuplicateError, NotAllowedError, NotFoundError
from mistral.utils import uuids

__all__ = ["Filter", "ListQuery", "transaction"]

M = TypeVar("M", bound=models.Base)


# -- generic steps -------------------------------------------------------


@contextlib.contextmanager
def _session() -> Iterator[orm.Session]:
    with transaction() as session:
        yield session


def _create(model: type[M], values: Mapping[str, Any], key: str) -> M:
    values = dict(values)
    if model.__secure__:
        values.setdefault("project_id", context.current().project_id)
    obj = model(**values)
    with _session() as session:
        try:
            with session.begin_nested():
                session.add(obj)
                session.flush()
        except sa_exc.IntegrityError as exc:
            raise DuplicateError(model.__kind__, key) from exc
    return obj


def _first(model: type[M], *conditions: Any, all_projects: bool = False) -> M | None:
    stmt = query.scoped(sa.select(model).where(*conditions), model, all_projects=all_projects)
    if model.__secure__:
        stmt = stmt.order_by(query.owned_first(model))
    with _session() as session:
        return session.scalars(stmt.limit(1)).first()


def _list(model: type[M], q: ListQuery, *conditions: Any) -> list[M]:
    with _session() as session:
        marker = None
        if q.marker:
            marker = session.get(model, q.marker)
            if marker is None:
                raise NotFoundError(f"{model.__kind__} (marker)", q.marker)
        stmt = query.scoped(sa.select(model).where(*conditions), model, all_projects=q.all_projects)
        stmt = query.sorted_page(query.filtered(stmt, model, q), model, q, marker)
        return list(session.scalars(stmt))


def _update(obj: M, values: Mapping[str, Any]) -> M:
    _check_owner(obj)
    with _session() as session:
        obj = session.merge(obj)
        for k, v in values.items():
            setattr(obj, k, v)
        session.flush()
    return obj


def _delete(obj: models.Base) -> None:
    _check_owner(obj)
    with _session() as session:
        session.delete(session.merge(obj))
        session.flush()


def _check_owner(obj: models.Base) -> None:
    """Another project's public object can be read, not changed."""
    if obj.__secure__:
        ctx = context.current()
        if obj.project_id != ctx.project_id and not ctx.is_admin:
            raise NotAllowedError(f"{obj.__kind__} {obj.id} belongs to another project and can't be changed")


def _by_name_or_id(model: type[M], identifier: str, namespace: str | None) -> list[Any]:
    if uuids.is_uuid_like(identifier):
        return [model.id == identifier]
    conditions = [model.name == identifier]
    if namespace is not None and hasattr(model, "namespace"):
        conditions.append(model.namespace == namespace)
    return conditions


def _get(model: type[M], identifier: str, namespace: str | None = "") -> M:
    obj = _first(model, *_by_name_or_id(model, identifier, namespace))
    if obj is None:
        where = f", namespace={namespace}" if namespace else ""
        raise NotFoundError(model.__kind__, f"{identifier}{where}")
    return obj


# -- workbooks -----------------------------------------------------------


def create_workbook(values: Mapping[str, Any]) -> models.Workbook:
    return _create(models.Workbook, values, values["name"])


def get_workbook(name: str, namespace: str = "") -> models.Workbook:
    return _get(models.Workbook, name, namespace)


def list_workbooks(q: ListQuery | None = None) -> list[models.Workbook]:
    return _list(models.Workbook, q or ListQuery())


def update_workbook(name: str, values: Mapping[str, Any], namespace: str = "") -> models.Workbook:
    return _update(get_workbook(name, namespace), values)


def delete_workbook(name: str, namespace: str = "") -> None:
    _delete(get_workbook(name, namespace))


# -- workflow definitions -----------------------------------------------


def create_workflow_definition(values: Mapping[str, Any]) -> models.WorkflowDefinition:
    return _create(
        models.WorkflowDefinition, values, f"{values['name']} (namespace={values.get('namespace', '')})"
    )


def get_workflow_definition(identifier: str, namespace: str | None = "") -> models.WorkflowDefinition:
    return _get(models.WorkflowDefinition, identifier, namespace)


def load_workflow_definition(identifier: str, namespace: str | None = "") -> models.WorkflowDefinition | None:
    model = models.WorkflowDefinition
    return _first(model, *_by_name_or_id(model, identifier, namespace))


def find_workflow_definition(name: str, namespaces: list[str]) -> models.WorkflowDefinition:
    """The workflow called ``name`` in the first of ``namespaces`` that has one."""
    for ns in namespaces:
        found = load_workflow_definition(name, ns)
        if found is not None:
            return found
    raise NotFoundError("Workflow", f"{name}, namespace={namespaces[0]}" if namespaces[0] else name)


def list_workflow_definitions(q: ListQuery | None = None) -> list[models.WorkflowDefinition]:
    return _list(models.WorkflowDefinition, q or ListQuery())


def update_workflow_definition(
    identifier: str, values: Mapping[str, Any], namespace: str | None = ""
) -> models.WorkflowDefinition:
    return _update(get_workflow_definition(identifier, namespace), values)


def delete_workflow_definition(identifier: str, namespace: str | None = "") -> None:
    _delete(get_workflow_definition(identifier, namespace))


def delete_workbook_members(workbook_name: str, namespace: str) -> None:
    """Remove the workflows and actions that a workbook created."""
    ctx = context.current()
    with _session() as session:
        for model in (models.WorkflowDefinition, models.ActionDefinition):
            session.execute(
                sa.delete(model).where(
                    model.workbook_name == workbook_name,
                    model.namespace == namespace,
                    model.project_id == ctx.project_id,
                )
            )


# -- action definitions -------------------------------------------------


def create_action_definition(values: Mapping[str, Any]) -> models.ActionDefinition:
    return _create(
        models.ActionDefinition, values, f"{values['name']} (namespace={values.get('namespace', '')})"
    )


def get_action_definition(identifier: str, namespace: str | None = "") -> models.ActionDefinition:
    return _get(models.ActionDefinition, identifier, namespace)


def load_action_definition(identifier: str, namespace: str | None = "") -> models.ActionDefinition | None:
    model = models.ActionDefinition
    return _first(model, *_by_name_or_id(model, identifier, namespace))


def list_action_definitions(q: ListQuery | None = None) -> list[models.ActionDefinition]:
    return _list(models.ActionDefinition, q or ListQuery(sort_keys=("name",)))


def update_action_definition(
    identifier: str, values: Mapping[str, Any], namespace: str | None = ""
) -> models.ActionDefinition:
    return _update(get_action_definition(identifier, namespace), values)


def delete_action_definition(identifier: str, namespace: str | None = "") -> None:
    _delete(get_action_definition(identifier, namespace))


def sync_system_actions(values_by_name: Mapping[str, Mapping[str, Any]]) -> None:
    """Make the system action rows exactly the given ones (plugins come and go)."""
    model = models.ActionDefinition
    with _session() as session:
        existing = {a.name: a for a in session.scalars(sa.select(model).where(model.is_system.is_(True)))}
        for name, obj in existing.items():
            if name not in values_by_name:
                session.delete(obj)
        for name, values in values_by_name.items():
            obj = existing.get(name)
            if obj is None:
                session.add(model(name=name, namespace="", is_system=True, scope="public", **values))
            else:
                for k, v in values.items():
                    if getattr(obj, k) != v:
                        setattr(obj, k, v)


# -- environments -------------------------------------------------------


def create_environment(values: Mapping[str, Any]) -> models.Environment:
    return _create(models.Environment, values, values["name"])


def get_environment(name: str) -> models.Environment:
    return _get(models.Environment, name, None)


def load_environment(name: str) -> models.Environment | None:
    return _first(models.Environment, *_by_name_or_id(models.Environment, name, None))


def list_environments(q: ListQuery | None = None) -> list[models.Environment]:
    return _list(models.Environment, q or ListQuery())


def update_environment(name: str, values: Mapping[str, Any]) -> models.Environment:
    return _update(get_environment(name), values)


def delete_environment(name: str) -> None:
    _delete(get_environment(name))


# -- resource members ---------------------------------------------------


def create_resource_member(values: Mapping[str, Any]) -> models.ResourceMember:
    return _create(models.ResourceMember, values, f"{values['resource_id']}/{values['member_id']}")


def get_resource_member(resource_id: str, resource_type: str, member_id: str) -> models.ResourceMember:
    model = models.ResourceMember
    ctx = context.current()
    obj = _first(
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
    return _list(
        model,
        ListQuery(),
        model.resource_id == resource_id,
        model.resource_type == resource_type,
        sa.or_(model.project_id == ctx.project_id, model.member_id == ctx.project_id),
    )


def update_resource_member(
    resource_id: str, resource_type: str, member_id: str, values: Mapping[str, Any]
) -> models.ResourceMember:
    return _update(get_resource_member(resource_id, resource_type, member_id), values)


def delete_resource_member(resource_id: str, resource_type: str, member_id: str) -> None:
    _delete(get_resource_member(resource_id, resource_type, member_id))
