"""Why an execution is waiting: for each of its unfinished tasks, what it waits for, in words and data.

``derive`` decides from rows already read (``Facts``) and does no I/O; ``read_facts`` reads them in a
few queries whatever the size of the execution; ``execution_waits`` is both, for ``/waits``. The
report (``execution_reports``) derives the same waits from the rows it has read for its tree.

Everything is read from what the engine already records: task states, the join counts and with-items
progress of a task's runtime record, the retry's next attempt time, the scheduled job that ends a
delay (``delay:<task id>``), the running actions (sent, taken by which executor, its heartbeat), the
sub-executions, and the states of the execution and of its parents.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mistral.db import api as db_api
from mistral.db import models
from mistral.db.api import Filter, ListQuery
from mistral.lang import stored
from mistral.workflow import direct, states

JOIN = "join"
WAIT_BEFORE = "wait-before"
WAIT_AFTER = "wait-after"
RETRY = "retry"
DELAYED = "delayed"
EXECUTOR = "executor"
ASYNC_RESULT = "async-result"
WORKER_QUEUE = "worker-queue"
WITH_ITEMS = "with-items"
SUB_WORKFLOW = "sub-workflow"
PAUSED = "paused"
PAUSE_BEFORE = "pause-before"
STARTING = "starting"

#: The job that ends a task's delay, by the function it runs: what the delay is for.
#: NOTE: the names of ``mistral.engine.policy_decisions`` (services do not import the engine);
#: tests/unit/services/test_execution_waits.py checks that they stay the same.
DELAY_JOBS = {
    "engine.resume_delayed_task": WAIT_BEFORE,
    "engine.retry_task": RETRY,
    "engine.finish_delayed_task": WAIT_AFTER,
}


def delay_key(task_ex_id: str) -> str:
    """The key of the job ending a task's delay (``policies.job_key`` in the engine)."""
    return f"delay:{task_ex_id}"


@dataclass(frozen=True)
class Reason:
    """One thing a task waits for: ``kind`` for programs, ``message`` for people, ``data`` for both."""

    kind: str
    message: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "data": dict(self.data)}


@dataclass(frozen=True)
class TaskWaits:
    task_ex: models.TaskExecution
    reasons: tuple[Reason, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "task_execution_id": self.task_ex.id,
            "task_name": self.task_ex.name,
            "state": self.task_ex.state,
            "workflow_execution_id": self.task_ex.workflow_execution_id,
            "reasons": [r.to_dict() for r in self.reasons],
        }


@dataclass(frozen=True)
class Join:
    """A join task's inbound tasks, how many it needs, and which of them have finished."""

    inbound: tuple[str, ...]
    required: int
    finished: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Facts:
    """The rows an execution's waits are derived from."""

    wf_ex: models.WorkflowExecution
    #: its unfinished tasks
    tasks: Sequence[models.TaskExecution]
    #: the running actions of those tasks, by task id
    actions: Mapping[str, Sequence[models.ActionExecution]] = field(default_factory=dict)
    #: the sub-executions of those tasks, by task id
    subs: Mapping[str, Sequence[models.WorkflowExecution]] = field(default_factory=dict)
    #: the jobs ending the delays of delayed tasks, by key (``delay_key``)
    jobs: Mapping[str, models.ScheduledJob] = field(default_factory=dict)
    #: the waiting join tasks' shapes, by task name
    joins: Mapping[str, Join] = field(default_factory=dict)
    #: this execution or the nearest parent that is PAUSED, if one is
    paused: models.WorkflowExecution | None = None
    #: what actions that are not for executors wait for, by action id (``worker_queue_waits``)
    queued: Mapping[str, Reason] = field(default_factory=dict)


def time_text(value: datetime.datetime | str | None) -> str | None:
    """The API's time format (``YYYY-MM-DD HH:MM:SS``, UTC); an ISO text (runtime records) is read first."""
    if isinstance(value, str):
        try:
            return datetime.datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            return value
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else None


def _runtime(task_ex: models.TaskExecution) -> dict[str, Any]:
    # NOTE: the engine's TaskRuntime record, read as the JSON it is stored as (services do not import it).
    return task_ex.runtime_context or {}


def next_retry_at(task_ex: models.TaskExecution) -> str | None:
    """When the task's next attempt starts, while it waits for one."""
    if task_ex.state != states.RUNNING_DELAYED:
        return None
    return time_text(_runtime(task_ex).get("next_retry_at"))


