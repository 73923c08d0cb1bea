"""Named queries of code sources and the dynamic actions that run their classes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from mistral.db import models
from mistral.db.queries import common
from mistral.db.query import ListQuery
from mistral.db.session import transaction

__all__ = [
    "create_code_source",
    "get_code_source",
    "load_code_source_by_id",
    "list_code_sources",
    "update_code_source",
    "delete_code_source",
    "create_dynamic_action_definition",
    "get_dynamic_action_definition",
    "load_dynamic_action_definition",
    "list_dynamic_action_definitions",
    "update_dynamic_action_definition",
    "delete_dynamic_action_definition",
]

# -- code sources ------------------------------------------------------------


def create_code_source(values: Mapping[str, Any]) -> models.CodeSource:
    key = f"{values['name']} (namespace={values.get('namespace', '')})"
    return common.create(models.CodeSource, values, key)


def get_code_source(identifier: str, namespace: str = "") -> models.CodeSource:
    return common.get(models.CodeSource, identifier, namespace)


def load_code_source_by_id(code_source_id: str) -> models.CodeSource | None:
    return common.first(models.CodeSource, models.CodeSource.id == code_source_id)


def list_code_sources(q: ListQuery | None = None) -> list[models.CodeSource]:
    return common.find_all(models.CodeSource, q or ListQuery())


def update_code_source(identifier: str, values: Mapping[str, Any], namespace: str = "") -> models.CodeSource:
    """Change the code source and count one more version, in one transaction."""
    with transaction():
        found = get_code_source(identifier, namespace)
        return common.update(found, {**values, "version": found.version + 1})


def delete_code_source(identifier: str, namespace: str = "") -> None:
    """Delete the code source and its dynamic actions (SQLite may not enforce the cascade)."""
    with transaction() as session:
        found = get_code_source(identifier, namespace)
        common.check_owner(found)
        model = models.DynamicActionDefinition
        session.execute(sa.delete(model).where(model.code_source_id == found.id))
        common.delete(found)


# -- dynamic actions ---------------------------------------------------------


def create_dynamic_action_definition(values: Mapping[str, Any]) -> models.DynamicActionDefinition:
    key = f"{values['name']} (namespace={values.get('namespace', '')})"
    return common.create(models.DynamicActionDefinition, values, key)


def get_dynamic_action_definition(identifier: str, namespace: str = "") -> models.DynamicActionDefinition:
    return common.get(models.DynamicActionDefinition, identifier, namespace)


def load_dynamic_action_definition(name: str, namespace: str = "") -> models.DynamicActionDefinition | None:
    """The caller's own dynamic action called ``name`` in ``namespace``, else a public one."""
    model = models.DynamicActionDefinition
    return common.first(model, model.name == name, model.namespace == namespace)


def list_dynamic_action_definitions(q: ListQuery | None = None) -> list[models.DynamicActionDefinition]:
    return common.find_all(models.DynamicActionDefinition, q or ListQuery())


def update_dynamic_action_definition(
    identifier: str, values: Mapping[str, Any], namespace: str = ""
) -> models.DynamicActionDefinition:
    with transaction():
        return common.update(get_dynamic_action_definition(identifier, namespace), values)


def delete_dynamic_action_definition(identifier: str, namespace: str = "") -> None:
    with transaction():
        common.delete(get_dynamic_action_definition(identifier, namespace))
