"""What users do to running workflows: resume, stop, re-run and skip tasks."""

from __future__ import annotations

from typing import Any

from mistral.db import api as db_api
from mistral.db import models
from mistral.engine import (
    cascades,
    rerun_from,
    task_records,
    task_work,
    tasks,
    with_items,
    withdrawn,
    workflows,
)
from mistral.engine.run import WfRun
from mistral.exceptions import InputError
from mistral.services import executions
from mistral.workflow import commands, states


def resume(run: WfRun, env: dict[str, Any] | None = None) -> None:
    wf_ex = run.wf_ex
    if wf_ex.state != states.PAUSED:
        raise InputError(
            f"Can't resume execution {wf_ex.id} in state {wf_ex.state}; only a PAUSED one can be"
        )
    workflows.set_state(wf_ex, states.RUNNING)
    db_api.resume_work_items(wf_ex.id)
    if env:
        update_env(wf_ex, env)
    if not wf_ex.first_step_done:
        # NOTE: paused before an engine ran its first step: that step is what resuming runs.
        workflows.run_first_step(run)
        return
    runtime = dict(wf_ex.runtime_context or {})
    backlog = runtime.pop("backlog", None)
    wf_ex.runtime_context = runtime
    for child in db_api.list_sub_executions([wf_ex.id]):
        if child.state == states.PAUSED:
            cascades.schedule("resume", child.id, env)
    for task_ex in db_api.find_task_executions(wf_ex.id, states=[states.IDLE]):
        task_records.set_state(task_ex, states.RUNNING)
        tasks.begin(run, task_ex)
    if backlog:
        cmds = [commands.command_from_dict(c) for c in backlog["commands"]]
        workflows.apply_commands(run, cmds, backlog.get("context") or {})
    done = db_api.find_task_executions(wf_ex.id, states=list(states.COMPLETED))
    run.completed.extend(t for t in done if not t.processed)
    workflows.proceed(run)


def update_env(wf_ex: models.WorkflowExecution, env: dict[str, Any]) -> None:
    wf_ex.params, wf_ex.context = executions.with_env_merged(wf_ex, env)


def stop(run: WfRun, state: str, message: str | None = None) -> None:
    """Force the workflow into SUCCESS, ERROR or CANCELLED; unfinished work is cancelled."""
    wf_ex = run.wf_ex
    if state not in (states.SUCCESS, states.ERROR, states.CANCELLED):
        raise InputError(f"Can't stop a workflow with state {state}")
    if states.is_completed(wf_ex.state):
        raise InputError(f"Execution {wf_ex.id} is already {wf_ex.state}")
    cancel_work(wf_ex)
    for child in db_api.list_sub_executions([wf_ex.id]):
        if not states.is_completed(child.state):
            cascades.schedule("cancel", child.id, message)
    workflows.finish(
        run,
        state,
        message or (f"Workflow was {state.lower()} by the user" if state != states.SUCCESS else None),
    )


def cancel_work(wf_ex: models.WorkflowExecution) -> None:
    for task_ex in db_api.find_task_executions(wf_ex.id, states=sorted(states.TASK_NOT_COMPLETED)):
        cancelled = []
        for action_ex in db_api.find_action_executions(task_ex.id, states=[states.RUNNING]):
            if db_api.update_action_execution_state(
                action_ex.id, expected=[states.RUNNING], new=states.CANCELLED, values={"result_applied": True}
            ):
                cancelled.append((action_ex, states.CANCELLED))
        # NOTE: a worker holding one of these items is refused its result from now on.
        withdrawn.withdraw(cancelled)
        if task_ex.state == states.WAITING:
            task_ex.unique_key = f"{task_ex.unique_key}:{task_ex.id}"
        task_records.set_state(task_ex, states.CANCELLED, "Cancelled with its workflow")
        task_ex.processed = True


def reopen(wf_ex: models.WorkflowExecution) -> None:
    """An ERROR or CANCELLED workflow runs again (a task of it is re-run or skipped)."""
    if wf_ex.state in (states.ERROR, states.CANCELLED):
        workflows.set_state(wf_ex, states.RUNNING)
        wf_ex.output = None


def rerun(
    run: WfRun, task_ex: models.TaskExecution, reset: bool = True, env: dict[str, Any] | None = None
) -> None:
    """Run a failed task again, or a succeeded one and what follows it (``rerun_from``)."""
    spec = run.task_spec(task_ex.name)
    succeeded = task_ex.state == states.SUCCESS
    _check_rerun(run, task_ex, reset=reset, with_items=bool(spec.with_items))
    if succeeded:
        rerun_from.supersede_downstream(run, task_ex)
    reopen(run.wf_ex)
    if env:
        update_env(run.wf_ex, env)
    if not succeeded:
        tasks.reopen_joins_missed_by(run, task_ex)
    indexes = with_items.failed_indexes(task_ex) if spec.with_items and not reset else None
    task_records.set_state(task_ex, states.RUNNING)
    task_ex.state_info, task_ex.processed, task_ex.error_handled = None, False, False
    task_ex.finished_at, task_ex.reset = None, reset
    task_records.reset_for_rerun(task_ex)
    try:
        if indexes is not None:
            tasks.apply_outcome(run, task_ex, with_items.start(run, task_ex, spec, indexes))
        else:
            tasks.execute(run, task_ex)
    except task_work.TASK_ERRORS as error:
        tasks.fail(run, task_ex, str(error))
    workflows.proceed(run)


def _check_rerun(run: WfRun, task_ex: models.TaskExecution, *, reset: bool, with_items: bool) -> None:
    if task_ex.state not in (states.ERROR, states.SUCCESS):
        raise InputError(
            f"Can't re-run task {task_ex.id}: it is {task_ex.state}, only a task in ERROR or SUCCESS "
            "can be re-run"
        )
    if not reset and not with_items:
        raise InputError("Only with-items tasks can be re-run without reset")
    if task_ex.state == states.SUCCESS:
        rerun_from.check(run, task_ex)
        return
    rerun_from.check_current(task_ex)
    if run.wf_ex.state not in (states.ERROR, states.RUNNING, states.PAUSED, states.CANCELLED):
        raise InputError(f"Can't re-run a task of execution {run.wf_ex.id} in state {run.wf_ex.state}")


def skip(run: WfRun, task_ex: models.TaskExecution) -> None:
    if task_ex.state != states.ERROR:
        raise InputError(
            f"Can't skip task {task_ex.id}: it is {task_ex.state}, only a task in ERROR can be skipped"
        )
    reopen(run.wf_ex)
    spec = run.task_spec(task_ex.name)
    task_ex.published = tasks.publish(run, task_ex, spec, states.SKIPPED, None)
    task_records.set_state(task_ex, states.SKIPPED)
    task_ex.processed = False
    run.completed.append(task_ex)
    workflows.proceed(run)
