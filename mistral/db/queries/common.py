"""Generic steps the named queries are built from."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Protocol, TypeVar, cast, runtime_checkable

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from mistral import context
from mistral.db import models, query
from mistral.db.query import ListQuery
from mistral.db.session import transaction
from mistral.exceptions import DuplicateError, NotAllowedError, NotFoundError
from mistral.utils import uuids

M = TypeVar("M", bound=models.Base)


@runtime_checkable
class _Owned(Protocol):
    """A row of a secure model (``__secure__``): one that belongs to a project."""

    project_id: str


def affected_rows(session: orm.Session, stmt: sa.Executable, params: Mapping[str, Any] | None = None) -> int:
    """Run an UPDATE or DELETE (without RETURNING) and count the rows it changed.

    NOTE: ``Session.execute`` returns a ``CursorResult`` for such a statement but is annotated with
    ``Result`` since SQLAlchemy 2.0.44, whose changelog recommends this cast.
    """
    return cast(sa.CursorResult[Any], session.execute(stmt, params)).rowcount


def create(model: type[M], values: Mapping[str, Any], key: str) -> M:
    values = dict(values)
    if model.__secure__:
        values.setdefault("project_id", context.current().project_id)
    obj = model(**values)
    with transaction() as session:
        try:
            with session.begin_nested():
                session.add(obj)
                session.flush()
        except sa_exc.IntegrityError as exc:
            raise DuplicateError(model.__kind__, key) from exc
    return obj


def add(model: type[M], values: Mapping[str, Any]) -> M:
    """Add a row that cannot collide (a fresh uuid key): no savepoint, flushed with the transaction."""
    values = dict(values)
    if model.__secure__:
        values.setdefault("project_id", context.current().project_id)
    obj = model(**values)
    with transaction() as session:
        session.add(obj)
    return obj


def first(model: type[M], *conditions: Any, all_projects: bool = False) -> M | None:
    stmt = query.scoped(sa.select(model).where(*conditions), model, all_projects=all_projects)
    if model.__secure__:
        stmt = stmt.order_by(query.owned_first(model))
    with transaction(read_only=True) as session:
        return session.scalars(stmt.limit(1)).first()


@functools.cache
def _by_id_statement(model: type[models.Base]) -> sa.Select:
    return sa.select(model).where(model.id == sa.bindparam("id"))


def by_id(model: type[M], id: str) -> M | None:
    """The row with this primary key if the caller may see it.

    NOTE: the reads behind every poll of an execution and most engine steps: an unscoped
    caller (the engine, an admin, the embedded API) reuses one statement, which spares
    building and hashing it again, and a primary key needs no owned-first order.
    """
    stmt, scope = query.kept_for_caller(_by_id_statement(model), model)
    with transaction(read_only=True) as session:
        return session.scalars(stmt, {"id": id, **scope}).first()


def find_all(model: type[M], q: ListQuery, *conditions: Any) -> list[M]:
    with transaction(read_only=True) as session:
        marker = None
        if q.marker:
            # NOTE: the marker is read with the same scope as the page: another project's row is
            # "not found", never a position to page from (which would tell it exists and where).
            found = query.scoped(
                sa.select(model).where(model.id == q.marker, *conditions), model, all_projects=q.all_projects
            )
            marker = session.scalars(found).first()
            if marker is None:
                raise NotFoundError(f"{model.__kind__} (marker)", q.marker)
        stmt = query.scoped(sa.select(model).where(*conditions), model, all_projects=q.all_projects)
        stmt = query.sorted_page(query.filtered(stmt, model, q), model, q, marker)
        return list(session.scalars(stmt))


def update(obj: M, values: Mapping[str, Any]) -> M:
    check_owner(obj)
    with transaction() as session:
        obj = session.merge(obj)
        for k, v in values.items():
            setattr(obj, k, v)
        session.flush()
    return obj


def delete(obj: models.Base) -> None:
    check_owner(obj)
    with transaction() as session:
        session.delete(session.merge(obj))
        session.flush()


def check_owner(obj: models.Base) -> None:
    """Another project's public object can be read, not changed."""
    if obj.__secure__ and isinstance(obj, _Owned):
        ctx = context.current()
        if obj.project_id != ctx.project_id and not ctx.is_admin:
            raise NotAllowedError(f"{obj.__kind__} {obj.id} belongs to another project and can't be changed")


def by_name_or_id(model: type[M], identifier: str, namespace: str | None) -> list[Any]:
    if uuids.is_uuid_like(identifier):
        return [model.id == identifier]
    conditions = [query.column(model, "name") == identifier]
    if namespace is not None and hasattr(model, "namespace"):
        conditions.append(query.column(model, "namespace") == namespace)
    return conditions


def get(model: type[M], identifier: str, namespace: str | None = "") -> M:
    obj = first(model, *by_name_or_id(model, identifier, namespace))
    if obj is None:
        where = f", namespace={namespace}" if namespace else ""
        raise NotFoundError(model.__kind__, f"{identifier}{where}")
    return obj


def refresh(obj: models.Base) -> None:
    """Read ``obj`` again from the database inside the current transaction."""
    with transaction() as session:
        session.refresh(obj)
