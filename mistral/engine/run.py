"""One workflow execution being worked on inside one transaction."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from mistral import context, expressions
from mistral.db import api as db_api
from mistral.db import models
from mistral.engine import data_flow, owners, specs
from mistral.lang.specs import TaskSpec, WorkflowSpec
from mistral.utils import log_ids


@dataclass
class WfRun:
    """The locked execution, its spec, and the tasks that finished and still need their transitions."""

    wf_ex: models.WorkflowExecution
    spec: WorkflowSpec = field(init=False)
    completed: deque[models.TaskExecution] = field(default_factory=deque)
    #: set by pause-before: the workflow pauses once the current step is done
    pause_requested: str | None = None
    #: tasks created or started in this step: if one is still active, the workflow is not done
    touched: list[models.TaskExecution] = field(default_factory=list)
    #: join tasks by unique key, as read or created under this lock: the branches of a wide fan-out
    #: arrive together (one result batch) and each would read the same row again
    joins: dict[str, models.TaskExecution] = field(default_factory=dict)
    #: sub-workflows created in this step, with the task that started each, whose first step the
    #: workflow driver runs (``workflows.start_children``) in this same transaction
    children_to_start: deque[tuple[models.TaskExecution, models.WorkflowExecution]] = field(
        default_factory=deque
    )

    def __post_init__(self) -> None:
        self.spec = specs.for_execution(self.wf_ex)
        # NOTE: the lines logged from now on are about this execution; the unit of work undoes it
        # when it ends, and whoever works on several runs in turn says which one it is at.
        log_ids.set_execution(self.wf_ex.id)

    def task_spec(self, name: str) -> TaskSpec:
        return self.spec.tasks[name]

    def evaluate(self, value: Any, task_ex: models.TaskExecution | None, *, result: Any = None,
                 extra: dict[str, Any] | None = None) -> Any:  # fmt: skip
        """Evaluate ``value`` in the context of ``task_ex`` (or of the workflow alone)."""
        if not expressions.contains_expression(value):
            return value  # NOTE: most values are plain; building the context costs more than the check
        in_ctx = task_ex.in_context if task_ex is not None else None
        ctx = data_flow.task_context(self.wf_ex, in_ctx)
        if extra:
            ctx.update(extra)
        return data_flow.evaluate(value, self.wf_ex, ctx, task_ex, result)

    @cached_property
    def owner(self) -> context.Context:
        """Who the engine acts as for this execution: its lookups see what the owner sees."""
        return owners.of(self.wf_ex)

    @property
    def workbook(self) -> str | None:
        return self.spec.workbook_name

    @property
    def namespace(self) -> str:
        """The namespace of this execution's definition: its ad-hoc actions are looked up there."""
        return self.wf_ex.workflow_namespace or ""

    @property
    def subworkflow_namespace(self) -> str:
        """Where this execution looks up its sub-workflows (then in the default namespace).

        NOTE: the namespace it was started in (``params.namespace``), not the one its definition
        was found in: a sub-workflow found in the default namespace still runs in its parent's and
        passes that on to its own sub-workflows. Mistral 23 does the same (checked black-box), and
        looks actions up in the definition's namespace.
        """
        params = self.wf_ex.params or {}
        return params.get("namespace", self.wf_ex.workflow_namespace) or ""


def lock_run(wf_ex_id: str) -> WfRun:
    """Lock the workflow execution for this transaction (architecture rule 1) and work on it."""
    return WfRun(db_api.lock_workflow_execution(wf_ex_id))


def lock_task(task_ex_id: str) -> tuple[WfRun, models.TaskExecution]:
    """Lock the task's workflow, then read the task as it is under that lock."""
    task_ex = db_api.get_task_execution(task_ex_id)
    run = lock_run(task_ex.workflow_execution_id)
    (task_ex,) = db_api.find_task_executions_by_ids([task_ex_id], fresh=True)
    return run, task_ex
