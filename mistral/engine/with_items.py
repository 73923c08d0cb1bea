"""with-items: one action (or sub-workflow) per item, with optional concurrency.

The work per item is constant: counters live in the task's runtime context,
the evaluated collections are cached per task execution, and the results are
gathered once, in index order, when the last item finishes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, overload

from mistral import config, expressions
from mistral.db import api as db_api
from mistral.db import models
from mistral.engine import actions, data_flow, task_records
from mistral.engine.items_cache import ItemsCache
from mistral.engine.run import WfRun
from mistral.engine.task_records import WithItemsProgress
from mistral.exceptions import InputError
from mistral.lang.specs import TaskSpec
from mistral.workflow import states

_items_cache = ItemsCache()


def _items(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec) -> Sequence[dict[str, Any]]:
    """``[{var: value, ...}]`` per index; cached because a task's collections never change."""
    hit = _items_cache.get(task_ex.id)
    if hit is not None:
        return hit
    columns: dict[str, list[Any]] = {}
    for item in spec.with_items:
        values = run.evaluate(item.collection, task_ex)
        if not isinstance(values, list | tuple):
            raise InputError(f"Task '{spec.name}': with-items '{item.var}' must be a list, got {values!r}")
        columns[item.var] = list(values)
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise InputError(
            f"Task '{spec.name}': with-items lists must have the same length, got {sorted(lengths)}"
        )
    count = lengths.pop() if lengths else 0
    limit = config.CONF.engine.max_with_items
    if count > limit:
        raise InputError(
            f"Task '{spec.name}': with-items over {count} items, more than the limit of {limit} "
            "([engine] max_with_items)"
        )
    items = _Items(columns, count)
    _items_cache.put(task_ex.id, items)
    return items


class _Items(Sequence[dict[str, Any]]):
    """``{var: value, ...}`` per index, built when asked.

    NOTE: the task keeps its items until the last one finishes; a dict per item held all that
    time costs some 230 bytes each (23 MB for 100 000 items) over the lists it is made of.
    """

    def __init__(self, columns: dict[str, list[Any]], count: int) -> None:
        self._columns, self._count = columns, count

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if not -self._count <= index < self._count:
            raise IndexError(index)
        return {var: values[index] for var, values in self._columns.items()}


def _concurrency(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec) -> int:
    raw = spec.concurrency if spec.concurrency is not None else run.spec.task_defaults.concurrency
    value = run.evaluate(raw, task_ex) if raw is not None else 0
    try:
        return max(int(value or 0), 0)
    except (TypeError, ValueError) as error:
        raise InputError(f"Task '{spec.name}': concurrency must be a whole number, got {value!r}") from error


def start(
    run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec, indexes: list[int] | None = None
) -> None:
    """Launch the first items (all of them without concurrency), or re-launch ``indexes``."""
    from mistral.engine import tasks

    items = _items(run, task_ex, spec)
    if not items:
        tasks.complete(run, task_ex, states.SUCCESS, [])
        return
    concurrency = _concurrency(run, task_ex, spec)
    if indexes is None:
        indexes = list(range(len(items) if not concurrency else min(concurrency, len(items))))
        progress = WithItemsProgress(len(items), 0, 0, len(indexes), concurrency)
    else:
        previous = task_records.runtime(task_ex).with_items or WithItemsProgress(count=len(items))
        progress = dataclasses.replace(
            previous, done=previous.count - len(indexes), failed=0, next=previous.count
        )
    task_records.update_runtime(task_ex, with_items=progress)
    if not indexes:
        # NOTE: every item had succeeded (the task failed after them, e.g. in publish): finish again.
        tasks.complete(run, task_ex, states.SUCCESS, _results(task_ex))
        return
    _launch(run, task_ex, spec, items, indexes)


def _launch(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec, items: Sequence[dict[str, Any]],
            indexes: list[int]) -> None:  # fmt: skip
    from mistral.engine import subworkflows, tasks

    rows = []
    delivery = tasks.delivery(run, task_ex, spec)
    item_input = _item_input(run, task_ex, spec)
    for index in indexes:
        extra = items[index]
        action_input = item_input(extra)
        if spec.workflow:
            subworkflows.start(run, task_ex, spec, action_input, index=index, extra=extra)
            continue
        name = tasks.action_name(run, task_ex, spec, extra)
        resolved = tasks.resolve_action(run, name, action_input)
        rows.append(actions.new_action_row(task_ex, run.wf_ex, resolved, delivery, index=index))
    actions.insert_and_send(rows)


def _item_input(
    run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """``tasks.task_input`` for one item; the task's context, which every item shares, is built once.

    NOTE: building it (the workflow's input, context and globals merged) per item cost as much
    as evaluating the item's input.
    """
    from mistral.engine import tasks

    if not isinstance(spec.input, dict):
        return lambda extra: tasks.task_input(run, task_ex, spec, extra)
    raw = spec.merged_input
    if not expressions.contains_expression(raw):
        return lambda extra: dict(raw)
    shared = data_flow.task_context(run.wf_ex, task_ex.in_context)
    return lambda extra: dict(data_flow.evaluate(raw, run.wf_ex, {**shared, **extra}, task_ex))


def on_item_done(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec, index: int, state: str,
                 value: Any) -> None:  # fmt: skip
    from mistral.engine import tasks

    was = task_records.with_items_progress(task_ex)
    failed = was.failed + (state != states.SUCCESS)
    more = bool(was.concurrency) and was.next < was.count and not failed
    next_index = was.next
    # NOTE: built directly: dataclasses.replace reads the fields anew on each call, twice per item.
    progress = WithItemsProgress(was.count, was.done + 1, failed, next_index + more, was.concurrency)
    task_records.set_with_items_progress(task_ex, progress)
    if more:
        try:
            _launch(run, task_ex, spec, _items(run, task_ex, spec), [next_index])
        except tasks.TASK_ERRORS as error:
            # NOTE: the next item's input may be bad (or too large): that fails the task, not the engine.
            tasks.fail(run, task_ex, str(error))
        return
    if progress.done < progress.next:
        return
    result = _results(task_ex)
    _items_cache.pop(task_ex.id)
    # NOTE: each item's result was checked on arrival; together they may still be too large.
    problem = data_flow.oversized(f"task {spec.name} result", result)
    if problem is not None:
        tasks.fail(run, task_ex, problem)
    elif progress.failed:
        tasks.complete(run, task_ex, states.ERROR, result, "One or more items of with-items failed")
    else:
        tasks.complete(run, task_ex, states.SUCCESS, result)


def _results(task_ex: models.TaskExecution) -> list[Any]:
    """Each item's latest result, in index order."""
    latest: dict[int, Any] = {}
    if task_ex.type == "WORKFLOW":
        for child in db_api.list_sub_executions_of_task(task_ex.id):
            latest[(child.params or {}).get("index", 0)] = child.output
    else:
        for index, output in db_api.find_item_outcomes(task_ex.id, "output"):
            latest[index] = (output or {}).get("result")
    return [latest.get(i) for i in range(len(latest))]


def failed_indexes(task_ex: models.TaskExecution) -> list[int]:
    """Items whose latest run did not succeed (re-run without reset runs only these)."""
    latest: dict[int, str] = {}
    if task_ex.type == "WORKFLOW":
        for child in db_api.list_sub_executions_of_task(task_ex.id):
            latest[(child.params or {}).get("index", 0)] = child.state
    else:
        for index, state in db_api.find_item_outcomes(task_ex.id, "state"):
            latest[index] = state
    return sorted(i for i, state in latest.items() if state != states.SUCCESS)
