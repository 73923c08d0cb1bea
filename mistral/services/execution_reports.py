"""Execution trees: the sub-executions list and the report of ``/executions/{id}/report``.

Each level of a tree costs the same few queries however wide it is.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from mistral.db import api as db_api
from mistral.db import models
from mistral.db.api import Filter, ListQuery
from mistral.services import execution_waits
from mistral.workflow import states


def _group(items: Iterable[Any], key: str) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = collections.defaultdict(list)
    for item in items:
        grouped[getattr(item, key)].append(item)
    return grouped


def _in(column: str, ids: Sequence[str]) -> ListQuery:
    return ListQuery(filters={column: Filter("in", list(ids))})


@dataclass
class _Level:
    """One level of a tree: the tasks of some executions, their actions and sub-executions."""

    tasks: dict[str, list[models.TaskExecution]]
    actions: dict[str, list[models.ActionExecution]]
    subs: dict[str, list[models.WorkflowExecution]]


def _level(wf_ex_ids: Sequence[str], *, with_actions: bool = False) -> _Level:
    """Three queries whatever the width of the level."""
    tasks = db_api.list_task_executions(_in("workflow_execution_id", wf_ex_ids)) if wf_ex_ids else []
    task_ids = [t.id for t in tasks]
    subs = db_api.list_workflow_executions(_in("task_execution_id", task_ids)) if task_ids else []
    actions = []
    if with_actions and task_ids:
        actions = db_api.list_action_executions(_in("task_execution_id", task_ids))
    return _Level(
        _group(tasks, "workflow_execution_id"),
        _group(actions, "task_execution_id"),
        _group(subs, "task_execution_id"),
    )


def execution_tree(
    roots: Sequence[models.WorkflowExecution], *, errors_only: bool = False, max_depth: int = -1
) -> list[models.WorkflowExecution]:
    """The roots and their sub-workflow executions, flattened depth first.

    ``max_depth`` counts levels below the roots (-1: all); ``errors_only``
    keeps only sub-executions in ERROR (and looks only below those).
    """
    children: dict[str, list[models.WorkflowExecution]] = {}
    level, depth = list(roots), 0
    while level and (max_depth < 0 or depth < max_depth):
        found = _level([w.id for w in level])
        next_level = []
        for wf_ex in level:
            kids = [s for t in found.tasks.get(wf_ex.id, []) for s in found.subs.get(t.id, [])]
            if errors_only:
                kids = [k for k in kids if k.state == states.ERROR]
            children[wf_ex.id] = kids
            next_level += kids
        level, depth = next_level, depth + 1
    flat: list[models.WorkflowExecution] = []
    stack = list(reversed(roots))
    while stack:
        wf_ex = stack.pop()
        flat.append(wf_ex)
        stack += reversed(children.get(wf_ex.id, []))
    return flat


def task_sub_executions(
    task_ex_id: str, *, errors_only: bool = False, max_depth: int = -1
) -> list[models.WorkflowExecution]:
    """The executions a task started and theirs; ``max_depth`` counts levels below the task's own."""
    db_api.get_task_execution(task_ex_id)
    roots = db_api.list_workflow_executions(_in("task_execution_id", [task_ex_id]))
    if errors_only:
        roots = [r for r in roots if r.state == states.ERROR]
    return execution_tree(roots, errors_only=errors_only, max_depth=max_depth)


# -- report ---------------------------------------------------------------------

STAT_BY_STATE = {
    states.RUNNING: "running_tasks_count",
    states.RUNNING_DELAYED: "running_tasks_count",
    states.SUCCESS: "success_tasks_count",
    states.ERROR: "error_tasks_count",
    states.IDLE: "idle_tasks_count",
    states.WAITING: "idle_tasks_count",
    states.PAUSED: "paused_tasks_count",
}


def _wf_entry(wf_ex: models.WorkflowExecution) -> dict[str, Any]:
    return {
        "id": wf_ex.id,
        "name": wf_ex.workflow_name,
        "state": wf_ex.state,
        "state_info": wf_ex.state_info,
        "created_at": execution_waits.time_text(wf_ex.created_at),
        "updated_at": execution_waits.time_text(wf_ex.updated_at),
    }


def _retry_count(task_ex: models.TaskExecution) -> int:
    runtime = task_ex.runtime_context or {}
    policy = runtime.get("retry_task_policy") or {}
    return int(policy.get("retry_no", runtime.get("retry_no", 0)) or 0)


def _superseded_by(task_ex: models.TaskExecution) -> str | None:
    """The task whose re-run replaced this execution (the engine's TaskRuntime.superseded_by)."""
    return (task_ex.runtime_context or {}).get("superseded_by")


