"""Execution rows written straight with db_api, as the engine would leave them."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from mistral.db import api as db_api
from mistral.db import models

T0 = datetime.datetime(2024, 1, 1, 12, 0, 0)


def at(seconds: int) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


def wf_ex(**values: Any) -> models.WorkflowExecution:
    row = {
        "id": str(uuid.uuid4()),
        "workflow_name": "wf",
        "workflow_id": str(uuid.uuid4()),
        "state": "SUCCESS",
        "input": {"a": 1},
        "output": {"sum": 3},
        "params": {"env": {"region": "north"}, "namespace": ""},
        "context": {"__published_global": {"g": 7}},
        "description": "",
        "created_at": T0,
    }
    row.update(values)
    return db_api.create_workflow_execution(row)


def task_ex(parent: models.WorkflowExecution, name: str, **values: Any) -> models.TaskExecution:
    row = {
        "id": str(uuid.uuid4()),
        "name": name,
        "workflow_name": parent.workflow_name,
        "workflow_id": parent.workflow_id,
        "workflow_execution_id": parent.id,
        "state": "SUCCESS",
        "spec": {"action": "std.noop", "publish": {"global": {"g": "<% 7 %>"}}},
        "result": [1, 2],
        "published": {"x": 1},
        "runtime_context": {},
        "created_at": T0,
    }
    row.update(values)
    return db_api.create_task_execution(row)


def action_ex(
    parent: models.TaskExecution | None, name: str = "std.echo", **values: Any
) -> models.ActionExecution:
    row = {
        "id": str(uuid.uuid4()),
        "name": name,
        "task_execution_id": parent.id if parent else None,
        "workflow_name": parent.workflow_name if parent else None,
        "state": "SUCCESS",
        "input": {"output": "hi"},
        "output": {"result": "hi"},
        "params": {},
        "created_at": T0,
    }
    row.update(values)
    return db_api.create_action_execution(row)


def tree() -> dict[str, Any]:
    """root -> t1 (SUCCESS, one action) and t2 (ERROR) -> sub (ERROR) -> s1 (ERROR) -> subsub."""
    root = wf_ex(workflow_name="root", state="ERROR")
    t1 = task_ex(root, "t1", started_at=at(0), finished_at=at(4), created_at=at(1))
    a1 = action_ex(t1, result_applied=True, created_at=at(1))
    t2 = task_ex(root, "t2", type="WORKFLOW", state="ERROR", state_info="boom", created_at=at(2))
    sub = wf_ex(
        workflow_name="sub",
        state="ERROR",
        task_execution_id=t2.id,
        root_execution_id=root.id,
        created_at=at(3),
    )
    s1 = task_ex(sub, "s1", type="WORKFLOW", state="ERROR", created_at=at(4))
    subsub = wf_ex(
        workflow_name="subsub",
        state="ERROR",
        task_execution_id=s1.id,
        root_execution_id=root.id,
        created_at=at(5),
    )
    return {"root": root, "t1": t1, "a1": a1, "t2": t2, "sub": sub, "s1": s1, "subsub": subsub}
