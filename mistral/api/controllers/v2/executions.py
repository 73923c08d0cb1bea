"""``/v2/executions``: workflow executions, their tasks, sub-executions and report."""

from __future__ import annotations

import logging
from typing import Any

from pecan import rest

from mistral.api import contract, listing, policy
from mistral.api.controllers.types import parse_json_object
from mistral.api.controllers.v2 import base
from mistral.api.controllers.v2 import execution_resources as res
from mistral.api.errors import RequestError
from mistral.db import api as db_api
from mistral.rpc import clients
from mistral.services import execution_reports, execution_waits
from mistral.services import executions as ex_service
from mistral.workflow import states

LOG = logging.getLogger(__name__)

UPDATE_KEYS = ("id", "state", "state_info", "description", "params")
STOP_STATES = (states.SUCCESS, states.ERROR, states.CANCELLED)
REPORT_QUERY = (
    *contract.TREE_QUERY[:2],
    contract.flag("statistics_only", "Only the counts of tasks by state"),
)


def _across_projects(params: dict[str, Any]) -> Any:
    """What the executions list checks ``executions:list:all_projects`` for.

    NOTE: as in Mistral, naming a project (``project_id=``) is looking across projects too.
    """
    return "true" if params.get("project_id") else params.get("all_projects")


def _get(wf_ex_id: str) -> dict[str, Any]:
    return res.render_execution(db_api.get_workflow_execution(wf_ex_id))


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise RequestError(f"'{name}' must be a string, got {type(value).__name__}")
    return value


def _start(body: dict[str, Any]) -> dict[str, Any]:
    for name in ("id", "workflow_id", "workflow_name", "workflow_namespace", "source_execution_id"):
        _text(body, name)
    if body.get("id"):
        # NOTE: a known id makes the POST idempotent: the existing execution is the answer.
        existing = db_api.load_workflow_execution(body["id"])
        if existing is not None:
            return res.render_execution(existing)
    # NOTE: input given as JSON text (as the clients send it) travels on as text and the engine
    # reads it: decoding it here only to encode it again for the engine cost a 100 000-item
    # input's start about as much as the engine's own work. Merged with a source execution's
    # input, it is read here.
    raw_input = body.get("input")
    input_text = (
        raw_input
        if isinstance(raw_input, str) and raw_input and not body.get("source_execution_id")
        else None
    )
    request = ex_service.prepare_start(
        body,
        {} if input_text is not None else parse_json_object(raw_input, "input"),
        parse_json_object(body.get("params"), "params"),
    )
    # NOTE: a first step that fans out (with-items over a large input) keeps an engine busy
    # for seconds; sent by the engine at its commit, it ran beside the rendering of this
    # answer, which then waited for the interpreter's lock. It is sent once the answer is
    # ready; a start whose message is lost is the recovery loop's, as any other (architecture rule 2).
    started = clients.engine().start_workflow(
        request.wf_identifier,
        request.wf_namespace,
        request.wf_ex_id,
        request.wf_input,
        request.description,
        request.params,
        send_first_step=False,
        wf_input_json=input_text,
    )
    try:
        return _as_started(_answer(started["id"]), started)
    finally:
        if started.get("first_step_pending"):
            _send_first_step(started["id"])


def _answer(wf_ex_id: str) -> dict[str, Any]:
    """The started execution, read as the polled GET reads it.

    NOTE: the shown columns on a bare connection, rendered without WSME: the ORM model and
    WSME cost a small start's answer about as much as the rest of its request here.
    """
    row = db_api.load_workflow_execution_shown(wf_ex_id)
    rendered = None if row is None else res.render_execution_plain(row, published_global=False)
    return rendered if rendered is not None else _get(wf_ex_id)


def _as_started(rendered: dict[str, Any], started: dict[str, Any]) -> dict[str, Any]:
    """The answer as the start's commit left the execution (``started`` names its state then).

    NOTE: the row is read after that commit, and by then a small workflow's actions may have
    run and finished it. Mistral answers a start with the execution as it started, RUNNING, and
    its clients (Tempest among them) rely on that; a later state shows on the next GET.
    """
    if "state" not in started or rendered.get("state") == started["state"]:
        return rendered
    # NOTE: the state moved on after the commit, so no output was there when it was made.
    return {**rendered, "state": started["state"], "state_info": started.get("state_info"), "output": None}


