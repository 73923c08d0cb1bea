"""Actions run directly through the API (``POST /v2/action_executions``), outside any workflow."""

from __future__ import annotations

from typing import Any

from mistral import context
from mistral.db import api as db_api
from mistral.db.types import utcnow
from mistral.engine import action_requests, action_results, actions, owners
from mistral.engine.unit_of_work import unit_of_work
from mistral.exceptions import InputError
from mistral.rpc import clients


def start(name: str, action_input: dict[str, Any], description: str, namespace: str,
          params: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    # NOTE: resolved as the caller: a direct run may use only the actions the caller can see.
    resolved = actions.resolve(context.current(), name, action_input or {}, namespace)
    save = bool(params.get("save_result"))
    run_sync = params.get("run_sync")
    if run_sync and not resolved.is_sync:
        raise InputError(f"Action {name} is asynchronous; it can't be run with run_sync")
    delivery = action_requests.Delivery(target=params.get("target"), timeout=params.get("timeout"))
    row = _row(resolved, delivery, description, namespace, params)
    if resolved.is_sync and (run_sync or not save):
        return _run_now(row, resolved, namespace, params, save)
    _insert_and_send(row)
    # NOTE: "sent": the answer shows the action as sent, whatever the executor has done with it since.
    return {"id": row["id"], "sent": True}


@db_api.retry_on_transient
def _insert_and_send(row: dict[str, Any]) -> None:
    with unit_of_work(internal=False):
        actions.insert_and_send([row])


def _row(resolved: actions.ResolvedAction, delivery: action_requests.Delivery, description: str,
         namespace: str, params: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    row = actions.new_action_row(None, None, resolved, delivery)
    owner = context.current().owner_record()
    if owner:
        row["runtime_context"][owners.KEY] = owner
    # An action run directly (``mistral run-action nova.servers_list``) calls OpenStack as its caller.
    credentials = context.current().credentials()
    if credentials and action_requests.needs_credentials(resolved.system_name):
        row["runtime_context"][owners.CREDENTIALS_KEY] = credentials
    row.update(
        description=description,
        workflow_namespace=namespace,
        params=params,
        project_id=context.current().project_id,
    )
    return row


def _run_now(row: dict[str, Any], resolved: actions.ResolvedAction, namespace: str, params: dict[str, Any],
             save: bool) -> dict[str, Any]:  # fmt: skip
    request = action_requests.build(row)
    result = clients.executor().run_action_sync(
        request.to_dict(), target=request.target, timeout=request.timeout
    )
    row.update(action_results.outcome(result, resolved.output_transforms).columns)
    if save:
        db_api.run_with_retry(db_api.insert_action_executions, [row])
        return {"id": row["id"]}
    now = utcnow().strftime("%Y-%m-%d %H:%M:%S")
    shown = {k: row.get(k) for k in ("name", "state", "input", "output", "description", "params")}
    return {"id": None, **shown, "workflow_namespace": namespace, "created_at": now, "updated_at": now}