# -- the decision ------------------------------------------------------------------


def derive(facts: Facts) -> list[TaskWaits]:
    """What each unfinished task of ``facts`` waits for, in the tasks' order."""
    unfinished = [t for t in facts.tasks if not states.is_completed(t.state)]
    return [TaskWaits(t, tuple(task_reasons(facts, t))) for t in unfinished]


def task_reasons(facts: Facts, task_ex: models.TaskExecution) -> list[Reason]:
    reasons: list[Reason] = []
    if task_ex.state == states.WAITING:
        reasons.append(_join(task_ex, facts.joins.get(task_ex.name)))
    elif task_ex.state == states.RUNNING_DELAYED:
        reasons.append(_delay(task_ex, facts.jobs.get(delay_key(task_ex.id))))
    elif task_ex.state == states.IDLE and _runtime(task_ex).get("pause_before_done"):
        message = f"Held before it ran by pause-before of task '{task_ex.name}'; resuming runs it"
        reasons.append(Reason(PAUSE_BEFORE, message))
    elif task_ex.state in (states.RUNNING, states.PAUSED):
        reasons += _work(facts, task_ex)
    if facts.paused is not None:
        reasons.append(_paused(facts.wf_ex, facts.paused))
    return reasons


def _join(task_ex: models.TaskExecution, join: Join | None) -> Reason:
    counts = _runtime(task_ex).get("join") or {}
    arrived, missed = int(counts.get("arrived", 0)), int(counts.get("missed", 0))
    if join is None:
        return Reason(JOIN, f"Waits for its inbound branches (join): {arrived} arrived", {"arrived": arrived})
    waiting_for = [name for name in join.inbound if name not in join.finished]
    more = max(join.required - arrived, 0)
    data = {
        "required": join.required,
        "arrived": arrived,
        "missed": missed,
        "inbound": list(join.inbound),
        "waiting_for": waiting_for,
    }
    names = ", ".join(f"'{n}'" for n in waiting_for) or "none left"
    message = f"Waits for {more} more of its inbound tasks (join: {arrived} of {join.required}): {names}"
    return Reason(JOIN, message, data)


def _delay(task_ex: models.TaskExecution, job: models.ScheduledJob | None) -> Reason:
    runtime = _runtime(task_ex)
    kind = DELAY_JOBS.get(job.func_name, DELAYED) if job is not None else DELAYED
    if kind == DELAYED and runtime.get("next_retry_at") and runtime.get("retry_no"):
        kind = RETRY  # NOTE: its job is running right now (claimed): the record says what it was for
    until = time_text(job.run_after) if job is not None else None
    if kind == RETRY:
        until = time_text(runtime.get("next_retry_at")) or until
        retry_no = int(runtime.get("retry_no", 0))
        data = {"until": until, "retry_no": retry_no, "next_attempt_at": until}
        return Reason(RETRY, f"Attempt {retry_no + 1} starts at {until} (retry)", data)
    what = {WAIT_BEFORE: "Starts", WAIT_AFTER: "Completes"}.get(kind, "Goes on")
    return Reason(kind, f"{what} at {until} ({kind})", {"until": until})


def _work(facts: Facts, task_ex: models.TaskExecution) -> list[Reason]:
    reasons: list[Reason] = []
    progress = _runtime(task_ex).get("with_items")
    if progress:
        reasons.append(_items(progress))
    for child in facts.subs.get(task_ex.id, ()):
        if not states.is_completed(child.state):
            data = {"execution_id": child.id, "workflow_name": child.workflow_name, "state": child.state}
            message = f"Waits for its sub-workflow '{child.workflow_name}' {child.id} ({child.state})"
            reasons.append(Reason(SUB_WORKFLOW, message, data))
    reasons += action_reasons(facts.actions.get(task_ex.id, ()), facts.queued)
    if not reasons and task_ex.state == states.RUNNING:
        reasons.append(Reason(STARTING, "Running: its action or sub-workflow is being created"))
    return reasons


