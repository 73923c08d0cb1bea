"""Data passing between tasks: contexts, publishing and the expression functions.

A task's expressions see, from weakest to strongest: the workflow input, the
workflow context (``__execution``, ``__env``, vars and global publishes), then
the branch variables the task inherited from the tasks that led to it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from mistral import config, context, expressions
from mistral.db import api as db_api
from mistral.db import models
from mistral.engine import evaluation, owners
from mistral.exceptions import InputError
from mistral.utils.merge import deep_merge
from mistral.workflow import states

# NOTE: one encoder for every size check: json.dumps with options builds a new one per call,
# which costs more than encoding the small inputs and results of a with-items hot path.
_SIZE_ENCODER = json.JSONEncoder(default=str)


def workflow_context(wf_ex: models.WorkflowExecution) -> dict[str, Any]:
    ctx: dict[str, Any] = {}
    ctx.update(wf_ex.input or {})
    wf_ctx = wf_ex.context or {}
    ctx.update({k: v for k, v in wf_ctx.items() if k != expressions.PUBLISHED_GLOBAL_KEY})
    published = wf_ctx.get(expressions.PUBLISHED_GLOBAL_KEY) or {}
    ctx.update(published)
    ctx[expressions.GLOBALS_KEY] = published
    return ctx


def task_context(wf_ex: models.WorkflowExecution, in_context: Mapping[str, Any] | None) -> dict[str, Any]:
    ctx = workflow_context(wf_ex)
    ctx.update(in_context or {})
    return ctx


def outbound_context(task_ex: models.TaskExecution) -> dict[str, Any]:
    """The branch variables a task passes on: what it inherited plus what it published."""
    ctx = dict(task_ex.in_context or {})
    ctx.update(task_ex.published or {})
    return ctx


def merge_contexts(contexts: list[Mapping[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for ctx in contexts:
        if config.CONF.engine.merge_strategy == "merge":
            merged = deep_merge(merged, ctx)
        else:
            merged.update(ctx)
    return merged


def task_view(task_ex: models.TaskExecution, *, with_result: bool = True) -> dict[str, Any]:
    """What ``task()`` returns for a task execution."""
    view = {
        "id": task_ex.id,
        "name": task_ex.name,
        "state": task_ex.state,
        "state_info": task_ex.state_info,
        "published": task_ex.published or {},
        "type": task_ex.type,
        "workflow_execution_id": task_ex.workflow_execution_id,
        "created_at": _time(task_ex.created_at),
        "updated_at": _time(task_ex.updated_at),
    }
    if with_result:
        view["result"] = task_ex.result
    return view


def execution_view(wf_ex: models.WorkflowExecution) -> dict[str, Any]:
    return {
        "id": wf_ex.id,
        "name": wf_ex.workflow_name,
        "input": wf_ex.input or {},
        "params": wf_ex.params or {},
        "state": wf_ex.state,
        "created_at": _time(wf_ex.created_at),
        "updated_at": _time(wf_ex.updated_at),
        "root_execution_id": wf_ex.root_execution_id,
        "task_execution_id": wf_ex.task_execution_id,
    }


def _time(value: Any) -> Any:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else None


def _current_view(current: models.TaskExecution, result: Any) -> dict[str, Any]:
    """``task()`` inside a task: its view, with the result being applied when there is one."""
    view = task_view(current)
    if result is not None:
        view["result"] = result
    return view


def functions(
    wf_ex: models.WorkflowExecution, current: models.TaskExecution | None = None, result: Any = None
) -> expressions.ExpressionFunctions:
    """The DB-backed expression functions for one evaluation.

    ``tasks(id)`` and ``executions()`` read as the execution's owner: they see what
    the owner could list through the API, never another project's executions.
    """

    def task(name: str | None = None) -> Any:
        if name is None or (current is not None and name == current.name):
            if current is None:
                raise InputError("task() without a name is only available inside a task")
            return _current_view(current, result)
        found = db_api.load_last_task_execution(wf_ex.id, name)
        return task_view(found) if found is not None else None

    def tasks(
        workflow_execution_id: str | None = None,
        recursive: bool = False,
        state: str | None = None,
        flat: bool = False,
    ) -> list[dict[str, Any]]:
        ids = [workflow_execution_id or wf_ex.id]
        found: list[models.TaskExecution] = []
        with context.using(owners.of(wf_ex)):
            while ids:
                found += db_api.list_task_executions(
                    db_api.ListQuery(filters={"workflow_execution_id": db_api.Filter("in", ids)})
                )
                ids = [e.id for e in db_api.list_sub_executions(ids)] if recursive else []
        if state:
            found = [t for t in found if t.state == state]
        if flat:
            found = [t for t in found if t.type == "ACTION" or t.state == states.ERROR]
        return [task_view(t, with_result=False) for t in found]

    def execution() -> dict[str, Any]:
        return execution_view(wf_ex)

    def executions(
        id: str | None = None,
        root_execution_id: str | None = None,
        state: str | None = None,
        from_time: str | None = None,
        to_time: str | None = None,
    ) -> list[dict[str, Any]]:
        filters: dict[str, db_api.Filter] = {}
        if id:
            filters["id"] = db_api.Filter("eq", id)
        if root_execution_id:
            filters["root_execution_id"] = db_api.Filter("eq", root_execution_id)
        if state:
            filters["state"] = db_api.Filter("eq", state)
        if from_time:
            filters["created_at"] = db_api.Filter("gte", from_time)
        with context.using(owners.of(wf_ex)):
            found = db_api.list_workflow_executions(db_api.ListQuery(filters=filters))
        if to_time:
            found = [e for e in found if _time(e.created_at) < to_time]
        return [execution_view(e) for e in found]

    def global_var(name: str) -> Any:
        return ((wf_ex.context or {}).get(expressions.PUBLISHED_GLOBAL_KEY) or {}).get(name)

    return expressions.ExpressionFunctions(
        task=task, tasks=tasks, execution=execution, executions=executions, global_var=global_var
    )


#: An expression that names another task (``task(x)``) or lists tasks (``tasks(...)``) reads
#: what its unit of work has changed; ``task()`` alone is the current task, copied anyway.
_READS_OTHER_TASKS = re.compile(r"\btasks\s*\(|\btask\s*\(\s*[^)\s]")


def _tasks_as_seen(wf_ex: models.WorkflowExecution) -> list[dict[str, Any]]:
    """The execution's tasks as this transaction sees them, its own changes included (autoflush)."""
    return [task_view(t) for t in db_api.find_task_executions(wf_ex.id)]


