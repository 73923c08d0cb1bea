"""Task executions: create them, run their action, items or sub-workflow, finish them.

A task that reaches a completed state is appended to ``run.completed``; the
workflow handler then applies its transitions. A sub-workflow task only creates
its child here: the workflow handler runs the child's first step.
"""

from __future__ import annotations

import logging
from typing import Any

from mistral.db import api as db_api
from mistral.db import models
from mistral.db.types import utcnow
from mistral.engine import (
    actions,
    data_flow,
    notifications,
    policies,
    subworkflows,
    task_records,
    task_work,
    with_items,
)
from mistral.engine.run import WfRun
from mistral.engine.task_records import JoinCounts, set_state
from mistral.engine.task_work import TASK_ERRORS, Completed, Failed, Outcome
from mistral.lang.specs import TaskSpec
from mistral.utils import log_ids, uuids
from mistral.workflow import direct, states

LOG = logging.getLogger(__name__)


def create(
    run: WfRun, spec: TaskSpec, in_context: dict[str, Any], state: str, **extra: Any
) -> models.TaskExecution:
    task_ex = db_api.insert_task_execution(
        {
            "id": uuids.generate(),
            "name": spec.name,
            "type": "WORKFLOW" if spec.workflow else "ACTION",
            "workflow_name": run.wf_ex.workflow_name,
            "workflow_namespace": run.wf_ex.workflow_namespace,
            "workflow_id": run.wf_ex.workflow_id,
            "workflow_execution_id": run.wf_ex.id,
            "project_id": run.wf_ex.project_id,
            "tags": list(spec.tags or []),
            "spec": spec.to_dict(),
            "state": state,
            "in_context": in_context,
            "published": {},
            "runtime_context": {},
            "started_at": utcnow() if state == states.RUNNING else None,
            **extra,
        }
    )
    run.touched.append(task_ex)
    notifications.task_changed(task_ex, None)
    return task_ex


def start(run: WfRun, name: str, in_context: dict[str, Any], triggered_by: str | None = None) -> None:
    """Start task ``name`` with the branch variables ``in_context``."""
    spec = run.task_spec(name)
    if run.spec.type == "direct" and direct.join_requirement(run.spec, spec):
        arrive_at_join(run, spec, in_context, triggered_by, led_here=True)
        return
    task_ex = create(run, spec, in_context, states.RUNNING)
    begin(run, task_ex)


def join_key(name: str) -> str:
    return f"join:{name}"


def arrive_at_join(run: WfRun, spec: TaskSpec, in_context: dict[str, Any], from_task_ex: str | None,
                   *, led_here: bool) -> None:  # fmt: skip
    """One inbound branch reached (or, ``led_here`` False, missed) the join task ``spec``.

    The join task keeps its key after it runs, so the branches that arrive later
    are counted and ignored; once every inbound branch is counted, a new arrival
    (a loop back into the join) opens a new join.
    """
    inbound = len(direct.inbound_tasks(run.spec)[spec.name])
    key = join_key(spec.name)
    task_ex = _join_task(run, key)
    if task_ex is not None and (counted := _join_counts(task_ex)).arrived + counted.missed >= inbound:
        task_ex.unique_key = f"{key}:{task_ex.id}"
        task_ex = None
    if task_ex is None:
        task_ex = create(run, spec, {}, states.WAITING, unique_key=key)
    run.joins[key] = task_ex
    join = _join_counts(task_ex)
    if led_here:
        join = JoinCounts(join.arrived + 1, join.missed, join.missed_by)
    else:
        join = JoinCounts(join.arrived, join.missed + 1, (*join.missed_by, *filter(None, [from_task_ex])))
    task_records.update_runtime(task_ex, join=join)
    if task_ex.state != states.WAITING:
        return
    if led_here:
        task_ex.in_context = data_flow.merge_contexts([task_ex.in_context or {}, in_context])
    required = direct.join_requirement(run.spec, spec)
    if join.arrived >= required:
        set_state(task_ex, states.RUNNING)
        begin(run, task_ex)
    elif inbound - join.missed < required:
        fail(run, task_ex, f"Join can't be satisfied: {join.arrived} of {required} required branches arrived")