def _items(progress: Mapping[str, Any]) -> Reason:
    count, done, launched = (int(progress.get(k, 0)) for k in ("count", "done", "next"))
    concurrency = int(progress.get("concurrency", 0))
    running, waiting = max(launched - done, 0), max(count - launched, 0)
    data = {
        "count": count,
        "done": done,
        "failed": int(progress.get("failed", 0)),
        "running": running,
        "waiting": waiting,
        "concurrency": concurrency,
    }
    message = f"{done} of {count} items done, {running} running"
    if concurrency and waiting:
        message += f"; {waiting} wait for a free slot (concurrency {concurrency})"
    elif waiting:
        message += f"; {waiting} wait to be launched as others end ([engine] with_items_window)"
    return Reason(WITH_ITEMS, message, data)


def action_reasons(actions: Iterable[models.ActionExecution], queued: Mapping[str, Reason]) -> list[Reason]:
    """What running actions wait for: ``queued`` answers those on a worker queue, the rest are executors'."""
    return [queued.get(a.id) or executor_reason(a) for a in actions if a.state == states.RUNNING]


def executor_reason(action_ex: models.ActionExecution) -> Reason:
    data: dict[str, Any] = {
        "action_execution_id": action_ex.id,
        "action_name": action_ex.name,
        "sent_at": time_text(action_ex.sent_at),
        "taken_at": time_text(action_ex.taken_at),
        "executor": action_ex.executor_host,
        "last_heartbeat": time_text(action_ex.last_heartbeat),
    }
    name = f"Action '{action_ex.name}' {action_ex.id}"
    if action_ex.taken_at is None:
        since = time_text(action_ex.offered_at or action_ex.sent_at or action_ex.created_at)
        data["queued_since"] = since
        return Reason(EXECUTOR, f"{name} is queued for an executor since {since}; none has taken it", data)
    taken = f"taken by executor '{action_ex.executor_host}' at {data['taken_at']}"
    if action_ex.last_heartbeat is None and not action_ex.is_sync:
        message = f"{name} was {taken}; it waits for its asynchronous result (PUT /v2/action_executions)"
        return Reason(ASYNC_RESULT, message, data)
    return Reason(EXECUTOR, f"{name} runs, {taken}; last heartbeat {data['last_heartbeat']}", data)


def _paused(wf_ex: models.WorkflowExecution, paused: models.WorkflowExecution) -> Reason:
    data = {"execution_id": paused.id, "workflow_name": paused.workflow_name, "state_info": paused.state_info}
    if paused.id == wf_ex.id:
        return Reason(PAUSED, f"Its workflow is paused: {paused.state_info or 'no reason given'}", data)
    message = f"Its parent execution '{paused.workflow_name}' {paused.id} is paused"
    return Reason(PAUSED, message, data)


# -- reading the rows ----------------------------------------------------------------


def worker_queue_waits(actions: Sequence[models.ActionExecution]) -> dict[str, Reason]:
    """What the running actions handed to a worker queue (not to executors) wait for, by action id."""
    # NOTE: the engine marks an action its queue took as taken by "queue:NAME" (engine.work_queue).
    queued = [
        a for a in actions if a.state == states.RUNNING and (a.executor_host or "").startswith("queue:")
    ]
    if not queued:
        return {}
    items = db_api.list_work_items(_in("action_execution_id", [a.id for a in queued]))
    by_action = {item.action_execution_id: item for item in items}
    return {a.id: worker_queue_reason(a, by_action[a.id]) for a in queued if a.id in by_action}


def worker_queue_reason(action_ex: models.ActionExecution, item: models.WorkItem) -> Reason:
    """An action on a worker queue: waiting for a worker to claim it, or held by one under a lease."""
    data: dict[str, Any] = {
        "action_execution_id": action_ex.id,
        "action_name": action_ex.name,
        "work_item_id": item.id,
        "queue": item.queue,
        "tags": list(item.tags or []),
        "state": item.state,
        "attempt": item.attempt,
        "queued_since": time_text(item.created_at),
        "worker": item.worker,
        "lease_expires_at": time_text(item.lease_expires_at),
        "last_heartbeat": time_text(item.updated_at),
    }
    where = f"queue '{item.queue}'" + (f" (tags {', '.join(data['tags'])})" if data["tags"] else "")
    name = f"Action '{action_ex.name}' {action_ex.id}"
    if item.state == db_api.WORK_CLAIMED:
        message = (
            f"{name} is held by worker '{item.worker}' from {where} (attempt {item.attempt}); "
            f"its lease runs to {data['lease_expires_at']}, last renewed {data['last_heartbeat']}"
        )
    elif item.state == db_api.WORK_PAUSED:
        message = f"{name} is withheld from {where} while its workflow is paused"
    else:
        message = f"{name} waits in {where} since {data['queued_since']}; no worker has claimed it"
    return Reason(WORKER_QUEUE, message, data)


