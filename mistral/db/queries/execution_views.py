"""What the API shows of one execution, read as a row: the reads behind every poll and every worker's result.

NOTE (issue 14): clients waiting for an execution ask for it again and again. Loaded as a model
through an ORM session, one read cost about 0.35 ms of CPU; as a row of the shown columns on a
bare connection, about 0.13 ms. It also leaves out the columns the API never shows
(``spec``, ``runtime_context``, whose with-items bookkeeping may be large).
NOTE (issue 13): the answer to every external worker's result (``PUT /v2/action_executions/{id}``)
is the action execution so read, with its task's name.
"""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa

from mistral.db import models, query
from mistral.db.session import read_first
from mistral.db.types import JsonText
from mistral.exceptions import NotFoundError

WfEx = models.WorkflowExecution
TaskEx = models.TaskExecution
ActionEx = models.ActionExecution

#: The columns ``GET /v2/executions/{id}`` renders; ``context`` holds the published globals.
SHOWN_COLUMNS = (
    "id",
    "workflow_id",
    "workflow_name",
    "workflow_namespace",
    "description",
    "tags",
    "params",
    "task_execution_id",
    "root_execution_id",
    "source_execution_id",
    "state",
    "state_info",
    "input",
    "output",
    "context",
    "project_id",
    "created_at",
    "updated_at",
    "workflow_version",
    "test_run",
)


#: The shown columns read as their stored JSON text (``StoredJson``).
JSON_TEXT_COLUMNS = frozenset({"input", "output", "params", "context"})


def _shown() -> sa.Select:
    return sa.select(*(_shown_column(name) for name in SHOWN_COLUMNS))


def _shown_column(name: str) -> Any:
    column = getattr(WfEx, name)
    return sa.type_coerce(column, JsonText()).label(name) if name in JSON_TEXT_COLUMNS else column


@functools.cache
def _shown_by_id() -> sa.Select:
    return _shown().where(WfEx.id == sa.bindparam("id"))


def load_workflow_execution_shown(id: str) -> sa.Row | None:
    """The shown columns of the execution with this id (attributes by name), if the caller may see it.

    Its dicts (``JSON_TEXT_COLUMNS``) are their stored JSON text, as ``StoredJson``.
    """
    stmt, scope = query.kept_for_caller(_shown_by_id(), WfEx)
    return read_first(stmt, {"id": id, **scope})


#: The columns an action execution is rendered from (``result_applied`` is shown as ``accepted``).
ACTION_SHOWN_COLUMNS = (
    "id",
    "name",
    "workflow_name",
    "workflow_namespace",
    "task_execution_id",
    "state",
    "state_info",
    "tags",
    "description",
    "project_id",
    "result_applied",
    "input",
    "output",
    "params",
    "created_at",
    "updated_at",
)


def _action_shown(task_name: sa.ScalarSelect[Any]) -> sa.Select:
    columns = (getattr(ActionEx, name) for name in ACTION_SHOWN_COLUMNS)
    return sa.select(*columns, task_name.label("task_name"))


def _task_name() -> sa.Select:
    return sa.select(TaskEx.name).where(TaskEx.id == ActionEx.task_execution_id)


@functools.cache
def _action_shown_by_id() -> sa.Select:
    return _action_shown(_task_name().scalar_subquery()).where(ActionEx.id == sa.bindparam("id"))


@functools.cache
def _action_shown_by_id_scoped() -> sa.Select:
    task_name = query.scoped_by_param(_task_name(), TaskEx).scalar_subquery()
    stmt = _action_shown(task_name).where(ActionEx.id == sa.bindparam("id"))
    return query.scoped_by_param(stmt, ActionEx)


def get_action_execution_shown(id: str) -> sa.Row:
    """The shown columns of the action execution with this id and its task's name (``task_name``, None
    without a task the caller may see), in one statement; ``NotFoundError`` if the caller may not see it.
    """
    if query.sees_everything(ActionEx) and query.sees_everything(TaskEx):
        stmt, params = _action_shown_by_id(), {"id": id}
    else:
        stmt, params = _action_shown_by_id_scoped(), {"id": id, **query.caller_scope()}
    row = read_first(stmt, params)
    if row is None:
        raise NotFoundError(ActionEx.__kind__, id)
    return row
