"""Actions for external workers: queued as work items instead of being sent to an executor.

A task's actions go to a named queue when the task (or ``task-defaults``) says ``queue: NAME``,
or when the action is ``std.external`` (queue ``default`` unless the task names one). The
action execution is created RUNNING and, in the same transaction, its work item: it is marked
taken by ``queue:NAME`` at once, so recovery never sends it to an executor, and it carries no
heartbeat (the work item's lease is its liveness).

A worker's result comes back through ``PUT /v2/action_executions/{id}`` as an asynchronous
action's does. It travels as an action result marked with the worker's lease (``result_entry``),
through the engine's batched result path: ``settle_all`` decides, under the items' row locks and
in the transaction that applies the accepted results, which ones count (``settle``).
Lease expiry (``expire_leases``, run by the recovery job) queues an item again with attempts
left and fails its action when none are left.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mistral.db import api as db_api
from mistral.db import models
from mistral.exceptions import ConflictError
from mistral.workflow import states

LOG = logging.getLogger(__name__)

EXTERNAL_ACTION = "std.external"
DEFAULT_QUEUE = "default"
#: runtime_context keys of a queued action.
QUEUE_KEY, TAGS_KEY, ATTEMPTS_KEY, TASK_KEY = "queue", "queue_tags", "queue_max_attempts", "queue_task"
#: Items failed per check of expired leases.
BATCH = 200
#: The key that marks an action result as a worker's; its value is the worker's lease token (or None).
LEASE_KEY = "worker_lease_token"


@dataclass(frozen=True)
class Routing:
    """Which queue a task's actions go to, the tags workers select on, and how many claims each may have."""

    queue: str | None = None
    tags: tuple[str, ...] = ()
    max_attempts: int = 1


def runtime(system_name: str, routing: Routing, task_name: str | None) -> dict[str, Any]:
    """The runtime_context entries of an action going to a queue; empty for one an executor runs."""
    queue = routing.queue or (DEFAULT_QUEUE if system_name == EXTERNAL_ACTION else None)
    if queue is None:
        return {}
    return {
        QUEUE_KEY: queue,
        TAGS_KEY: list(routing.tags),
        ATTEMPTS_KEY: max(int(routing.max_attempts), 1),
        TASK_KEY: task_name,
    }


def is_queued(action_ex: models.ActionExecution | db_api.ActionToApply) -> bool:
    return bool((action_ex.runtime_context or {}).get(QUEUE_KEY))


def split(rows: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rows for executors, rows for queues)."""
    sent: list[dict[str, Any]] = []
    queued: list[dict[str, Any]] = []
    for row in rows:
        (queued if (row.get("runtime_context") or {}).get(QUEUE_KEY) else sent).append(row)
    return sent, queued


def mark_taken(queued: Sequence[dict[str, Any]], now: datetime.datetime) -> None:
    """Queued actions are taken by their queue: recovery never sends them, and they need no heartbeat."""
    for row in queued:
        row.update(taken_at=now, is_sync=False, executor_host=f"queue:{row['runtime_context'][QUEUE_KEY]}")


def insert_items(rows: Sequence[Mapping[str, Any]], project_id: str) -> None:
    """The work items of queued action rows (already inserted, in this transaction)."""
    items = []
    for row in rows:
        runtime_context = row["runtime_context"]
        tags = runtime_context.get(TAGS_KEY) or []
        items.append(
            {
                "project_id": row.get("project_id") or project_id,
                "action_execution_id": row["id"],
                "workflow_execution_id": runtime_context.get("workflow_execution_id"),
                "task_name": runtime_context.get(TASK_KEY),
                "queue": runtime_context[QUEUE_KEY],
                "tags": tags,
                "tag_key": db_api.tag_key(tags),
                "input": row.get("input") or {},
                "max_attempts": runtime_context.get(ATTEMPTS_KEY, 1),
            }
        )
    db_api.insert_work_items(items)


def settle(item: models.WorkItem | db_api.HeldItem | None, lease_token: str | None) -> None:
    """Accept a worker's result for the locked ``item`` or raise ``ConflictError`` (exactly-once).

    With a token the result counts only from the claim the token names (a worker whose lease ran
    out and whose item another worker claimed is refused). Without one the first result wins.
    The item is marked done here; the caller writes that (``settle_all``).
    """
    if item is None:
        return
    if item.state not in db_api.WORK_OPEN:
        raise ConflictError(f"Work item {item.id} is {item.state}; its result is refused")
    if lease_token is not None and (item.state != db_api.WORK_CLAIMED or item.lease_token != lease_token):
        raise ConflictError(
            f"Work item {item.id}: the lease {lease_token} is no longer held (the item is {item.state}, "
            f"attempt {item.attempt}); its result is refused"
        )
    item.state = db_api.WORK_DONE


def result_entry(
    action_ex: models.ActionExecution | db_api.ActionToApply,
    result: Mapping[str, Any],
    lease_token: str | None,
) -> dict[str, Any]:
    """A worker's result as an action result the batched path applies, marked with its lease."""
    wf_ex_id = (action_ex.runtime_context or {}).get("workflow_execution_id")
    return {"action_ex_id": action_ex.id, "workflow_execution_id": wf_ex_id, **result, LEASE_KEY: lease_token}