def reopen_joins_missed_by(run: WfRun, task_ex: models.TaskExecution) -> None:
    """``task_ex`` is re-run: the joins it could not reach, and that failed for it before they
    started, wait again (as in Mistral, the re-run branch may still complete them)."""
    for join_ex in db_api.find_task_executions(run.wf_ex.id, states=[states.ERROR]):
        if join_ex.started_at is not None or join_ex.unique_key != join_key(join_ex.name):
            continue  # NOTE: it ran (and failed on its own), or a newer join of that name is open
        join = _join_counts(join_ex)
        if task_ex.id not in join.missed_by:
            continue
        missed_by = tuple(i for i in join.missed_by if i != task_ex.id)
        task_records.update_runtime(join_ex, join=JoinCounts(join.arrived, join.missed - 1, missed_by))
        set_state(join_ex, states.WAITING)
        join_ex.state_info, join_ex.finished_at = None, None
        join_ex.processed, join_ex.error_handled = False, False
        run.joins[join_ex.unique_key] = join_ex


def _join_task(run: WfRun, key: str) -> models.TaskExecution | None:
    """The open join task of ``key``; read once per locked step (nobody else changes it under the lock)."""
    task_ex = run.joins.get(key)
    if task_ex is not None and task_ex.unique_key == key:
        return task_ex
    return db_api.load_task_by_unique_key(run.wf_ex.id, key)


def _join_counts(task_ex: models.TaskExecution) -> JoinCounts:
    return task_records.runtime(task_ex).join or JoinCounts()


def begin(run: WfRun, task_ex: models.TaskExecution) -> None:
    """The before-policies (pause-before, wait-before), then the task's work."""
    spec = run.task_spec(task_ex.name)
    token = log_ids.set_task(task_ex.id)
    try:
        if policies.pause_before(run, task_ex, spec) or policies.wait_before(run, task_ex, spec):
            return
        execute(run, task_ex)
    except TASK_ERRORS as error:
        fail(run, task_ex, str(error))
    finally:
        log_ids.reset_task(token)


def execute(run: WfRun, task_ex: models.TaskExecution) -> None:
    """Send the task's work: one action, the with-items actions, or a sub-workflow."""
    spec = run.task_spec(task_ex.name)
    try:
        policies.schedule_timeout(run, task_ex, spec)
        if spec.with_items:
            apply_outcome(run, task_ex, with_items.start(run, task_ex, spec))
        elif spec.workflow:
            subworkflows.start(run, task_ex, spec, task_work.task_input(run, task_ex, spec))
        else:
            run_action(run, task_ex, spec, task_work.task_input(run, task_ex, spec))
    except TASK_ERRORS as error:
        fail(run, task_ex, str(error))


def run_action(
    run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec, action_input: dict[str, Any]
) -> None:
    resolved = task_work.resolve_action(run, task_ex, task_work.action_name(run, task_ex, spec), action_input)
    actions.insert_and_send(
        [actions.new_action_row(task_ex, run.wf_ex, resolved, task_work.delivery(run, task_ex, spec))]
    )


def on_action_done(run: WfRun, task_ex: models.TaskExecution, index: int, state: str, value: Any) -> None:
    """One of the task's actions (or sub-workflows) finished with ``value`` (its data or its error)."""
    token = log_ids.set_task(task_ex.id)
    try:
        _on_action_done(run, task_ex, index, state, value)
    finally:
        log_ids.reset_task(token)


