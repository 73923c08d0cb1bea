"""Use cases around executions shared by the API: starting, updating, deleting, trees and reports.

Nothing here speaks HTTP or calls the engine; bad input is an ``InputError``
(400), a forbidden change a ``NotAllowedError`` (403).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mistral import config, context
from mistral.db import api as db_api
from mistral.db import models
from mistral.exceptions import InputError, NotAllowedError
from mistral.expressions import ENV_KEY, PUBLISHED_GLOBAL_KEY
from mistral.notifier import events
from mistral.services import environments
from mistral.utils.merge import deep_merge
from mistral.workflow import states

#: Params a sub-workflow gets from its parent; a copy of an execution starts as a root.
SUB_WORKFLOW_PARAMS = ("task_execution_id", "root_execution_id", "index")
#: Execution states in which ``{"params": {"env": ...}}`` alone may change the env.
ENV_UPDATE_STATES = frozenset({states.IDLE, states.PAUSED, states.ERROR})


# -- reading --------------------------------------------------------------------


def execution_published_global(wf_ex: models.WorkflowExecution) -> dict[str, Any]:
    """The globals published so far; ``wf_ex.context`` may be its stored JSON text (a shown row)."""
    ctx = wf_ex.context
    if isinstance(ctx, str):
        # NOTE: most executions publish no globals: their context, which holds the whole
        # input, need not be decoded to find none.
        if f'"{PUBLISHED_GLOBAL_KEY}"' not in ctx:
            return {}
        ctx = json.loads(ctx)
    return dict((ctx or {}).get(PUBLISHED_GLOBAL_KEY) or {})


def _global_names(node: Any, in_publish: bool = False) -> set[str]:
    """Variable names a task spec publishes globally (``publish: {global: {...}}`` anywhere)."""
    names: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if in_publish and key == "global" and isinstance(value, dict):
                names |= set(value)
            else:
                names |= _global_names(value, in_publish or str(key).startswith("publish"))
    elif isinstance(node, list):
        for item in node:
            names |= _global_names(item, in_publish)
    return names


def task_spec(task_ex_id: str) -> dict[str, Any]:
    """The stored spec of a task (a deferred column: read inside a transaction)."""
    with db_api.transaction():
        return dict(db_api.get_task_execution(task_ex_id).spec or {})


def workflow_spec(wf_ex_id: str) -> dict[str, Any] | None:
    """The parsed definition an execution runs, as it was when it started (a deferred column)."""
    with db_api.transaction():
        return db_api.get_workflow_execution(wf_ex_id).spec


def task_published_global(task_ex: models.TaskExecution) -> dict[str, Any]:
    """The global variables this task published, with their current values."""
    names = _global_names(task_spec(task_ex.id))
    if not names:
        return {}
    wf_ex = db_api.load_workflow_execution(task_ex.workflow_execution_id)
    published = execution_published_global(wf_ex) if wf_ex is not None else {}
    return {k: v for k, v in published.items() if k in names}


def task_names(action_exs: Iterable[Any]) -> dict[str, str]:
    """Task id -> name for the tasks of these action executions, in one query."""
    return db_api.find_task_names(a.task_execution_id for a in action_exs if a.task_execution_id)


def is_with_items(task_ex: models.TaskExecution) -> bool:
    spec = task_spec(task_ex.id)
    return bool(spec.get("with-items") or spec.get("with_items"))


# -- starting -------------------------------------------------------------------


@dataclass
class StartRequest:
    """What ``EngineClient.start_workflow`` needs."""

    wf_identifier: str
    wf_namespace: str
    wf_ex_id: str | None
    wf_input: dict[str, Any]
    description: str
    params: dict[str, Any] = field(default_factory=dict)


def resolve_env(params: Mapping[str, Any]) -> dict[str, Any]:
    """Params with ``env`` as a dict (see ``environments.variables_of``); no ``env`` stays absent."""
    params = dict(params)
    if "env" in params:
        params["env"] = environments.variables_of(params["env"])
    return params


def prepare_start(
    values: Mapping[str, Any], wf_input: dict[str, Any], params: dict[str, Any]
) -> StartRequest:
    """The start request for a POST body; ``source_execution_id`` fills what the body leaves out."""
    if values.get("workflow_id") and values.get("workflow_name"):
        raise InputError("Only one of 'workflow_id' and 'workflow_name' may be given")
    identifier = values.get("workflow_id") or values.get("workflow_name")
    namespace = values.get("workflow_namespace")
    description = values.get("description") or ""
    source_id = values.get("source_execution_id")
    if source_id:
        source = db_api.get_workflow_execution(source_id)
        if not identifier:
            identifier = source.workflow_id or source.workflow_name
            namespace = source.workflow_namespace if namespace is None else namespace
        wf_input = {**(source.input or {}), **wf_input}
        inherited = {k: v for k, v in (source.params or {}).items() if k not in SUB_WORKFLOW_PARAMS}
        params = {**inherited, **params}
        description = f"{description} Based on the execution '{source_id}'".strip()
    if not identifier:
        raise InputError("Workflow ID or workflow name must be provided. Workflow ID is recommended.")
    return StartRequest(
        wf_identifier=identifier,
        wf_namespace=namespace or "",
        wf_ex_id=values.get("id") or None,
        wf_input=wf_input,
        description=description,
        params=_checked_notify(resolve_env(params)),
    )


def _checked_notify(params: dict[str, Any]) -> dict[str, Any]:
    """``notify`` as a checked list of publishers (it may come as JSON text), or a 400 naming the problem."""
    if "notify" in params:
        params["notify"] = events.parse_publishers(params["notify"], "params.notify")
    return params


# -- changing -------------------------------------------------------------------


@db_api.retry_on_transient
def update_execution_env(wf_ex_id: str, env: Mapping[str, Any]) -> models.WorkflowExecution:
    """Merge ``env`` into a waiting execution's env (its params and its context)."""
    with db_api.transaction():
        wf_ex = db_api.lock_workflow_execution(wf_ex_id)
        _check_owner(wf_ex)
        if wf_ex.state not in ENV_UPDATE_STATES:
            raise NotAllowedError(
                "Updating env to workflow execution is only permitted if it is in IDLE, PAUSED, "
                f"or ERROR state; execution {wf_ex_id} is {wf_ex.state}"
            )
        params, ctx = with_env_merged(wf_ex, env)
        return db_api.update_workflow_execution(wf_ex_id, {"params": params, "context": ctx})


