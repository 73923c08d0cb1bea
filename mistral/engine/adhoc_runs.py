"""Actions run directly through the API (``POST /v2/action_executions``), outside any workflow."""

from __future__ import annotations

from typing import Any

from mistral import context
from mistral.db import api as db_api
from mistral.db.types import utcnow
from mistral.engine import actions, outbox
from mistral.exceptions import InputError
from mistral.rpc import clients
from mistral.workflow import states


def start(name: str, action_input: dict[str, Any], description: str, namespace: str,
          params: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    from mistral.engine.engine import unit_of_work

    resolved = actions.resolve(name, action_input or {}, namespace)
    save = bool(params.get("save_result"))
    run_sync = params.get("run_sync")
    if run_sync and not resolved.is_sync:
        raise InputError(f"Action {name} is asynchronous; it can't be run with run_sync")
    target = params.get("target")
    if resolved.is_sync and (run_sync or not save):
        return _run_now(resolved, description, namespace, params, save, target)
    with unit_of_work(internal=False):
        row = _row(resolved, description, namespace, params, states.RUNNING)
        db_api.insert_action_executions([row])
        outbox.current().actions.append((target, _request(row, params)))
    return {"id": row["id"]}


def _row(resolved: actions.ResolvedAction, description: str, namespace: str, params: dict[str, Any],
         state: str) -> dict[str, Any]:  # fmt: skip
    row = actions.new_action_row_adhoc(resolved)
    row.update(
        description=description,
        workflow_namespace=namespace,
        params=params,
        state=state,
        project_id=context.current().project_id,
    )
    return row


def _request(row: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return {
        "action_ex_id": row["id"],
        "action_name": row["runtime_context"]["system_name"],
        "input": row["input"],
        "safe_rerun": False,
        "timeout": params.get("timeout"),
        "context": {"action_execution_id": row["id"], "callback_url": f"/v2/action_executions/{row['id']}"},
    }


def _run_now(resolved: actions.ResolvedAction, description: str, namespace: str, params: dict[str, Any],
             save: bool, target: str | None) -> dict[str, Any]:  # fmt: skip
    row = _row(resolved, description, namespace, params, states.RUNNING)
    result = clients.executor().run_action_sync(
        _request(row, params), target=target, timeout=params.get("timeout")
    )
    if result.get("error") is not None:
        state, value = states.ERROR, result["error"]
    else:
        state, value = (
            states.SUCCESS,
            actions.transform_output(resolved.output_transforms, result.get("data")),
        )
    row.update(state=state, output={"result": value}, accepted=True)
    if save:
        db_api.insert_action_executions([row])
        return {"id": row["id"]}
    now = utcnow().strftime("%Y-%m-%d %H:%M:%S")
    shown = {k: row.get(k) for k in ("name", "state", "input", "output", "description", "params")}
    return {"id": None, **shown, "workflow_namespace": namespace, "created_at": now, "updated_at": now}