def _send_first_step(wf_ex_id: str) -> None:
    try:
        clients.engine().run_first_steps([wf_ex_id])
    except Exception:  # noqa: BLE001 - the execution exists: recovery runs its first step
        LOG.exception("Sending the first step of %s failed; the recovery loop will run it", wf_ex_id)


def _new_env(body: dict[str, Any]) -> dict[str, Any] | None:
    """``params.env`` of a PUT body (the only param that can change), or None."""
    if body.get("params") is None:
        return None
    params = parse_json_object(body["params"], "params")
    others = sorted(set(params) - {"env"})
    if others:
        raise RequestError(f"Only 'env' can be updated in 'params', got: {', '.join(others)}")
    if "env" not in params:
        raise RequestError("The property 'env' is not provided for update in 'params'")
    return ex_service.resolve_env(params)["env"] or None


def _check_update(state: str | None, description: str | None, state_info: str | None, env: Any) -> None:
    if not (state or description or env):
        raise RequestError("The property state, description, or env is not provided for update.")
    if description and state:
        raise RequestError("The property description must be updated separately from state.")
    if state and state not in (states.PAUSED, states.RUNNING, *STOP_STATES):
        allowed = ", ".join((states.PAUSED, states.RUNNING, *STOP_STATES))
        raise RequestError(f"Cannot change state to {state}. Allowed states are: {allowed}")
    if state_info is not None and state not in STOP_STATES:
        raise RequestError("'state_info' can only be given with state SUCCESS, ERROR or CANCELLED")
    if env and state and state != states.RUNNING:
        raise RequestError(
            "The property env can only be updated when the execution is not running "
            "or on resume from pause (state RUNNING)."
        )


def _update(wf_ex_id: str, body: dict[str, Any]) -> dict[str, Any]:
    # NOTE: as in Mistral, a missing execution is a 404 whatever the body says.
    db_api.get_workflow_execution(wf_ex_id)
    state, description = _text(body, "state"), _text(body, "description")
    state_info = _text(body, "state_info")
    env = _new_env(body)
    _check_update(state, description, state_info, env)
    if description:
        ex_service.update_execution_description(wf_ex_id, description)
    if env and not state:
        ex_service.update_execution_env(wf_ex_id, env)
    engine = clients.engine()
    if state == states.PAUSED:
        engine.pause_workflow(wf_ex_id)
    elif state == states.RUNNING:
        return _as_resumed(wf_ex_id, engine.resume_workflow(wf_ex_id, env=env).get("state"))
    elif state in STOP_STATES:
        engine.stop_workflow(wf_ex_id, state, state_info)
    return _get(wf_ex_id)


def _as_resumed(wf_ex_id: str, state: str | None) -> dict[str, Any]:
    """The execution as the resume left it (``state``: its state when the resume committed).

    NOTE: the engine may finish a short workflow before this answer is written (in the embedded
    server the next actions run at once); Mistral answers a resume with the RUNNING execution,
    and clients check it. A GET shows what happened since. An engine that does not say
    (an older one) leaves the answer to the read.
    """
    wf_ex = db_api.get_workflow_execution(wf_ex_id)
    if state is None or wf_ex.state == state or states.is_completed(state):
        return res.render_execution(wf_ex)
    return res.render_execution(res.shown_as(wf_ex, res.Execution, state=state, state_info=None, output=None))


class ExecutionTasksController(rest.RestController):
    """``/v2/executions/{id}/tasks``."""

    @contract.expose("List the tasks of an execution", query=res.TASK_QUERY, returns=res.TASK_LIST)
    def get_all(self, wf_ex_id: str, **params: Any) -> dict[str, Any]:
        policy.enforce("tasks:list", all_projects=params.get("all_projects"))
        return res.list_tasks(params, workflow_execution_id=wf_ex_id)


class SubExecutionsController(rest.RestController):
    """``/v2/executions/{id}/executions``: this execution and its sub-workflow executions."""

    @contract.expose(
        "An execution and its sub-workflow executions", query=contract.TREE_QUERY, returns=res.EXECUTION_TREE
    )
    def get_all(self, wf_ex_id: str, **params: Any) -> dict[str, Any]:
        policy.enforce("executions:list")
        tree = execution_reports.execution_tree(
            [db_api.get_workflow_execution(wf_ex_id)],
            errors_only=res.query_flag(params, "errors_only"),
            max_depth=res.max_depth(params),
        )
        include_output = res.query_flag(params, "include_output")
        return {"executions": [res.render_execution(w, include_output=include_output) for w in tree]}