def with_env_merged(
    wf_ex: models.WorkflowExecution, env: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The execution's params and context with ``env`` merged (deeply) into its env.

    A context not made yet (the first step has not run) stays as it is: the first step
    builds it from the params.
    """
    params = dict(wf_ex.params or {})
    params["env"] = deep_merge(params.get("env") or {}, env)
    ctx = {**wf_ex.context, ENV_KEY: params["env"]} if isinstance(wf_ex.context, dict) else wf_ex.context
    return params, ctx


def _check_owner(obj: Any) -> None:
    ctx = context.current()
    if obj.project_id != ctx.project_id and not ctx.is_admin:
        raise NotAllowedError(f"{obj.__kind__} {obj.id} belongs to another project and can't be changed")


@db_api.retry_on_transient
def update_execution_description(wf_ex_id: str, description: str) -> models.WorkflowExecution:
    _check_owner(db_api.get_workflow_execution(wf_ex_id))
    return db_api.update_workflow_execution(wf_ex_id, {"description": description})


@db_api.retry_on_transient
def delete_execution(wf_ex_id: str, *, force: bool = False) -> None:
    """Delete an execution with its whole tree; one still running only with ``force``."""
    wf_ex = db_api.get_workflow_execution(wf_ex_id)
    _check_owner(wf_ex)
    if not force and not states.is_completed(wf_ex.state):
        raise NotAllowedError(
            f"Only completed executions can be deleted; execution {wf_ex_id} is {wf_ex.state}. "
            "Use force=true to delete it anyway."
        )
    db_api.delete_workflow_execution(wf_ex_id)


@db_api.retry_on_transient
def delete_action_execution(action_ex_id: str) -> None:
    """Only a completed ad-hoc action execution, and only where the operator allows it."""
    if not config.CONF.api.allow_action_execution_deletion:
        raise NotAllowedError("Action execution deletion is not allowed.")
    action_ex = db_api.get_action_execution(action_ex_id)
    _check_owner(action_ex)
    if action_ex.task_execution_id:
        raise NotAllowedError("Only ad-hoc action execution can be deleted.")
    if not states.is_completed(action_ex.state):
        raise NotAllowedError(
            f"Only completed action execution can be deleted; {action_ex_id} is {action_ex.state}."
        )
    db_api.delete_action_execution(action_ex_id)
