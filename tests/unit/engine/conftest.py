"""Shared setup for the engine's unit tests: workflows stored, one step driven by hand, what it sent.

A test stores its workflows with ``define``, opens one unit of work with ``step()`` (a
transaction and an outbox, as every engine operation has), makes a ``WfRun`` there with
``new_run`` (or ``run.lock_run`` for one already there), calls the functions under test,
and reads the outcome afterwards with ``tasks_of`` / ``wf_ex_of``. ``sent`` (tests/conftest.py)
keeps each committed step's outbox, so a test counts what would have left the process.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from mistral import context
from mistral.db import api as db_api
from mistral.db import models
from mistral.engine import outbox, workflow_records
from mistral.engine.run import WfRun
from mistral.engine.unit_of_work import unit_of_work
from mistral.rpc.payloads import ActionRequest
from mistral.services import definitions


@pytest.fixture
def define(db: str, sent: list[outbox.Outbox]) -> Callable[[str], None]:
    """``define(yaml)`` stores its workflows; a test using it runs on SQLite and on PostgreSQL."""

    def store(text: str) -> None:
        definitions.create_workflows(text)

    return store


def step() -> AbstractContextManager[outbox.Outbox]:
    """One engine operation: a transaction whose outbox is 'sent' (recorded) after it commits."""
    return unit_of_work()


def new_run(name: str, wf_input: dict[str, Any] | None = None, **params: Any) -> WfRun:
    """Inside a ``step()``: a new RUNNING execution of ``name``, its first step not run yet."""
    wf_def = db_api.find_workflow_definition(name, [""])
    all_params = {"namespace": "", "env": {}, **params}
    wf_ex = workflow_records.create_execution(wf_def, wf_input or {}, all_params, first_step_done=False)
    return WfRun(wf_ex)


def task_of(run: WfRun, name: str) -> models.TaskExecution:
    """Inside a ``step()``: the (latest) task ``name`` of ``run``."""
    return db_api.find_task_executions(run.wf_ex.id, names=[name])[-1]


def tasks_of(wf_ex_id: str) -> dict[str, models.TaskExecution]:
    """The execution's tasks by name, as committed (the latest of a name wins)."""
    with context.using(context.Context(is_internal=True)):
        return {t.name: t for t in db_api.find_task_executions(wf_ex_id)}


def wf_ex_of(wf_ex_id: str) -> models.WorkflowExecution:
    with context.using(context.Context(is_internal=True)):
        return db_api.get_workflow_execution(wf_ex_id)


def children_of(wf_ex_id: str) -> list[models.WorkflowExecution]:
    with context.using(context.Context(is_internal=True)):
        return db_api.list_sub_executions([wf_ex_id])


def actions_sent(sent: list[outbox.Outbox]) -> list[ActionRequest]:
    """Every action request the recorded steps sent, in order."""
    return [request for box in sent for request in box.actions]


def action_ids(task_ex_id: str) -> list[str]:
    with context.using(context.Context(is_internal=True)):
        return [a.id for a in db_api.find_action_executions(task_ex_id)]
