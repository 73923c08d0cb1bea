"""``/v2/tasks``: task executions, their re-run and skip, and what they started."""

from __future__ import annotations

from typing import Any

from pecan import rest

from mistral.api import contract, listing, policy
from mistral.api.controllers.types import parse_json_object
from mistral.api.controllers.v2 import base
from mistral.api.controllers.v2 import execution_resources as res
from mistral.api.errors import RequestError
from mistral.db import api as db_api
from mistral.db import models
from mistral.exceptions import NotFoundError
from mistral.rpc import clients
from mistral.services import execution_reports
from mistral.services import executions as ex_service
from mistral.workflow import states


def _check_identity(task_ex: models.TaskExecution, body: dict[str, Any]) -> None:
    """``name`` and ``workflow_name`` may be sent along; they must be the task's own."""
    if body.get("name") and body["name"] != task_ex.name:
        raise RequestError(f"Task name does not match: '{body['name']}' is not '{task_ex.name}'")
    if body.get("workflow_name") and body["workflow_name"] != task_ex.workflow_name:
        raise RequestError(
            f"Workflow name does not match: '{body['workflow_name']}' is not '{task_ex.workflow_name}'"
        )


def _rerun_args(task_ex: models.TaskExecution, body: dict[str, Any]) -> tuple[bool, dict[str, Any] | None]:
    """``reset`` and ``env`` of a re-run, once the task is known to allow it."""
    # NOTE: a SUCCESS task re-runs with what follows it (an extension: Mistral re-runs ERROR tasks only)
    if task_ex.state not in (states.ERROR, states.SUCCESS):
        raise RequestError(
            f"Can't rerun a task in state {task_ex.state}: the task execution must be in ERROR "
            "(or SUCCESS) for rerun"
        )
    reset = body.get("reset", True)
    if reset is None:
        reset = True
    if not isinstance(reset, bool):
        raise RequestError(f"'reset' must be true or false, got {reset!r}")
    if not reset and not ex_service.is_with_items(task_ex):
        raise RequestError("Only with-items task has the option to not reset.")
    return reset, parse_json_object(body.get("env"), "env") or None


def _update(task_ex_id: str, body: dict[str, Any]) -> dict[str, Any]:
    task_ex = db_api.get_task_execution(task_ex_id)
    _check_identity(task_ex, body)
    state = body.get("state")
    if state == states.SKIPPED:
        if task_ex.state != states.ERROR:
            raise RequestError(
                f"Can't skip a task in state {task_ex.state}: only a task in ERROR can be skipped"
            )
        clients.engine().skip_task(task_ex_id)
    elif state == states.RUNNING:
        reset, env = _rerun_args(task_ex, body)
        rerun = clients.engine().rerun_task(task_ex_id, reset=reset, env=env)
        return _as_rerun(task_ex_id, rerun.get("state"))
    else:
        raise RequestError(
            f"Invalid task state {state!r}: only re-run (RUNNING) and skip (SKIPPED) are supported"
        )
    return res.render_task(db_api.get_task_execution(task_ex_id), full=True)


def _as_rerun(task_ex_id: str, state: str | None) -> dict[str, Any]:
    """The task as the re-run left it (``state``: its state when the re-run committed).

    NOTE: as for a resume, the new action may have finished before this answer is written;
    Mistral answers a re-run with the RUNNING task (``mistral task-rerun`` prints it).
    """
    task_ex = db_api.get_task_execution(task_ex_id)
    if state is None or task_ex.state == state or states.is_completed(state):
        return res.render_task(task_ex, full=True)
    new: dict[str, Any] = {"state": state, "state_info": None, "result": None, "published": {}}
    return res.render_task(res.shown_as(task_ex, res.Task, "id", "workflow_execution_id", **new), full=True)


class TaskActionExecutionsController(rest.RestController):
    """``/v2/tasks/{id}/action_executions[/{action_ex_id}]``."""

    @contract.expose("List the action executions of a task", query=res.ACTION_QUERY, returns=res.ACTION_LIST)
    def get_all(self, task_ex_id: str, **params: Any) -> dict[str, Any]:
        policy.enforce("action_executions:list", all_projects=params.get("all_projects"))
        return res.list_action_executions(params, task_execution_id=task_ex_id)

    @contract.expose(
        "Get one action execution of a task", query=(contract.FIELDS,), returns=res.ActionExecution
    )
    def get_one(self, task_ex_id: str, action_ex_id: str, **params: Any) -> dict[str, Any]:
        policy.enforce("action_executions:get")
        fields = res.ActionExecution.check_fields(listing.csv(params.get("fields")))
        action_ex = db_api.get_action_execution(action_ex_id)
        if action_ex.task_execution_id != task_ex_id:
            raise NotFoundError("ActionExecution", action_ex_id)
        return res.render_action_execution(action_ex, fields)


class TaskWorkflowExecutionsController(rest.RestController):
    """``/v2/tasks/{id}/workflow_executions``: the executions a task started, as a list."""

    @contract.expose(
        "List the workflow executions a task started", query=res.EXECUTION_QUERY, returns=res.EXECUTION_LIST
    )
    def get_all(self, task_ex_id: str, **params: Any) -> dict[str, Any]:
        policy.enforce("executions:list", all_projects=params.get("all_projects"))
        return res.list_executions(params, task_execution_id=task_ex_id)


class TaskSubExecutionsController(rest.RestController):
    """``/v2/tasks/{id}/executions``: the executions a task started and their sub-executions."""

    @contract.expose(
        "The executions a task started and their sub-executions",
        query=contract.TREE_QUERY,
        returns=res.EXECUTION_TREE,
    )
    def get_all(self, task_ex_id: str, **params: Any) -> dict[str, Any]:
        policy.enforce("executions:list")
        tree = execution_reports.task_sub_executions(
            task_ex_id,
            errors_only=res.query_flag(params, "errors_only"),
            max_depth=res.max_depth(params),
        )
        include_output = res.query_flag(params, "include_output")
        return {"executions": [res.render_execution(w, include_output=include_output) for w in tree]}


class TasksController(rest.RestController):
    action_executions = TaskActionExecutionsController()
    workflow_executions = TaskWorkflowExecutionsController()
    executions = TaskSubExecutionsController()

    @contract.expose("List task executions", query=res.TASK_QUERY, returns=res.TASK_LIST)
    def get_all(self, **params: Any) -> dict[str, Any]:
        policy.enforce("tasks:list", all_projects=params.get("all_projects"))
        return res.list_tasks(params)

    @contract.expose("Get a task execution", query=(contract.FIELDS,), returns=res.Task)
    def get_one(self, task_ex_id: str, **params: Any) -> dict[str, Any]:
        policy.enforce("tasks:get")
        fields = res.Task.check_fields(listing.csv(params.get("fields")))
        return res.render_task(db_api.get_task_execution(task_ex_id), fields, full=True)

    @contract.expose(
        "Re-run (state RUNNING) or skip (state SKIPPED) a task in ERROR",
        body=contract.Body(res.Task),
        returns=res.Task,
    )
    def put(self, task_ex_id: str, **params: Any) -> dict[str, Any]:
        policy.enforce("tasks:update")
        return _update(task_ex_id, base.json_body(res.Task.field_names()))
