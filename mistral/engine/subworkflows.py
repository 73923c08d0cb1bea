"""Tasks that run a workflow: the child execution and its result.

A task creates its child here; the child's first step is the workflow driver's to run
(``workflows.start_children``), in the same transaction, once the task's step is done.
"""

from __future__ import annotations

from typing import Any

from mistral import config, context
from mistral.db import api as db_api
from mistral.db import models
from mistral.engine import owners, workflow_records
from mistral.engine.run import WfRun
from mistral.exceptions import InputError, NotFoundError
from mistral.lang.specs import TaskSpec
from mistral.workflow import mocks


def find_definition(
    owner: context.Context, name: str, namespace: str, workbook: str | None
) -> models.WorkflowDefinition:
    """Look in the workbook first, then the parent's namespace, then the default one.

    Only what ``owner`` may start through the API is found: its own workflows, then
    public ones and those shared with it (own first, as a name lookup in the API).
    """
    with context.using(owner):
        return _find(name, namespace, workbook)


def _find(name: str, namespace: str, workbook: str | None) -> models.WorkflowDefinition:
    candidates = ([f"{workbook}.{name}"] if workbook and not name.startswith(f"{workbook}.") else []) + [name]
    for candidate in candidates:
        for ns in dict.fromkeys([namespace, ""]):
            found = db_api.load_workflow_definition(candidate, ns)
            if found is not None:
                return found
    raise NotFoundError("Workflow", f"{name}, namespace={namespace}" if namespace else name)


def start(run: WfRun, task_ex: models.TaskExecution, spec: TaskSpec, wf_input: dict[str, Any],
          *, index: int = 0, extra: dict[str, Any] | None = None) -> None:  # fmt: skip
    """Create the RUNNING child of ``task_ex`` (item ``index`` of with-items); queue its first step."""
    name = run.evaluate(spec.workflow, task_ex, extra=extra)
    if not isinstance(name, str) or not name:
        raise InputError(f"Task '{spec.name}': workflow name must be a string, got {name!r}")
    parent = run.wf_ex
    depth = (parent.runtime_context or {}).get("depth", 0) + 1
    limit = config.CONF.engine.max_subworkflow_depth
    if depth > limit:
        raise InputError(
            f"Task '{spec.name}': sub-workflow '{name}' would nest more than {limit} levels deep "
            "([engine] max_subworkflow_depth)"
        )
    wf_def = find_definition(run.owner, name, run.subworkflow_namespace, run.workbook)
    params = {
        "namespace": run.subworkflow_namespace,
        "env": (parent.params or {}).get("env") or {},
        "index": index,
        "task_execution_id": task_ex.id,
        "root_execution_id": parent.root_execution_id or parent.id,
    }
    if (parent.params or {}).get("notify"):
        # NOTE: as in Mistral, a sub-workflow notifies the publishers of the execution that started it.
        params["notify"] = parent.params["notify"]
    if mocks.KEY in (parent.params or {}):
        # NOTE: a test run mocks the actions of its whole tree: a sub-workflow is part of the test.
        params[mocks.KEY] = parent.params[mocks.KEY]
    child = workflow_records.create_execution(
        wf_def,
        wf_input,
        params,
        description=f"Sub-workflow of task {spec.name} ({task_ex.id})",
        parent_task_ex=task_ex,
        owner=owners.record_of(parent),
        credentials=owners.credentials_of(parent),
        depth=depth,
        # NOTE: until the driver has run its first step; recovery's to run should a crash lose it.
        first_step_done=False,
    )
    run.children_to_start.append((task_ex, child))
