"""Re-running a task that succeeded, and everything that follows it (Argo's "retry from node").

What a re-run of a SUCCESS task (``PUT /v2/tasks/{id}`` with state RUNNING) does:

- It is allowed once the task's workflow has ended (SUCCESS, ERROR or CANCELLED). A running or
  paused workflow still has work in flight downstream of the task, whose results would race the
  re-run's: wait for it to end, or stop it, first. In a sub-workflow, only while the parent task is
  not SUCCESS (the parent has taken the sub-workflow's output): re-run the parent's task instead.
- The task runs again in its own execution (the id the caller gave), with the inbound context it
  had (its stored ``in_context``). Its earlier action executions (or sub-workflows) stay, as for a
  re-run of a failed task; its published values and result are replaced when it ends. ``reset``
  means what it means for a failed task: a with-items task runs all its items again (true), or only
  its failed ones (false: none, for a task that succeeded, so it completes again with its items'
  results and what follows it runs again).
- What follows it: in a direct workflow, every task reachable from it by transitions; in a reverse
  workflow, the needed tasks that require it. Their finished executions (those created after the
  task's; for a join, its latest) are *superseded*: ``runtime_context.superseded_by`` names the
  re-run task. They stay as history, readable through the API, and no longer count for the
  workflow's output, its failure, a join or a reverse workflow's progress. Those tasks run again,
  in new executions, when the re-run reaches them, each action once.
- A join that follows it waits again in a new execution, with the branches that do not follow the
  re-run task counted as arrived, as before, with their context (at most one fewer than it needs:
  the re-run branch's arrival is what runs it again).
- The workflow goes back to RUNNING; when it ends, its output is computed from the new results.
"""

from __future__ import annotations

from mistral.db import api as db_api
from mistral.db import models
from mistral.engine import task_records, tasks, workflows
from mistral.engine.run import WfRun
from mistral.engine.task_records import JoinCounts
from mistral.exceptions import InputError
from mistral.workflow import direct, reverse, states

#: The states a workflow may be in for one of its succeeded tasks to be re-run.
ENDED = (states.SUCCESS, states.ERROR, states.CANCELLED)


def check_current(task_ex: models.TaskExecution) -> None:
    """A superseded execution is history: the one that replaced it is what may be re-run."""
    by = task_records.runtime(task_ex).superseded_by
    if by:
        raise InputError(
            f"Can't re-run task {task_ex.id}: a re-run of task {by} replaced it; re-run its latest execution"
        )


def check(run: WfRun, task_ex: models.TaskExecution) -> None:
    """Raise ``InputError`` naming why the succeeded ``task_ex`` cannot be re-run now."""
    check_current(task_ex)
    wf_ex = run.wf_ex
    if wf_ex.state not in ENDED:
        raise InputError(
            f"Can't re-run task {task_ex.id}, which succeeded, while its execution {wf_ex.id} is "
            f"{wf_ex.state}: what follows it may still be running. Wait for the execution to end or stop it"
        )
    if wf_ex.task_execution_id:
        parent = db_api.get_task_execution(wf_ex.task_execution_id)
        if parent.state == states.SUCCESS:
            raise InputError(
                f"Can't re-run task {task_ex.id}: its sub-workflow's parent task {parent.id} succeeded "
                "and has taken its output; re-run the parent task instead"
            )


def supersede_downstream(run: WfRun, task_ex: models.TaskExecution) -> list[models.TaskExecution]:
    """Mark what follows ``task_ex`` as superseded, open its joins again and reopen the workflow."""
    names = _downstream(run, task_ex.name)
    rows = db_api.find_task_executions(run.wf_ex.id, names=sorted(names)) if names else []
    joins = {n for n in names if run.spec.type == "direct" and run.task_spec(n).join is not None}
    later = [t for t in rows if t.id != task_ex.id and t.name not in joins and _after(t, task_ex)]
    for row in later:
        task_records.update_runtime(row, superseded_by=task_ex.id)
    replaced = {task_ex.id, *(t.id for t in later)}
    for name in sorted(joins):
        _wait_again(run, name, names | {task_ex.name}, replaced, task_ex.id)
    if run.wf_ex.state == states.SUCCESS:
        workflows.set_state(run.wf_ex, states.RUNNING)
        run.wf_ex.output = None
    return later


def _downstream(run: WfRun, name: str) -> set[str]:
    if run.spec.type == "reverse":
        needed = reverse.needed_tasks(run.spec, (run.wf_ex.params or {}).get("task_name"))
        return reverse.dependents(run.spec, name, needed)
    return direct.downstream(run.spec, name)


def _after(row: models.TaskExecution, task_ex: models.TaskExecution) -> bool:
    # NOTE: a task downstream is created once the step before it ended: after the re-run task.
    # Earlier executions of the same names (an earlier turn of a loop) did not follow it.
    return (row.created_at, row.id) > (task_ex.created_at, task_ex.id)


def _wait_again(run: WfRun, name: str, rerun: set[str], replaced: set[str], by: str) -> None:
    """The join ``name`` waits again, for the branches that the re-run runs again."""
    key = tasks.join_key(name)
    old = db_api.load_task_by_unique_key(run.wf_ex.id, key) or db_api.load_last_task_execution(
        run.wf_ex.id, name
    )
    if old is None:
        return  # NOTE: never reached: the re-run branch creates it when it arrives
    task_records.update_runtime(old, superseded_by=by)
    if old.unique_key == key:
        old.unique_key = f"{key}:{old.id}"
    spec = run.task_spec(name)
    counts = task_records.runtime(old).join or JoinCounts()
    again = [n for n in direct.inbound_tasks(run.spec)[name] if n in rerun]
    missed_again = [i for i in counts.missed_by if i in replaced]
    arrived = counts.arrived - max(len(again) - len(missed_again), 0)
    arrived = max(min(arrived, direct.join_requirement(run.spec, spec) - 1), 0)
    new = tasks.create(run, spec, dict(old.in_context or {}), states.WAITING, unique_key=key)
    missed_by = tuple(i for i in counts.missed_by if i not in replaced)
    task_records.update_runtime(new, join=JoinCounts(arrived, counts.missed - len(missed_again), missed_by))
    run.joins[key] = new