def _seen_key(views: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    # NOTE: what an outcome depends on, without the ids and times that a unit run again
    # gives anew to the rows it creates: the same tasks in the same states give the same key.
    return [(v["name"], v["state"], v["state_info"], v["published"], v.get("result")) for v in views]


def detached_functions(
    wf_ex: models.WorkflowExecution,
    current: models.TaskExecution | None = None,
    result: Any = None,
    seen_tasks: list[dict[str, Any]] | None = None,
) -> expressions.ExpressionFunctions:
    """The expression functions for an evaluation after this transaction ends (engine.evaluation).

    What this transaction holds (the execution, the current task, the globals)
    is copied now; so are the execution's tasks when ``seen_tasks`` gives them,
    for the transaction is rolled back before the evaluation: the database then
    holds the tasks as they were before it, without the result it was applying.
    Other executions are read again when asked for.
    """
    wf_ex_id, execution = wf_ex.id, execution_view(wf_ex)
    globals_ = dict((wf_ex.context or {}).get(expressions.PUBLISHED_GLOBAL_KEY) or {})
    current_view = _current_view(current, result) if current is not None else None
    last_by_name = {view["name"]: view for view in seen_tasks or ()}

    def stored() -> expressions.ExpressionFunctions:
        found = db_api.load_workflow_execution(wf_ex_id)
        if found is None:
            raise InputError(f"Workflow execution {wf_ex_id} is not stored yet: its tasks can't be listed")
        return functions(found)

    def task(name: str | None = None) -> Any:
        if current_view is not None and name in (None, current_view["name"]):
            return current_view
        if name is None:
            raise InputError("task() without a name is only available inside a task")
        if seen_tasks is not None:
            return last_by_name.get(name)
        return _hook(stored().task)(name)

    def tasks(
        workflow_execution_id: str | None = None, recursive: bool = False, state: str | None = None,
        flat: bool = False,
    ) -> list[dict[str, Any]]:  # fmt: skip
        if seen_tasks is None or recursive or workflow_execution_id not in (None, wf_ex_id):
            listed: list[dict[str, Any]]
            listed = _hook(stored().tasks)(workflow_execution_id, recursive, state, flat)
            return listed
        found = [v for v in seen_tasks if not state or v["state"] == state]
        if flat:
            found = [v for v in found if v["type"] == "ACTION" or v["state"] == states.ERROR]
        return [{k: v for k, v in view.items() if k != "result"} for view in found]

    return expressions.ExpressionFunctions(
        task=task,
        tasks=tasks,
        execution=lambda: execution,
        executions=lambda *args, **kwargs: stored().executions(*args, **kwargs),  # type: ignore[misc]
        global_var=globals_.get,
    )


def _hook(hook: Callable[..., Any] | None) -> Callable[..., Any]:
    # NOTE: ``functions`` sets every hook; they are optional only for callers that leave some out.
    assert hook is not None
    return hook


def evaluate(value: Any, wf_ex: models.WorkflowExecution, ctx: Mapping[str, Any],
             current: models.TaskExecution | None = None, result: Any = None) -> Any:  # fmt: skip
    if not expressions.contains_expression(value):
        return value
    return evaluate_expressions(value, wf_ex, ctx, current, result)


def evaluate_expressions(value: Any, wf_ex: models.WorkflowExecution, ctx: Mapping[str, Any],
                         current: models.TaskExecution | None = None, result: Any = None) -> Any:  # fmt: skip
    """``evaluate`` of a value known to hold expressions (a with-items input, checked once for all items)."""

    def detach() -> tuple[expressions.ExpressionFunctions, Any]:
        seen_tasks = (
            _tasks_as_seen(wf_ex) if _READS_OTHER_TASKS.search(json.dumps(value, default=str)) else None
        )
        seen: tuple[Any, ...] = (wf_ex.id, current.name if current is not None else None, result)
        if seen_tasks is not None:
            seen = (*seen, _seen_key(seen_tasks))
        return detached_functions(wf_ex, current, result, seen_tasks), seen

    return evaluation.evaluate(value, ctx, functions(wf_ex, current, result), detach=detach)


def oversized(what: str, value: Any) -> str | None:
    """Why ``value`` is larger than [engine] execution_field_size_limit_kb, or None when it is not."""
    if value is None:
        return None
    limit_kb = config.CONF.engine.execution_field_size_limit_kb
    if limit_kb < 0:
        return None
    if _encoded_size_bound(value) <= limit_kb * 1024:
        return None
    return _over_limit(what, len(_SIZE_ENCODER.encode(value)))


def _over_limit(what: str, size: int) -> str | None:
    limit_kb = config.CONF.engine.execution_field_size_limit_kb
    if limit_kb < 0 or size <= limit_kb * 1024:
        return None
    return (
        f"Field size limit exceeded [field={what}, size={size // 1024}KB, limit={limit_kb}KB] "
        "([engine] execution_field_size_limit_kb)"
    )


#: Values (keys included) a container may hold and still be measured without encoding it.
_MEASURED_VALUES = 64


def _encoded_size_bound(value: Any) -> float:
    """At least the length of ``value`` as JSON, known without encoding it; infinity when unknown.

    NOTE: most items of a with-items task give a number, a short string or a small dict of
    them, and each has an input of a few fields; encoding each only to measure it was a
    visible share of the engine's CPU per item. A large container is encoded instead.
    """
    budget = [_MEASURED_VALUES]
    return _bound(value, budget)


def _bound(value: Any, budget: list[int]) -> float:
    budget[0] -= 1
    if budget[0] < 0:
        return math.inf
    kind = type(value)
    if kind is bool or kind is float:
        return 32  # true, false, NaN, Infinity, or at most 17 significant digits with sign and exponent
    if kind is int:
        digits: int = value.bit_length() // 3 + 1  # a digit is more than 3 bits
        return digits + 1  # and a sign
    if kind is str:
        return 12 * len(value) + 2  # a character beyond the BMP is escaped as two 6-character escapes
    if value is None:
        return 4
    if kind is list or kind is tuple:
        # NOTE: the brackets, and ", " between values (json's default separators)
        return 2 + sum(_bound(item, budget) + 2 for item in value)
    if kind is dict:
        if not all(type(key) is str for key in value):
            return math.inf  # other keys are written as text of their own making
        return 2 + sum(_bound(key, budget) + _bound(item, budget) + 4 for key, item in value.items())
    return math.inf


def check_size(what: str, value: Any) -> None:
    """Refuse data larger than [engine] execution_field_size_limit_kb."""
    problem = oversized(what, value)
    if problem is not None:
        raise InputError(problem)


def checked_json(what: str, value: Any) -> db_api.StoredJson:
    """``value`` encoded as its column stores it, refused when larger than the size limit.

    NOTE: for a value that is measured and then stored (an execution's input): encoding it
    twice, to measure and to store, was half of the engine's start of a large input.
    """
    text = db_api.StoredJson(_SIZE_ENCODER.encode(value))
    problem = _over_limit(what, len(text))
    if problem is not None:
        raise InputError(problem)
    return text


def json_text(value: Any) -> str:
    return json.dumps(value, default=str)
