"""Workflow executions: start, apply the transitions of finished tasks, finish, pause, resume, stop.

This is the driver of a step: every engine operation that starts tasks ends in ``proceed`` (or
``run_first_step``), which also runs the first step of the sub-workflows those tasks created.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from mistral import exceptions, expressions
from mistral.db import api as db_api
from mistral.db import models
from mistral.db.types import utcnow
from mistral.engine import actions, cascades, data_flow, notifications, outbox, tallies, task_records, tasks
from mistral.engine.run import WfRun
from mistral.utils import log_ids
from mistral.workflow import commands, direct, reverse, states

LOG = logging.getLogger(__name__)


def set_state(wf_ex: models.WorkflowExecution, state: str, state_info: str | None = None) -> bool:
    old = wf_ex.state
    if not states.check_transition(old, state, "workflow"):
        return False
    wf_ex.state = state
    wf_ex.state_info = state_info
    if states.is_completed(state):
        tallies.execution_finished(state)
    notifications.workflow_changed(wf_ex, old)
    return True


def run_first_step(run: WfRun) -> None:
    """The workflow's vars and first tasks, and whatever finishes at once."""
    run.wf_ex.first_step_done = True
    run.wf_ex.context = _initial_context(run, run.wf_ex.params or {})
    for name in _first_tasks(run):
        tasks.start(run, name, {})
        start_children(run)
    proceed(run)


def start_children(run: WfRun) -> None:
    """Run the first step of each sub-workflow the tasks of ``run`` created, in this transaction.

    NOTE: called right after each task start here, and first thing in ``proceed`` for the
    starts made elsewhere (results, timers, controls), so a child's events follow its task's
    as they did when the task started the child itself.
    """
    while run.children_to_start:
        task_ex, child = run.children_to_start.popleft()
        failure = _start_child(child)
        if failure is not None:
            tasks.fail(run, task_ex, failure)


def _start_child(child: models.WorkflowExecution) -> str | None:
    """Run a sub-workflow's first step; why it could not start, or None."""
    token = log_ids.set_execution(child.id)
    try:
        child_run = WfRun(child)
        try:
            run_first_step(child_run)
        except exceptions.MistralError as error:
            # NOTE: the task fails with the reason, as a bad input would fail it; the child ends
            # too, rather than stay RUNNING with nothing running.
            finish(child_run, states.ERROR, f"Failed to start the workflow: {error}")
            return str(error)
        return None
    finally:
        log_ids.reset_execution(token)


def _initial_context(run: WfRun, params: dict[str, Any]) -> dict[str, Any]:
    wf_ex = run.wf_ex
    ctx: dict[str, Any] = {
        expressions.ENV_KEY: params.get("env") or {},
        expressions.EXECUTION_KEY: {"id": wf_ex.id, "name": wf_ex.workflow_name, "params": params},
    }
    if run.spec.vars:
        wf_ex.context = ctx
        ctx.update(run.evaluate(run.spec.vars, None))
    return ctx


def first_step_fans_out(run: WfRun) -> bool:
    """Whether a first task iterates (with-items): only then is the first step's size unbounded."""
    return any(run.task_spec(name).with_items for name in _first_tasks(run))


def _first_tasks(run: WfRun) -> list[str]:
    if run.spec.type == "reverse":
        needed = reverse.needed_tasks(run.spec, (run.wf_ex.params or {}).get("task_name"))
        return reverse.ready_tasks(run.spec, needed, set(), set())
    return direct.start_tasks(run.spec)


def proceed(run: WfRun) -> None:
    """Apply the transitions of every finished task, then end the workflow if nothing is left."""
    start_children(run)
    while run.completed and run.wf_ex.state == states.RUNNING:
        task_ex = run.completed.popleft()
        if not task_ex.processed:
            _apply_transitions(run, task_ex)
        if run.pause_requested and run.wf_ex.state == states.RUNNING:
            pause(run, run.pause_requested)
    if run.pause_requested and run.wf_ex.state == states.RUNNING:
        pause(run, run.pause_requested)
    run.pause_requested = None
    check_completion(run)


def _condition(run: WfRun, task_ex: models.TaskExecution) -> Any:
    ctx = data_flow.task_context(run.wf_ex, data_flow.outbound_context(task_ex))
    return lambda expr: bool(data_flow.evaluate(expr, run.wf_ex, ctx, task_ex, task_ex.result))