def _task_entry(task_ex: models.TaskExecution) -> dict[str, Any]:
    return {
        "id": task_ex.id,
        "name": task_ex.name,
        "type": task_ex.type,
        "workflow_execution_id": task_ex.workflow_execution_id,
        "state": task_ex.state,
        "state_info": task_ex.state_info,
        "created_at": execution_waits.time_text(task_ex.created_at),
        "updated_at": execution_waits.time_text(task_ex.updated_at),
        "started_at": execution_waits.time_text(task_ex.started_at),
        "finished_at": execution_waits.time_text(task_ex.finished_at),
        "retry_count": _retry_count(task_ex),
        "next_retry_at": execution_waits.next_retry_at(task_ex),
        "superseded_by": _superseded_by(task_ex),
    }


def _action_entry(action_ex: models.ActionExecution) -> dict[str, Any]:
    return {
        "id": action_ex.id,
        "name": action_ex.name,
        "state": action_ex.state,
        "state_info": action_ex.state_info,
        "created_at": execution_waits.time_text(action_ex.created_at),
        "updated_at": execution_waits.time_text(action_ex.updated_at),
        "accepted": action_ex.result_applied,
        "last_heartbeat": execution_waits.time_text(action_ex.last_heartbeat),
    }


def _estimated_time(root: models.WorkflowExecution, tasks: list[models.TaskExecution]) -> int | None:
    """Seconds left: the mean duration of finished tasks times the unfinished ones (None: no basis)."""
    if states.is_completed(root.state):
        return 0
    durations = [
        (t.finished_at - t.started_at).total_seconds() for t in tasks if t.started_at and t.finished_at
    ]
    if not durations:
        return None
    unfinished = sum(1 for t in tasks if not states.is_completed(t.state))
    return round(sum(durations) / len(durations) * unfinished)


def _level_waits(wf_ex: models.WorkflowExecution, found: _Level) -> dict[str, list[dict[str, Any]]]:
    """What the unfinished tasks of ``wf_ex`` wait for, by task id, from the rows the level read."""
    unfinished = [t for t in found.tasks.get(wf_ex.id, []) if not states.is_completed(t.state)]
    if not unfinished:
        return {}
    facts = execution_waits.read_facts(wf_ex, unfinished, actions=found.actions, subs=found.subs)
    return {w.task_ex.id: [r.to_dict() for r in w.reasons] for w in execution_waits.derive(facts)}


def build_report(
    wf_ex_id: str, *, errors_only: bool = False, max_depth: int = -1, statistics_only: bool = False
) -> dict[str, Any]:
    """Statistics over the tree's tasks and, unless ``statistics_only``, the tree itself.

    ``max_depth`` limits how many levels of sub-workflows are opened (-1:
    all; 0: only the root's tasks); ``errors_only`` keeps ERROR tasks only in the tree.

    NOTE: the statistics count every task of the levels opened, ``errors_only`` or not. Mistral
    counts only the tasks it shows, and its CLI asks for errors only by default: it printed
    "0 tasks in SUCCESS" for a run whose other tasks all succeeded. Executions a re-run
    superseded are shown (``superseded_by``) but not counted: they are history.
    """
    root = db_api.get_workflow_execution(wf_ex_id)
    stats = dict.fromkeys(
        ["total_tasks_count", *sorted(set(STAT_BY_STATE.values()))],
        0,
    )
    counted: list[models.TaskExecution] = []
    root_entry = _wf_entry(root)
    frontier, depth = [(root, root_entry)], 0
    while frontier:
        found = _level([w.id for w, _ in frontier], with_actions=True)
        next_frontier = []
        for wf_ex, entry in frontier:
            entry["task_executions"] = []
            waits = _level_waits(wf_ex, found) if not statistics_only else {}
            for task_ex in found.tasks.get(wf_ex.id, []):
                if not _superseded_by(task_ex):
                    counted.append(task_ex)
                    stats["total_tasks_count"] += 1
                    if task_ex.state in STAT_BY_STATE:
                        stats[STAT_BY_STATE[task_ex.state]] += 1
                t_entry = _task_entry(task_ex)
                t_entry["waits"] = waits.get(task_ex.id, [])
                t_entry["action_executions"] = [_action_entry(a) for a in found.actions.get(task_ex.id, [])]
                t_entry["workflow_executions"] = []
                for sub in found.subs.get(task_ex.id, []):
                    sub_entry = _wf_entry(sub)
                    t_entry["workflow_executions"].append(sub_entry)
                    if max_depth < 0 or depth < max_depth:
                        next_frontier.append((sub, sub_entry))
                # NOTE: left out of the tree, still counted, and so are the tasks below it
                if not errors_only or task_ex.state == states.ERROR:
                    entry["task_executions"].append(t_entry)
        frontier, depth = next_frontier, depth + 1
    estimated = _estimated_time(root, counted)
    if estimated is not None:
        stats["estimated_time"] = estimated
    report: dict[str, Any] = {"statistics": stats}
    if not statistics_only:
        report["root_workflow_execution"] = root_entry
    return report