class ReportController(rest.RestController):
    """``/v2/executions/{id}/report``."""

    @contract.expose(
        "An execution's report: its tree of tasks, actions and sub-executions",
        query=REPORT_QUERY,
        returns=contract.FreeForm("The report"),
    )
    def get_all(self, wf_ex_id: str, **params: Any) -> dict[str, Any]:
        policy.enforce("executions:get")
        return execution_reports.build_report(
            wf_ex_id,
            errors_only=res.query_flag(params, "errors_only"),
            max_depth=res.max_depth(params),
            statistics_only=res.query_flag(params, "statistics_only"),
        )


class WaitsController(rest.RestController):
    """``/v2/executions/{id}/waits``: what each unfinished task of an execution waits for.

    NOTE: not in Mistral (an extension, additive): a join, a delay until a time, an action
    queued for or running on an executor, a with-items concurrency limit, a paused parent.
    """

    @contract.expose(
        "What the unfinished tasks of an execution wait for (an extension of Mistral's API)",
        returns=contract.FreeForm("The execution's id, state and, per unfinished task, its reasons"),
    )
    def get_all(self, wf_ex_id: str, **params: Any) -> dict[str, Any]:
        policy.enforce("executions:waits")
        return execution_waits.execution_waits(wf_ex_id)


class SpecController(rest.RestController):
    """``/v2/executions/{id}/spec``: the parsed definition the execution runs.

    NOTE: not in Mistral, whose clients never ask for it. The console draws the task graph from it:
    the definition as it was when the execution started (the workflow may have changed or gone
    since), as JSON, so a browser needs no YAML parser.
    """

    @contract.expose(
        "The workflow definition an execution runs, parsed (an extension of Mistral's API)",
        returns=contract.FreeForm("The execution id and its workflow's definition as a JSON object"),
    )
    def get_all(self, wf_ex_id: str, **params: Any) -> dict[str, Any]:
        policy.enforce("executions:get")
        return {"id": wf_ex_id, "spec": ex_service.workflow_spec(wf_ex_id)}


class ExecutionsController(rest.RestController):
    tasks = ExecutionTasksController()
    executions = SubExecutionsController()
    report = ReportController()
    waits = WaitsController()
    spec = SpecController()

    @contract.expose("List workflow executions", query=res.EXECUTION_QUERY, returns=res.EXECUTION_LIST)
    def get_all(self, **params: Any) -> dict[str, Any]:
        policy.enforce("executions:list", all_projects=_across_projects(params))
        return res.list_executions(params)

    @contract.expose("Get a workflow execution", query=(contract.FIELDS,), returns=res.Execution)
    def get_one(self, wf_ex_id: str, **params: Any) -> dict[str, Any]:
        policy.enforce("executions:get")
        fields = res.Execution.check_fields(listing.csv(params.get("fields")))
        wf_ex = db_api.get_workflow_execution(wf_ex_id)
        return res.render_execution(wf_ex, fields, published_global=True)

    @contract.expose("Start a workflow", status=201, body=contract.Body(res.Execution), returns=res.Execution)
    def post(self, **params: Any) -> dict[str, Any]:
        policy.enforce("executions:create")
        return _start(base.json_body(res.Execution.field_names()))

    @contract.expose(
        "Pause, resume, stop an execution, or change its description or env",
        body=contract.Body(res.Execution, only=UPDATE_KEYS),
        returns=res.Execution,
    )
    def put(self, wf_ex_id: str, **params: Any) -> dict[str, Any]:
        policy.enforce("executions:update")
        return _update(wf_ex_id, base.json_body(UPDATE_KEYS))

    @contract.expose(
        "Delete a workflow execution",
        status=204,
        query=(contract.flag("force", "Delete even if it is running"),),
    )
    def delete(self, wf_ex_id: str, **params: Any) -> None:
        policy.enforce("executions:delete")
        ex_service.delete_execution(wf_ex_id, force=base.flag(params, "force"))
