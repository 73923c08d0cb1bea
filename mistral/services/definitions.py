"""Use cases for workflow, workbook and ad-hoc action definitions.

Each call parses the whole document first and then writes everything in one
transaction, so an invalid or conflicting document stores nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any

from mistral import config, context, lang
from mistral.db import api as db_api
from mistral.db import models
from mistral.exceptions import InputError, NotAllowedError
from mistral.services import workflow_versions

SCOPES = ("private", "public")


def should_validate(skip_validation: bool) -> bool:
    mode = config.CONF.api.validation_mode
    return mode == "mandatory" or (mode == "enabled" and not skip_validation)


def check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise InputError(f"Scope must be one of {', '.join(SCOPES)}, got '{scope}'")
    return scope


def _checksum(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def workflow_values(spec: Any, scope: str, namespace: str, workbook_name: str | None) -> dict[str, Any]:
    """The row values of one parsed workflow."""
    return {
        "name": spec.name,
        "namespace": namespace,
        "definition": spec.definition,
        "spec": spec.to_dict(),
        "tags": list(spec.tags or []),
        "input": spec.input_string,
        "interface": spec.interface,
        "checksum": _checksum(spec.definition),
        "scope": scope,
        "workbook_name": workbook_name,
    }


def _action_values(spec: Any, scope: str, namespace: str, workbook_name: str | None) -> dict[str, Any]:
    return {
        "name": spec.name,
        "namespace": namespace,
        "definition": spec.definition,
        "spec": spec.to_dict(),
        "tags": list(spec.tags or []),
        "input": spec.input_string,
        "description": spec.description,
        "scope": scope,
        "workbook_name": workbook_name,
    }


# -- workflows ------------------------------------------------------------


@db_api.retry_on_transient
def create_workflows(
    text: str, *, scope: str = "private", namespace: str = "", skip_validation: bool = False
) -> list[models.WorkflowDefinition]:
    specs = lang.parse_workflows(text, validate=should_validate(skip_validation)).workflows
    check_scope(scope)
    with db_api.transaction():
        return [db_api.create_workflow_definition(workflow_values(s, scope, namespace, None)) for s in specs]


@db_api.retry_on_transient
def update_workflows(
    text: str,
    *,
    scope: str = "private",
    namespace: str = "",
    identifier: str | None = None,
    skip_validation: bool = False,
) -> list[models.WorkflowDefinition]:
    """Replace the definitions named in ``text``; ``identifier`` pins a single-workflow update to one id."""
    specs = lang.parse_workflows(text, validate=should_validate(skip_validation)).workflows
    check_scope(scope)
    if identifier is not None and len(specs) != 1:
        raise InputError(f"Only one workflow may be updated by id; the document holds {len(specs)} workflows")
    with db_api.transaction():
        updated = []
        for spec in specs:
            values = workflow_values(spec, scope, namespace, None)
            existing = db_api.get_workflow_definition(
                identifier or spec.name, None if identifier else namespace
            )
            if existing.is_system:
                raise NotAllowedError(f"Can't modify system workflow {existing.name}")
            if identifier is not None:
                values["namespace"] = existing.namespace
            values.pop("workbook_name")
            updated.append(workflow_versions.replace(existing, values))
        return updated


@db_api.retry_on_transient
def delete_workflow(identifier: str, namespace: str = "") -> None:
    with db_api.transaction():
        wf_def = db_api.get_workflow_definition(identifier, namespace)
        if wf_def.is_system:
            raise NotAllowedError(f"Can't delete system workflow {wf_def.name}")
        _refuse_if_triggered([wf_def])
        db_api.delete_workflow_definition(wf_def.id, None)


def _refuse_if_triggered(wf_defs: list[Any]) -> None:
    """A workflow that triggers start can't go: deleting it would silently drop them."""
    names = db_api.trigger_names_of_workflows([w.id for w in wf_defs])
    if names:
        workflows = ", ".join(sorted(w.name for w in wf_defs))
        raise InputError(
            f"Can't delete workflow(s) {workflows}: triggers start them ({', '.join(sorted(names))}); "
            "delete the triggers first"
        )


# -- ad-hoc actions ---------------------------------------------------------


@db_api.retry_on_transient
def create_actions(
    text: str, *, scope: str = "private", namespace: str = "", skip_validation: bool = False
) -> list[models.ActionDefinition]:
    specs = lang.parse_actions(text, validate=should_validate(skip_validation))
    check_scope(scope)
    with db_api.transaction():
        for spec in specs:
            _refuse_system_name(spec.name)
        return [db_api.create_action_definition(_action_values(s, scope, namespace, None)) for s in specs]


@db_api.retry_on_transient
def update_actions(
    text: str,
    *,
    scope: str = "private",
    namespace: str = "",
    identifier: str | None = None,
    skip_validation: bool = False,
) -> list[models.ActionDefinition]:
    specs = lang.parse_actions(text, validate=should_validate(skip_validation))
    check_scope(scope)
    if identifier is not None and len(specs) != 1:
        raise InputError(f"Only one action may be updated by id; the document holds {len(specs)} actions")
    with db_api.transaction():
        updated = []
        for spec in specs:
            existing = db_api.get_action_definition(
                identifier or spec.name, None if identifier else namespace
            )
            if existing.is_system:
                raise NotAllowedError(f"Attempt to modify a system action: {existing.name}")
            values = _action_values(spec, scope, existing.namespace, None)
            values.pop("workbook_name")
            updated.append(db_api.update_action_definition(existing.id, values, None))
        return updated


