"""with-items: one action (or sub-workflow) per item, with optional concurrency.

The work per item is constant: counters live in the task's runtime context,
the evaluated collections are cached per task execution, and the results are
gathered once, in index order, when the last item finishes. Which item runs
next is decided in ``items_progress``; how the task's work ended goes back to
``tasks`` as a ``task_work.Completed`` or ``Failed``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, overload

from mistral import config, expressions
from mistral.db import api as db_api
from mistral.db import models
from mistral.engine import actions, data_flow, items_progress, subworkflows, task_records, task_work
from mistral.engine.items_cache import ItemsCache
from mistral.engine.run import WfRun
from mistral.engine.task_work import Completed, Failed, Outcome
from mistral.exceptions import InputError
from mistral.lang.specs import TaskSpec
from mistral.workflow import states

_items_cache = ItemsCache()


def _cache_key(task_ex: models.TaskExecution) -> tuple[str, int]:
    """A re-run may evaluate other items (a new env, say): it gets an entry of its own.

    NOTE: an entry a rolled-back transaction left is never read with the wrong items: a
    task created there has an id nobody uses again, and the retry of a rolled-back re-run
    evaluates the same rows under the same lock.
    """
    return task_ex.id, task_records.rerun_no(task_ex)


def _items(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec) -> Sequence[dict[str, Any]]:
    """``[{var: value, ...}]`` per index; cached because a task's collections never change within a run."""
    key = _cache_key(task_ex)
    hit = _items_cache.get(key)
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
    _items_cache.put(key, items)
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
) -> Outcome:
    """Launch the first items (without concurrency all of them, up to a window), or re-launch ``indexes``.

    Raises what ``tasks`` turns into the task's failure (``task_work.TASK_ERRORS``).
    """
    items = _items(run, task_ex, spec)
    if not items:
        return Completed(states.SUCCESS, [])
    if indexes is None:
        progress, indexes = items_progress.first_launch(
            len(items), _concurrency(run, task_ex, spec), config.CONF.engine.with_items_window
        )
    else:
        previous = task_records.runtime(task_ex).with_items
        progress = items_progress.relaunch(previous, len(items), indexes)
    task_records.update_runtime(task_ex, with_items=progress)
    if not indexes:
        # NOTE: every item had succeeded (the task failed after them, e.g. in publish): finish again.
        return Completed(states.SUCCESS, _results(task_ex))
    _launch(run, task_ex, spec, items, indexes)
    return None


#: Items whose action rows are built, inserted and queued together.
LAUNCH_CHUNK = 1000


def _launch(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec, items: Sequence[dict[str, Any]],
            indexes: list[int]) -> None:  # fmt: skip
    resolved: list[tuple[int, actions.ResolvedAction]] = []
    delivery = task_work.delivery(run, task_ex, spec)
    item_input = _item_input(run, task_ex, spec)
    for index in indexes:
        extra = items[index]
        action_input = item_input(extra)
        if spec.workflow:
            subworkflows.start(run, task_ex, spec, action_input, index=index, extra=extra)
            continue
        name = task_work.action_name(run, task_ex, spec, extra)
        resolved.append((index, task_work.resolve_action(run, task_ex, name, action_input)))
    # NOTE: every item is evaluated and checked first, so that a bad one fails the task before any
    # of its actions exists; the rows, larger than what they are built from, then exist a chunk at a
    # time (100 000 of them at once were a large share of the process's peak memory).
    for start in range(0, len(resolved), LAUNCH_CHUNK):
        actions.insert_and_send(
            [
                actions.new_action_row(task_ex, run.wf_ex, action, delivery, index=index)
                for index, action in resolved[start : start + LAUNCH_CHUNK]
            ]
        )


def _item_input(
    run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """``task_work.task_input`` for one item; the task's context, which every item shares, is built once.

    NOTE: building it (the workflow's input, context and globals merged) per item cost as much
    as evaluating the item's input.
    """
    if not isinstance(spec.input, dict):
        return lambda extra: task_work.task_input(run, task_ex, spec, extra)
    raw = spec.merged_input
    if not expressions.contains_expression(raw):
        return lambda extra: dict(raw)
    shared = data_flow.task_context(run.wf_ex, task_ex.in_context)
    return lambda extra: dict(data_flow.evaluate_expressions(raw, run.wf_ex, {**shared, **extra}, task_ex))


def on_item_done(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec, index: int, state: str,
                 value: Any) -> Outcome:  # fmt: skip
    """Item ``index`` ended in ``state``: launch the next one, or answer how the task's work ended."""
    step = items_progress.next_step(
        task_records.with_items_progress(task_ex),
        state == states.SUCCESS,
        config.CONF.engine.with_items_window,
    )
    task_records.set_with_items_progress(task_ex, step.progress)
    if step.launch:
        try:
            _launch(run, task_ex, spec, _items(run, task_ex, spec), list(step.launch))
        except task_work.TASK_ERRORS as error:
            # NOTE: the next item's input may be bad (or too large): that fails the task, not the engine.
            return Failed(str(error))
        return None
    if not step.finished:
        return None
    result = _results(task_ex)
    _items_cache.pop(_cache_key(task_ex))
    # NOTE: each item's result was checked on arrival; together they may still be too large.
    problem = data_flow.oversized(f"task {spec.name} result", result)
    if problem is not None:
        return Failed(problem)
    if step.progress.failed:
        return Completed(states.ERROR, result, "One or more items of with-items failed")
    return Completed(states.SUCCESS, result)


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


def take_back_failed_item(task_ex: models.TaskExecution) -> None:
    """One of the task's failed sub-workflows runs again: its item counts as running until it reports."""
    progress = items_progress.take_back(task_records.with_items_progress(task_ex))
    task_records.set_with_items_progress(task_ex, progress)