def _apply_transitions(run: WfRun, task_ex: models.TaskExecution) -> None:
    token = log_ids.set_task(task_ex.id)
    try:
        _transitions_of(run, task_ex)
    finally:
        log_ids.reset_task(token)


def _transitions_of(run: WfRun, task_ex: models.TaskExecution) -> None:
    task_ex.processed = True
    if run.spec.type == "reverse":
        _reverse_next(run, task_ex)
        return
    try:
        decision = direct.decide(run.spec, task_ex.name, task_ex.state, task_ex.id, _condition(run, task_ex))
    except exceptions.MistralError as error:
        finish(run, states.ERROR, f"Failed to evaluate the transitions of task '{task_ex.name}': {error}")
        return
    if decision.publish:
        _publish_advanced(run, task_ex, decision.publish)
    task_ex.error_handled = decision.error_handled
    task_ex.has_next_tasks = any(isinstance(c, commands.RunTask) for c in decision.commands)
    for missed in decision.missed_joins:
        tasks.arrive_at_join(run, run.task_spec(missed.name), {}, task_ex.id, led_here=False)
        start_children(run)
    apply_commands(run, decision.commands, data_flow.outbound_context(task_ex))


def _publish_advanced(run: WfRun, task_ex: models.TaskExecution, publish: dict[str, Any]) -> None:
    branch = run.evaluate(publish.get("branch") or {}, task_ex, result=task_ex.result)
    if branch:
        task_ex.published = {**(task_ex.published or {}), **branch}
    global_ = run.evaluate(publish.get("global") or {}, task_ex, result=task_ex.result)
    if global_:
        ctx = dict(run.wf_ex.context or {})
        ctx[expressions.PUBLISHED_GLOBAL_KEY] = {
            **(ctx.get(expressions.PUBLISHED_GLOBAL_KEY) or {}),
            **global_,
        }
        run.wf_ex.context = ctx


def apply_commands(run: WfRun, cmds: list[Any], ctx: dict[str, Any]) -> None:
    with actions.inserted_together() as insert_kept:
        _apply_commands(run, cmds, ctx, insert_kept)


def _apply_commands(
    run: WfRun, cmds: list[Any], ctx: dict[str, Any], insert_kept: Callable[[], None]
) -> None:
    for i, cmd in enumerate(cmds):
        if isinstance(cmd, commands.RunTask):
            tasks.start(run, cmd.name, ctx, cmd.triggered_by)
            start_children(run)
            continue
        # NOTE: what follows ends the workflow or pauses it, which looks at its tasks' actions.
        insert_kept()
        msg = cmd.msg
        if cmd.name == commands.FAIL:
            finish(run, states.ERROR, msg or "Workflow failed by the 'fail' command")
            return
        if cmd.name == commands.SUCCEED:
            finish(run, states.SUCCESS, msg)
            return
        if cmd.name == commands.PAUSE:
            backlog = [commands.command_to_dict(c) for c in cmds[i + 1 :]]
            _update_runtime(run.wf_ex, backlog={"commands": backlog, "context": ctx})
            pause(run, msg or "Paused by the 'pause' command")
            return


def _reverse_next(run: WfRun, task_ex: models.TaskExecution) -> None:
    if task_ex.state != states.SUCCESS:
        return
    # NOTE: executions a re-run superseded are history: their tasks run again (rerun_from)
    all_tasks = [t for t in db_api.find_task_executions(run.wf_ex.id) if not task_records.superseded(t)]
    succeeded = {t.name for t in all_tasks if t.state == states.SUCCESS}
    started = {t.name for t in all_tasks}
    needed = reverse.needed_tasks(run.spec, (run.wf_ex.params or {}).get("task_name"))
    ctx = data_flow.merge_contexts(
        [data_flow.outbound_context(t) for t in all_tasks if t.state == states.SUCCESS]
    )
    for name in reverse.ready_tasks(run.spec, needed, succeeded, started):
        tasks.start(run, name, ctx, task_ex.id)
        start_children(run)


def _update_runtime(wf_ex: models.WorkflowExecution, **values: Any) -> None:
    runtime = dict(wf_ex.runtime_context or {})
    runtime.update(values)
    wf_ex.runtime_context = runtime


#: the states of a task that keep its workflow from ending
_ACTIVE = (states.RUNNING, states.RUNNING_DELAYED, states.IDLE)