@db_api.retry_on_transient
def delete_action(identifier: str, namespace: str = "") -> None:
    with db_api.transaction():
        action = db_api.get_action_definition(identifier, namespace)
        if action.is_system:
            raise InputError(f"Attempt to delete a system action: {action.name}")
        db_api.delete_action_definition(action.id, None)


def _refuse_system_name(name: str) -> None:
    found = db_api.load_action_definition(name, "")
    if found is not None and found.is_system:
        raise InputError(f"Action name '{name}' is taken by a system action")


# -- workbooks ----------------------------------------------------------------


@db_api.retry_on_transient
def create_workbook(
    text: str, *, scope: str = "private", namespace: str = "", skip_validation: bool = False
) -> models.Workbook:
    spec = lang.parse_workbook(text, validate=should_validate(skip_validation))
    check_scope(scope)
    with db_api.transaction():
        wb = db_api.create_workbook(_workbook_values(spec, text, scope, namespace))
        # NOTE: a deleted workbook leaves its workflows and actions (as Mistral does); created
        # again, it takes back the ones it still defines, ids kept, and leaves the others alone.
        _sync_workflows(spec, scope, namespace, drop_gone=False)
        _sync_actions(spec, scope, namespace, drop_gone=False)
        return wb


@db_api.retry_on_transient
def update_workbook(
    text: str, *, scope: str = "private", namespace: str = "", skip_validation: bool = False
) -> models.Workbook:
    """Replace a workbook; its workflows keep their ids where their names stay."""
    spec = lang.parse_workbook(text, validate=should_validate(skip_validation))
    check_scope(scope)
    with db_api.transaction():
        wb = db_api.update_workbook(spec.name, _workbook_values(spec, text, scope, namespace), namespace)
        _sync_workflows(spec, scope, namespace)
        _sync_actions(spec, scope, namespace)
        return wb


@db_api.retry_on_transient
def delete_workbook(name: str, namespace: str = "") -> None:
    """Delete the workbook only: its workflows and actions stay, under their ``<workbook>.<name>`` names.

    NOTE: Mistral 23 keeps them (checked black-box): executions, triggers and other workflows
    may still use them, and each can be deleted on its own.
    """
    db_api.delete_workbook(name, namespace)


def _workbook_values(spec: Any, text: str, scope: str, namespace: str) -> dict[str, Any]:
    return {
        "name": spec.name,
        "namespace": namespace,
        "definition": text,
        "spec": spec.to_dict(),
        "tags": list(spec.tags or []),
        "scope": scope,
    }


def _sync_workflows(spec: Any, scope: str, namespace: str, *, drop_gone: bool = True) -> None:
    _sync(
        spec.name,
        namespace,
        {wf.name: workflow_values(wf, scope, namespace, spec.name) for wf in spec.workflows},
        drop_gone=drop_gone,
        list_=db_api.list_workflow_definitions,
        create=db_api.create_workflow_definition,
        update=_replace_workflow,
        delete=db_api.delete_workflow_definition,
    )


def _replace_workflow(identifier: str, values: dict[str, Any], namespace: None) -> models.WorkflowDefinition:
    return workflow_versions.replace(db_api.get_workflow_definition(identifier, namespace), values)


def _sync_actions(spec: Any, scope: str, namespace: str, *, drop_gone: bool = True) -> None:
    def create(values: dict[str, Any]) -> Any:
        _refuse_system_name(values["name"])
        return db_api.create_action_definition(values)

    _sync(
        spec.name,
        namespace,
        {a.name: _action_values(a, scope, namespace, spec.name) for a in spec.actions},
        drop_gone=drop_gone,
        list_=db_api.list_action_definitions,
        create=create,
        update=db_api.update_action_definition,
        delete=db_api.delete_action_definition,
    )


def _sync(
    workbook_name: str, namespace: str, wanted: dict[str, dict[str, Any]], *, drop_gone: bool, **ops: Any
) -> None:
    """Make a workbook's stored workflows (or actions) ``wanted``; kept names keep their ids.

    With ``drop_gone`` the ones the workbook no longer defines are deleted, else left alone.
    Only objects the workbook made are taken over: a standalone one of the same name is a duplicate.
    """
    old = {obj.name: obj for obj in _workbook_objects(ops["list_"], workbook_name, namespace)}
    gone = [obj for name, obj in old.items() if name not in wanted] if drop_gone else []
    if ops["list_"] is db_api.list_workflow_definitions:
        _refuse_if_triggered(gone)
    for obj in gone:
        ops["delete"](obj.id, None)
    for name, values in wanted.items():
        if name in old:
            ops["update"](old[name].id, values, None)
        else:
            ops["create"](values)


def _workbook_objects(list_func: Any, workbook_name: str, namespace: str) -> list[Any]:
    q = db_api.ListQuery(
        filters={
            "workbook_name": db_api.Filter("eq", workbook_name),
            "namespace": db_api.Filter("eq", namespace),
            "project_id": db_api.Filter("eq", context.current().project_id),
        }
    )
    return list_func(q)


# -- validation -----------------------------------------------------------------

PARSERS = {"workflow": lang.parse_workflows, "workbook": lang.parse_workbook, "action": lang.parse_actions}


def validate(kind: str, text: str) -> None:
    """Raise ``InvalidSpecError`` listing every problem of ``text``."""
    PARSERS[kind](text, validate=True)