def _in(column: str, ids: Sequence[str], **more: Filter) -> ListQuery:
    return ListQuery(filters={column: Filter("in", list(ids)), **more})


def _paused_parent(wf_ex: models.WorkflowExecution) -> models.WorkflowExecution | None:
    """This execution or its nearest paused parent (two reads a level, for sub-workflows only)."""
    current: models.WorkflowExecution | None = wf_ex
    while current is not None:
        if current.state == states.PAUSED:
            return current
        if not current.task_execution_id:
            return None
        parent_task = db_api.load_task_execution(current.task_execution_id)
        current = db_api.load_workflow_execution(parent_task.workflow_execution_id) if parent_task else None
    return None


def _joins(wf_ex: models.WorkflowExecution, waiting: Sequence[models.TaskExecution]) -> dict[str, Join]:
    if not waiting:
        return {}
    runtime = wf_ex.runtime_context or {}
    # NOTE: read in this transaction: the spec is a deferred column, and the report's rows are detached.
    data = db_api.get_workflow_execution(wf_ex.id).spec or {}
    spec = stored.workflow_spec(wf_ex.workflow_name or "", data, runtime.get("workbook_name"))
    inbound = direct.inbound_tasks(spec)
    names = {n for t in waiting if t.name in spec.tasks for n in inbound[t.name]}
    done = db_api.find_task_executions(wf_ex.id, names=sorted(names), states=sorted(states.COMPLETED))
    finished = frozenset(t.name for t in done)
    return {
        t.name: Join(tuple(inbound[t.name]), direct.join_requirement(spec, spec.tasks[t.name]), finished)
        for t in waiting
        if t.name in spec.tasks
    }


def read_facts(
    wf_ex: models.WorkflowExecution,
    tasks: Sequence[models.TaskExecution],
    *,
    actions: Mapping[str, Sequence[models.ActionExecution]] | None = None,
    subs: Mapping[str, Sequence[models.WorkflowExecution]] | None = None,
) -> Facts:
    """The rows the waits of ``tasks`` (unfinished tasks of ``wf_ex``) are derived from.

    ``actions`` and ``subs`` by task id, when the caller has read them already (the report).
    """
    with db_api.transaction(read_only=True):
        ids = [t.id for t in tasks]
        if actions is None:
            running = _in("task_execution_id", ids, state=Filter("eq", states.RUNNING))
            actions = _group(db_api.list_action_executions(running) if ids else [], "task_execution_id")
        if subs is None:
            parents = [t.id for t in tasks if t.type == "WORKFLOW"]
            found = db_api.list_workflow_executions(_in("task_execution_id", parents)) if parents else []
            subs = _group(found, "task_execution_id")
        delayed = [delay_key(t.id) for t in tasks if t.state == states.RUNNING_DELAYED]
        jobs = {j.key: j for j in db_api.find_scheduled_jobs_by_keys(delayed) if j.key}
        all_actions = [a for group in actions.values() for a in group if a.state == states.RUNNING]
        return Facts(
            wf_ex,
            tasks,
            actions=actions,
            subs=subs,
            jobs=jobs,
            joins=_joins(wf_ex, [t for t in tasks if t.state == states.WAITING]),
            paused=_paused_parent(wf_ex),
            queued=worker_queue_waits(all_actions),
        )


def _group(rows: Iterable[Any], key: str) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        grouped.setdefault(getattr(row, key), []).append(row)
    return grouped


def execution_waits(wf_ex_id: str) -> dict[str, Any]:
    """``GET /v2/executions/{id}/waits``: the execution's state and what each unfinished task waits for."""
    with db_api.transaction(read_only=True):
        wf_ex = db_api.get_workflow_execution(wf_ex_id)
        tasks = db_api.find_task_executions(wf_ex.id, states=sorted(states.TASK_NOT_COMPLETED))
        waits = derive(read_facts(wf_ex, tasks))
        return {
            "id": wf_ex.id,
            "workflow_name": wf_ex.workflow_name,
            "state": wf_ex.state,
            "state_info": wf_ex.state_info,
            "waits": [w.to_dict() for w in waits],
        }