def check_completion(run: WfRun) -> None:
    """End the workflow once none of its tasks is running, waiting or delayed."""
    wf_ex = run.wf_ex
    if wf_ex.state != states.RUNNING:
        return
    # NOTE: a task this step started and that still runs answers without a query.
    if any(t.state in _ACTIVE for t in run.touched):
        return
    # NOTE: one grouped count says whether a task still runs, a join waits or a task failed, so a
    # workflow that ends well reads no task rows here (a count and two row reads were about 40%
    # of a one-task workflow's last step).
    counts = db_api.count_task_executions_by_state(wf_ex.id, _ACTIVE + (states.WAITING, states.ERROR))
    if any(counts.get(state) for state in _ACTIVE):
        return
    if counts.get(states.WAITING):
        for task_ex in db_api.find_task_executions(wf_ex.id, states=[states.WAITING]):
            task_ex.unique_key = f"{task_ex.unique_key}:{task_ex.id}"
            tasks.fail(run, task_ex, "Join can't be satisfied: not every required branch reached it")
        proceed(run)
        return
    failed = db_api.find_task_executions(wf_ex.id, states=[states.ERROR]) if counts.get(states.ERROR) else []
    unhandled = [t for t in failed if not t.error_handled and not task_records.superseded(t)]
    if unhandled:
        finish(run, states.ERROR, _failure_info(unhandled))
    else:
        finish(run, states.SUCCESS)


def _failure_info(failed: list[models.TaskExecution]) -> str:
    lines = ["Failure caused by error in tasks: " + ", ".join(t.name for t in failed)]
    for t in failed:
        lines.append(f"  {t.name} [task_ex_id={t.id}] -> {t.state_info}")
    return "\n".join(lines)


def final_context(run: WfRun) -> dict[str, Any]:
    # NOTE: only the tasks that led nowhere are read: a chain or a fan-out of a thousand tasks ends in one,
    # and reading (and decoding) every finished task made the workflow's last step cost as much as a
    # tenth of its run (tools/engine_hop_loop.py: 6% of a 200-task chain's engine samples).
    ends = [
        t
        for t in db_api.find_task_executions(
            run.wf_ex.id, states=[states.SUCCESS, states.ERROR, states.SKIPPED], has_next_tasks=False
        )
        if not task_records.superseded(t)
    ]
    ctx = data_flow.workflow_context(run.wf_ex)
    ctx.update(data_flow.merge_contexts([data_flow.outbound_context(t) for t in ends]))
    return ctx


def _output(run: WfRun, state: str, state_info: str | None) -> Any:
    ctx = final_context(run)
    if state == states.SUCCESS:
        if run.spec.output is not None:
            return data_flow.evaluate(run.spec.output, run.wf_ex, ctx)
        return {k: v for k, v in ctx.items() if not k.startswith("__")}
    output: dict[str, Any] = {"result": state_info}
    if state == states.ERROR and run.spec.output_on_error is not None:
        extra = data_flow.evaluate(run.spec.output_on_error, run.wf_ex, ctx)
        if isinstance(extra, dict):
            output.update(extra)
    return output


def finish(run: WfRun, state: str, state_info: str | None = None) -> None:
    wf_ex = run.wf_ex
    if states.is_completed(wf_ex.state):
        return
    try:
        output = _output(run, state, state_info)
        data_flow.check_size("output", output)
    except exceptions.MistralError as error:
        state, state_info = states.ERROR, f"Failed to evaluate the workflow output: {error}"
        output = {"result": state_info}
    set_state(wf_ex, state, state_info)
    wf_ex.output = output
    wf_ex.updated_at = utcnow()
    LOG.info("Workflow %s (%s) finished: %s", wf_ex.workflow_name, wf_ex.id, state)
    if wf_ex.task_execution_id:
        outbox.current().finished_subworkflows.append(wf_ex.id)


def pause(run: WfRun, message: str | None = None) -> None:
    if set_state(run.wf_ex, states.PAUSED, message):
        # NOTE: its queued work items wait too; an item a worker holds already runs on, like an action.
        db_api.pause_work_items(run.wf_ex.id)
        for child in _active_children(run.wf_ex):
            cascades.schedule("pause", child.id)


def _active_children(wf_ex: models.WorkflowExecution) -> list[models.WorkflowExecution]:
    return [c for c in db_api.list_sub_executions([wf_ex.id]) if not states.is_completed(c.state)]
