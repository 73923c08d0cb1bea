"""A workflow execution's own record: creating it, its input checked, as whom it runs.

Below ``workflows`` and ``subworkflows``: a task that starts a sub-workflow creates the child's
record here, and the workflow driver (``workflows``) runs the child's first step.
"""

from __future__ import annotations

from typing import Any

from mistral import context
from mistral.db import api as db_api
from mistral.db import models
from mistral.engine import data_flow, notifications, owners, tallies
from mistral.lang import stored
from mistral.services import workflow_versions
from mistral.utils import inputs, uuids
from mistral.workflow import mocks, reverse, states


def create_execution(
    wf_def: models.WorkflowDefinition,
    wf_input: dict[str, Any],
    params: dict[str, Any],
    *,
    wf_ex_id: str | None = None,
    description: str = "",
    parent_task_ex: models.TaskExecution | None = None,
    owner: dict[str, Any] | None = None,
    credentials: dict[str, Any] | None = None,
    depth: int = 0,
    first_step_done: bool = True,
    version: workflow_versions.Version | None = None,
) -> models.WorkflowExecution:
    """Check the input and create the RUNNING execution; its first step is ``workflows.run_first_step``.

    ``owner`` is who it runs as (a sub-workflow's parent's owner) and ``credentials`` what its
    actions call OpenStack with (the parent's); the caller's when not given. ``first_step_done``
    False marks an execution whose first step is still to run (``Engine.run_first_steps``, or
    the parent's workflow driver for a sub-workflow; recovery runs it if a crash lost it).
    ``version`` is the definition to run (``params.workflow_version``); the current one when not given.
    """
    spec_data = version.spec if version is not None else wf_def.spec
    spec = stored.workflow_spec(wf_def.name, spec_data or {}, wf_def.workbook_name)
    full_input = inputs.checked_workflow_input(spec.name, spec.input, wf_input or {})
    input_json = data_flow.checked_json("input", full_input)
    if spec.type == "reverse":
        reverse.needed_tasks(spec, params.get("task_name"))
    wf_ex_id = wf_ex_id or uuids.generate()
    runtime_context: dict[str, Any] = {
        "workbook_name": wf_def.workbook_name,
        "depth": depth,
        owners.KEY: owner if owner is not None else context.current().owner_record(),
    }
    credentials = credentials if credentials is not None else context.current().credentials()
    if credentials:
        runtime_context[owners.CREDENTIALS_KEY] = credentials
    wf_ex = db_api.create_workflow_execution(
        {
            "id": wf_ex_id,
            "workflow_name": wf_def.name,
            "workflow_namespace": wf_def.namespace,
            "workflow_id": wf_def.id,
            "description": description,
            "tags": list(wf_def.tags or []),
            "spec": spec_data,
            "workflow_version": version.number if version is not None else wf_def.version,
            "test_run": mocks.KEY in params,
            "state": states.RUNNING,
            "input": full_input,
            "params": params,
            "context": {},
            # NOTE: depth (sub-workflow levels below the top) is kept so a child's is one read away.
            "runtime_context": runtime_context,
            "task_execution_id": parent_task_ex.id if parent_task_ex is not None else None,
            "root_execution_id": params.get("root_execution_id"),
            "project_id": parent_task_ex.project_id
            if parent_task_ex is not None
            else context.current().project_id,
            "first_step_done": first_step_done,
        },
        encoded={"input": input_json},
    )
    tallies.execution_started()
    notifications.workflow_changed(wf_ex, None)
    return wf_ex
