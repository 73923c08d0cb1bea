"""The one way an action request is made: from its action execution's row.

Everything an executor needs (target, safe-rerun, timeout, the execution
context) is written into the row when the action is created, so the first
send, a re-send after a lost message and a re-run after a silent executor
build the very same request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mistral import context
from mistral.actions import registry
from mistral.db import models
from mistral.engine import dynamic_code, outbox, owners, work_queue
from mistral.rpc.payloads import ActionRequest

#: The ``runtime_context`` key of a mocked action's result (a test run's, ``mistral.workflow.mocks``).
MOCK_KEY = "mock"
#: The row columns a request is built from.
COLUMNS = (
    "id", "input", "runtime_context", "task_execution_id", "workflow_name", "workflow_namespace", "project_id"
)  # fmt: skip


@dataclass(frozen=True)
class Delivery:
    """How a task's actions are to be delivered, evaluated once for all of them."""

    target: str | None = None
    safe_rerun: bool = False
    timeout: float | None = None
    #: the task's retry number, told to the action (mistral-lib's ``task_rerun_no``)
    task_rerun_no: int = 0
    #: the queue of external workers the actions go to, if any (``work_queue``)
    routing: work_queue.Routing = work_queue.Routing()


def runtime_context(
    system_name: str,
    transforms: list[Any],
    delivery: Delivery,
    *,
    index: int = 0,
    wf_ex: models.WorkflowExecution | None = None,
    dynamic: dict[str, Any] | None = None,
    mocked: dict[str, Any] | None = None,
    task_name: str | None = None,
) -> dict[str, Any]:
    """The ``runtime_context`` of a new action execution; ``mocked``: the result a test run gives it."""
    runtime: dict[str, Any] = {"index": index, "system_name": system_name, "transforms": transforms}
    if mocked is not None:
        runtime[MOCK_KEY] = mocked
    else:
        runtime.update(work_queue.runtime(system_name, delivery.routing, task_name))
    if dynamic is not None:
        # NOTE: which class of which code source, not the code: every send reads the code source's
        # current text (dynamic_code), as Mistral runs the latest version, and rows stay small.
        runtime["dynamic"] = dynamic
    # NOTE: only what differs from the defaults: every action row carries this, and every result reads it.
    if delivery.target is not None:
        runtime["target"] = delivery.target
    if delivery.safe_rerun:
        runtime["safe_rerun"] = True
    if delivery.timeout is not None:
        runtime["timeout"] = delivery.timeout
    if delivery.task_rerun_no:
        runtime["task_rerun_no"] = delivery.task_rerun_no
    if wf_ex is not None:
        runtime["workflow_execution_id"] = wf_ex.id
        runtime["root_execution_id"] = wf_ex.root_execution_id or wf_ex.id
        owner = owners.record_of(wf_ex)
        if owner:
            runtime[owners.KEY] = owner
        credentials = owners.credentials_of(wf_ex)
        if credentials and needs_credentials(system_name):
            runtime[owners.CREDENTIALS_KEY] = credentials
    return runtime


def needs_credentials(system_name: str) -> bool:
    """Whether an action may call OpenStack as its starter: every plugin may, no std.* action does.

    NOTE: the token and catalog (KiBs in a real cloud) are then stored only in the rows of actions
    that may use them, not in every std.echo of a large with-items.
    """
    return not system_name.startswith(registry.BUILTIN_PREFIX)


def build(row: Mapping[str, Any], *, redelivered: bool = False) -> ActionRequest:
    """The request for the action execution whose column values are ``row``."""
    runtime = row.get("runtime_context") or {}
    action_ex_id = row["id"]
    return ActionRequest(
        action_ex_id=action_ex_id,
        action_name=runtime.get("system_name") or row.get("name") or "",
        input=dict(row.get("input") or {}),
        target=runtime.get("target"),
        safe_rerun=bool(runtime.get("safe_rerun")),
        timeout=runtime.get("timeout"),
        redelivered=redelivered,
        owner={"project_id": row.get("project_id"), **(runtime.get(owners.KEY) or {})},
        dynamic=dynamic_code.payload(runtime["dynamic"]) if runtime.get("dynamic") else None,
        credentials=_credentials(runtime),
        context={
            "workflow_execution_id": runtime.get("workflow_execution_id"),
            "task_execution_id": row.get("task_execution_id"),
            "action_execution_id": action_ex_id,
            "workflow_name": row.get("workflow_name"),
            "workflow_namespace": row.get("workflow_namespace"),
            "root_execution_id": runtime.get("root_execution_id"),
            "with_items_index": runtime.get("index", 0),
            "task_rerun_no": runtime.get("task_rerun_no", 0),
            "callback_url": f"/v2/action_executions/{action_ex_id}",
        },
    )


def _credentials(runtime: Mapping[str, Any]) -> dict[str, Any]:
    """The execution's credentials; else any an owner record carries (a trigger's trust-scoped token)."""
    owner = runtime.get(owners.KEY) or {}
    from_owner = {k: owner[k] for k in context.CREDENTIAL_FIELDS if owner.get(k)}
    return {**from_owner, **(runtime.get(owners.CREDENTIALS_KEY) or {})}


def of(action_ex: models.ActionExecution, *, redelivered: bool = False) -> ActionRequest:
    """The request of a stored action execution (a re-send or a re-run)."""
    row = {name: getattr(action_ex, name) for name in COLUMNS}
    row["name"] = action_ex.name
    return build(row, redelivered=redelivered)


def queue(request: ActionRequest) -> None:
    """Send ``request`` once the current transaction has committed."""
    outbox.current().actions.append(request)


def mocked_result(runtime: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The result a test run's mocked action gives (``{"data"|"error": ...}``), or None for a real one."""
    return (runtime or {}).get(MOCK_KEY)


def queue_row(row: Mapping[str, Any]) -> None:
    """Send the new action ``row`` to the executors, or, mocked, its result to an engine (after commit).

    NOTE: a mocked action never reaches an executor: its result takes the path an executor's
    takes, so the task goes on exactly as after a real result.
    """
    if not _sent_mocked(row["id"], row.get("runtime_context")):
        queue(build(row))


def queue_again(action_ex: models.ActionExecution) -> None:
    """Send a stored action nobody took once more (recovery); a mocked one gives its result again."""
    if not _sent_mocked(action_ex.id, action_ex.runtime_context):
        queue(of(action_ex))


def _sent_mocked(action_ex_id: str, runtime: Mapping[str, Any] | None) -> bool:
    """A mocked action's result goes to an engine (after commit) instead of the action to an executor."""
    mocked = mocked_result(runtime)
    if mocked is None:
        return False
    outbox.current().results.append({"action_ex_id": action_ex_id, **mocked})
    return True