def _on_action_done(run: WfRun, task_ex: models.TaskExecution, index: int, state: str, value: Any) -> None:
    if task_ex.state not in states.ACTIVE:
        LOG.info("Result for task %s in state %s ignored", task_ex.id, task_ex.state)
        return
    if task_ex not in run.touched:
        run.touched.append(task_ex)
    spec = run.task_spec(task_ex.name)
    if spec.with_items:
        apply_outcome(run, task_ex, with_items.on_item_done(run, task_ex, spec, index, state, value))
        return
    if state == states.CANCELLED:
        finish(run, task_ex, states.CANCELLED, None, "Action was cancelled")
        return
    complete(run, task_ex, state, value)


def apply_outcome(run: WfRun, task_ex: models.TaskExecution, outcome: Outcome) -> None:
    """End the task as its work's ``outcome`` says; None: its work is still running."""
    if isinstance(outcome, Completed):
        complete(run, task_ex, outcome.state, outcome.result, outcome.state_info)
    elif isinstance(outcome, Failed):
        fail(run, task_ex, outcome.message)


def complete(
    run: WfRun, task_ex: models.TaskExecution, state: str, result: Any, state_info: str | None = None
) -> None:
    """The task's work is done: after-policies, publishing, then the final state."""
    spec = run.task_spec(task_ex.name)
    try:
        if state == states.SUCCESS and policies.fails_on(run, task_ex, spec, result):
            state, state_info = states.ERROR, "Failed by 'fail-on' policy"
        if policies.retry(run, task_ex, spec, state, result):
            return
        if state == states.ERROR and state_info is None:
            state_info = _error_text(result)
        published = publish(run, task_ex, spec, state, result)
    except TASK_ERRORS as error:
        state, state_info, published = states.ERROR, str(error), {}
    task_ex.published = published
    if policies.wait_after(run, task_ex, spec, state, result, state_info):
        return
    finish(run, task_ex, state, result, state_info)


def _error_text(error: Any) -> str:
    if isinstance(error, str):
        return error
    return data_flow.json_text(error)


def publish(
    run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec, state: str, result: Any
) -> dict[str, Any]:
    what = {
        states.SUCCESS: spec.publish,
        states.ERROR: spec.publish_on_error,
        states.SKIPPED: spec.publish_on_skip,
    }
    raw = what.get(state)
    if not raw:
        return {}
    published = run.evaluate(raw, task_ex, result=result)
    data_flow.check_size(f"task {spec.name} published", published)
    return dict(published)


def finish(
    run: WfRun, task_ex: models.TaskExecution, state: str, result: Any, state_info: str | None = None
) -> None:
    spec = run.task_spec(task_ex.name)
    keep = (
        spec.keep_result
        if isinstance(spec.keep_result, bool)
        else bool(run.evaluate(spec.keep_result, task_ex))
    )
    if keep:
        task_ex.result = result
    if not set_state(task_ex, state, state_info):
        return
    if not keep:
        _forget_action_outputs(task_ex)
    policies.cancel_timeout(task_ex)
    run.completed.append(task_ex)


def _forget_action_outputs(task_ex: models.TaskExecution) -> None:
    """``keep-result: false``: the task's actions keep ``{}`` as output once publish has seen it.

    NOTE: what Mistral 23 stores (checked black-box); the rows come from this transaction's
    session, so the output just applied to one of them is overwritten before it is written.
    """
    for action_ex in db_api.find_action_executions(task_ex.id):
        action_ex.output = {}


def fail(run: WfRun, task_ex: models.TaskExecution, message: str) -> None:
    """End the task in ERROR without retrying (bad input, bad expression, failed join)."""
    LOG.info("Task %s (%s) failed: %s", task_ex.name, task_ex.id, message)
    spec = run.task_spec(task_ex.name)
    try:
        task_ex.published = publish(run, task_ex, spec, states.ERROR, None)
    except TASK_ERRORS as error:
        message = f"{message}; publish-on-error failed: {error}"
    finish(run, task_ex, states.ERROR, None, message)
