"""Use cases for code sources and dynamic actions: checked here, stored by the db api.

The code is parsed (``ast``) to report a syntax error or a missing class with a 400,
never imported or run: only an executor's child process runs it
(``mistral.actions.dynamic``).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from mistral.config import CONF
from mistral.db import api as db_api
from mistral.db import models
from mistral.exceptions import InputError
from mistral.services.definitions import check_scope
from mistral.utils import uuids


def _parse(name: str, content: str) -> ast.Module:
    limit = CONF.dynamic_actions.max_code_size_kb
    if len(content.encode()) > limit * 1024:
        raise InputError(
            f"Code source '{name}' is larger than [dynamic_actions] max_code_size_kb = {limit} KiB"
        )
    try:
        return ast.parse(content, filename=name)
    except SyntaxError as exc:
        raise InputError(f"Code source '{name}' is not valid Python: line {exc.lineno}: {exc.msg}") from exc
    except (ValueError, RecursionError, MemoryError) as exc:
        raise InputError(f"Code source '{name}' is not valid Python: {type(exc).__name__}: {exc}") from exc


def _check_content(name: str, content: Any) -> str:
    if not isinstance(content, str) or not content.strip():
        raise InputError("The request body is empty; it must be the code source's Python text")
    _parse(name, content)
    return content


def _check_name(what: str, name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{what} 'name' is required and must be a non-empty string")
    if uuids.is_uuid_like(name):
        raise InputError(f"{what} name '{name}' looks like a UUID; a name must not")
    return name


@db_api.retry_on_transient
def create_code_source(
    name: Any, content: Any, *, scope: str = "private", namespace: str = ""
) -> models.CodeSource:
    name = _check_name("Code source", name)
    values = {
        "name": name,
        "content": _check_content(name, content),
        "scope": check_scope(scope),
        "namespace": namespace or "",
        "version": 1,
    }
    return db_api.create_code_source(values)


@db_api.retry_on_transient
def update_code_source(
    identifier: Any, content: Any, *, scope: str = "private", namespace: str = ""
) -> models.CodeSource:
    if not isinstance(identifier, str) or not identifier:
        raise InputError("'identifier' (the code source's name or id) is required")
    values = {"content": _check_content(identifier, content), "scope": check_scope(scope)}
    return db_api.update_code_source(identifier, values, namespace or "")


@db_api.retry_on_transient
def delete_code_source(identifier: str, namespace: str = "") -> None:
    db_api.delete_code_source(identifier, namespace or "")


# -- dynamic actions ---------------------------------------------------------


def _defined_names(tree: ast.Module) -> set[str] | None:
    """The names the module binds at its top level; None when ``import *`` makes that unknowable."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    return None
                names.add(alias.asname or alias.name.split(".")[0])
        else:
            # Assignments, and anything that may bind a name at the top level (if/try blocks).
            names.update(
                n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
            )
    return names


def _check_class(class_name: Any, source: models.CodeSource) -> str:
    if not isinstance(class_name, str) or not class_name.isidentifier():
        raise InputError(f"Dynamic action 'class_name' must be a Python class name, got {class_name!r}")
    defined = _defined_names(_parse(source.name, source.content))
    if defined is not None and class_name not in defined:
        raise InputError(f"Code source '{source.name}' defines no class '{class_name}'")
    return class_name


#: The attributes of a dynamic action's body, every one a string when given.
_DYNAMIC_ACTION_TEXT = (
    "id",
    "name",
    "namespace",
    "class_name",
    "code_source_id",
    "code_source_name",
    "scope",
)


def _check_text(values: Mapping[str, Any]) -> None:
    wrong = [
        key
        for key in _DYNAMIC_ACTION_TEXT
        if values.get(key) is not None and not isinstance(values[key], str)
    ]
    if wrong:
        raise InputError(f"Dynamic action {', '.join(repr(k) for k in wrong)} must be a string")


def _code_source(values: Mapping[str, Any]) -> models.CodeSource:
    identifier = values.get("code_source_id") or values.get("code_source_name")
    if not isinstance(identifier, str) or not identifier:
        raise InputError("Either 'code_source_id' or 'code_source_name' must be provided.")
    return db_api.get_code_source(identifier, values.get("namespace") or "")


@db_api.retry_on_transient
def create_dynamic_action(values: Mapping[str, Any]) -> models.DynamicActionDefinition:
    _check_text(values)
    name = _check_name("Dynamic action", values.get("name"))
    with db_api.transaction():
        source = _code_source(values)
        return db_api.create_dynamic_action_definition(
            {
                "name": name,
                "namespace": values.get("namespace") or "",
                "class_name": _check_class(values.get("class_name"), source),
                "scope": check_scope(values.get("scope") or "private"),
                "code_source_id": source.id,
                "code_source_name": source.name,
            }
        )


@db_api.retry_on_transient
def update_dynamic_action(values: Mapping[str, Any]) -> models.DynamicActionDefinition:
    """Change the class, the code source or the scope of the action named or identified in ``values``."""
    _check_text(values)
    identifier = values.get("id") or values.get("name")
    if not isinstance(identifier, str) or not identifier:
        raise InputError("Either 'name' or 'id' must be provided.")
    namespace = values.get("namespace") or ""
    with db_api.transaction():
        current = db_api.get_dynamic_action_definition(identifier, namespace)
        changes: dict[str, Any] = {}
        if values.get("scope"):
            changes["scope"] = check_scope(values["scope"])
        source = None
        if values.get("code_source_id") or values.get("code_source_name"):
            source = _code_source(values)
            changes.update(code_source_id=source.id, code_source_name=source.name)
        if values.get("class_name") or source is not None:
            source = source or db_api.get_code_source(current.code_source_id)
            changes["class_name"] = _check_class(values.get("class_name") or current.class_name, source)
        return db_api.update_dynamic_action_definition(identifier, changes, namespace)


@db_api.retry_on_transient
def delete_dynamic_action(identifier: str, namespace: str = "") -> None:
    db_api.delete_dynamic_action_definition(identifier, namespace or "")