def is_worker_result(result: Mapping[str, Any]) -> bool:
    return LEASE_KEY in result


def settle_all(results: Sequence[Mapping[str, Any]]) -> set[int]:
    """Settle the worker results of one batch under their items' locks; answer the ``id()`` of those refused.

    NOTE: two results for one item in a batch settle in order on the same row: the second is refused.
    """
    entries = [r for r in results if is_worker_result(r)]
    if not entries:
        return set()
    items = db_api.lock_work_items_of_actions([r["action_ex_id"] for r in entries])
    refused: set[int] = set()
    done: list[str] = []
    for entry in entries:
        item = items.get(entry["action_ex_id"])
        try:
            settle(item, entry[LEASE_KEY])
        except ConflictError as error:
            LOG.info("%s", error)
            refused.add(id(entry))
        else:
            if item is not None:
                done.append(item.id)
    db_api.finish_work_items(done)
    return refused


def refusal(action_ex_id: str, lease_token: str | None) -> ConflictError:
    """Why a worker's result was refused, as the item is now (it was decided under its lock)."""
    try:
        settle(db_api.load_work_item_of_action(action_ex_id), lease_token)
    except ConflictError as error:
        return error
    return ConflictError(f"Action execution {action_ex_id} is no longer RUNNING; the result is refused")


def close(pairs: Sequence[tuple[models.ActionExecution | db_api.ActionToApply, str]]) -> None:
    """Actions that ended (``(action, its new state)``): their items end too, cancelled or done."""
    done = [a.id for a, state in pairs if is_queued(a) and state != states.CANCELLED]
    cancelled = [a.id for a, state in pairs if is_queued(a) and state == states.CANCELLED]
    db_api.close_work_items(done, db_api.WORK_DONE)
    db_api.close_work_items(cancelled, db_api.WORK_CANCELLED)


def expire_leases(now: datetime.datetime) -> list[dict[str, Any]]:
    """Queue again the items whose lease ran out; answer the failures of those with no attempt left.

    The caller applies the failures (as action results) after this transaction has committed.
    """
    requeued = db_api.requeue_expired_work_items(now)
    if requeued:
        LOG.warning("%d work items whose lease ran out are queued again", requeued)
    failures = []
    for item in db_api.fail_exhausted_work_items(now, BATCH):
        failures.append(
            {
                "action_ex_id": item.action_execution_id,
                "error": f"Work item {item.id} of queue '{item.queue}': lease expired {item.attempt} times "
                f"(worker {item.worker}); no attempt left",
            }
        )
    return failures
