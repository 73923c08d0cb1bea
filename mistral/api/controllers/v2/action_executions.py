"""``/v2/action_executions``: ad-hoc action runs and the results of asynchronous actions."""

from __future__ import annotations

import types
from typing import Any

from pecan import rest

from mistral.api import contract, listing, policy
from mistral.api.controllers.types import parse_json_object
from mistral.api.controllers.v2 import base, work_items
from mistral.api.controllers.v2 import execution_resources as res
from mistral.api.errors import RequestError
from mistral.db import api as db_api
from mistral.rpc import clients
from mistral.services import executions as ex_service
from mistral.workflow import states

#: What ``params`` of an ad-hoc run may hold, with the types each accepts.
RUN_PARAMS: dict[str, tuple[type, ...]] = {
    "save_result": (bool,),
    "run_sync": (bool,),
    "target": (str,),
    "timeout": (int, float),
}
UPDATE_STATES = (states.CANCELLED, states.PAUSED, states.RUNNING)


def _run_params(raw: Any) -> dict[str, Any]:
    params = parse_json_object(raw, "params")
    unknown = sorted(set(params) - set(RUN_PARAMS))
    if unknown:
        raise RequestError(
            f"Unknown action run parameter(s): {', '.join(unknown)}; allowed: {', '.join(RUN_PARAMS)}"
        )
    for name, value in params.items():
        if value is not None and (
            not isinstance(value, RUN_PARAMS[name])
            or (bool not in RUN_PARAMS[name] and isinstance(value, bool))
        ):
            raise RequestError(f"Action run parameter '{name}' has a wrong type: {type(value).__name__}")
    return {k: v for k, v in params.items() if v is not None}


def _run(body: dict[str, Any]) -> dict[str, Any]:
    name = body.get("name")
    if not name or not isinstance(name, str):
        raise RequestError("Please provide at least action name to run action.")
    namespace = body.get("workflow_namespace") or ""
    description = body.get("description") or ""
    if not isinstance(namespace, str) or not isinstance(description, str):
        raise RequestError("'workflow_namespace' and 'description' must be strings")
    result = clients.engine().start_action(
        name,
        parse_json_object(body.get("input"), "input"),
        description=description,
        namespace=namespace,
        params=_run_params(body.get("params")),
    )
    if result.get("id") is None:
        # NOTE: a synchronous run without save_result stores nothing: the engine's answer is all there is.
        return res.render_action_dict(result)
    action_ex = db_api.get_action_execution(result["id"])
    if result.get("sent"):
        return res.render_action_execution(_as_sent(action_ex))
    return res.render_action_execution(action_ex)


def _as_sent(action_ex: Any) -> types.SimpleNamespace:
    """The action as it was when sent to an executor: RUNNING, no output yet.

    NOTE: Mistral answers an asynchronous run with the action as it created it, and clients
    (Tempest among them) expect RUNNING there; a quick action may have finished before the
    answer is written, which a GET then shows.
    """
    return res.shown_as(
        action_ex,
        res.ActionExecution,
        "task_execution_id",
        state=states.RUNNING,
        state_info=None,
        output=None,
        updated_at=None,
        result_applied=False,
    )


def _output(raw: Any) -> Any:
    """The result an async action reports: a JSON object, given as one or as its JSON text.

    NOTE: Mistral 23 answers 400 for anything else (a bare string, a list, a number), for an
    ERROR as for a SUCCESS: checked black-box. Left out, there is no output (``None``).
    """
    return None if raw is None else parse_json_object(raw, "output")


def _update(action_ex_id: str, body: dict[str, Any]) -> dict[str, Any]:
    state = body.get("state")
    output = _output(body.get("output"))
    if state not in (states.SUCCESS, states.ERROR):
        # NOTE: a result is looked up by the engine, which answers 404 for an unknown id the same
        # way: one read less on the path of every external worker's result.
        db_api.get_action_execution(action_ex_id)
    engine = clients.engine()
    # NOTE: an external worker's claim (work_items): a result from a lease no longer held is a 409.
    token = work_items.lease_token()
    lease = {"lease_token": token} if token else {}
    if state == states.SUCCESS:
        engine.complete_action(action_ex_id, {"data": output}, **lease)
    elif state == states.ERROR:
        engine.complete_action(action_ex_id, {"error": output or "Unknown error"}, **lease)
    elif state in UPDATE_STATES:
        engine.update_action(action_ex_id, state)
    else:
        allowed = ", ".join((states.SUCCESS, states.ERROR, *UPDATE_STATES))
        raise RequestError(f"Error. Expected one of {allowed}, actual: {state}")
    action_ex = db_api.get_action_execution_shown(action_ex_id)
    task_id, task_name = action_ex.task_execution_id, action_ex.task_name
    names = {task_id: task_name} if task_id and task_name else {}
    return res.render_action_execution(action_ex, task_names=names)


class ActionExecutionsController(rest.RestController):
    @contract.expose("List action executions", query=res.ACTION_QUERY, returns=res.ACTION_LIST)
    def get_all(self, **params: Any) -> dict[str, Any]:
        policy.enforce("action_executions:list", all_projects=params.get("all_projects"))
        return res.list_action_executions(params)

    @contract.expose("Get an action execution", query=(contract.FIELDS,), returns=res.ActionExecution)
    def get_one(self, action_ex_id: str, **params: Any) -> dict[str, Any]:
        policy.enforce("action_executions:get")
        fields = res.ActionExecution.check_fields(listing.csv(params.get("fields")))
        return res.render_action_execution(db_api.get_action_execution(action_ex_id), fields)

    @contract.expose(
        "Run an action", status=201, body=contract.Body(res.ActionExecution), returns=res.ActionExecution
    )
    def post(self, **params: Any) -> dict[str, Any]:
        policy.enforce("action_executions:create")
        return _run(base.json_body(res.ActionExecution.field_names()))

    @contract.expose(
        "Complete, cancel, pause or resume an action execution",
        body=contract.Body(res.ActionExecution),
        returns=res.ActionExecution,
    )
    def put(self, action_ex_id: str, **params: Any) -> dict[str, Any]:
        policy.enforce("action_executions:update")
        return _update(action_ex_id, base.json_body(res.ActionExecution.field_names()))

    @contract.expose("Delete an action execution", status=204)
    def delete(self, action_ex_id: str, **params: Any) -> None:
        policy.enforce("action_executions:delete")
        ex_service.delete_action_execution(action_ex_id)
