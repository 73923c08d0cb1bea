"""Named queries of workflow, task and action executions."""

from __future__ import annotations

import datetime
import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, cast

import sqlalchemy as sa
from sqlalchemy import event, orm
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql

from mistral import context
from mistral.db import models, query
from mistral.db.queries import bulk, common
from mistral.db.query import ListQuery
from mistral.db.session import get_engine, read_first, statements_see_their_own_snapshot, transaction
from mistral.db.types import StoredJson, utcnow
from mistral.exceptions import DuplicateError, NotFoundError

WfEx = models.WorkflowExecution
TaskEx = models.TaskExecution
ActionEx = models.ActionExecution


def _by_id(model: type[common.M], id: str) -> common.M:
    obj = common.by_id(model, id)
    if obj is None:
        raise NotFoundError(model.__kind__, id)
    return obj


#: Rows given to one executemany. NOTE: the statement holds a full copy of its rows' values, bound
#: and encoded (JSON as text); 100 000 items at once made the process's peak hundreds of MB higher.
INSERT_CHUNK = 1000


def _insert_many(model: type[models.Base], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows with one executemany per ``INSERT_CHUNK``: the fan-out and with-items hot path."""
    if not rows:
        return
    project_id = context.current().project_id
    now = utcnow()
    with transaction() as session:
        # NOTE: a Core insert of the table, built once and run on the connection, skips the
        # ORM's bulk machinery and its session.execute, which cost more than the statement
        # on the hot path. The flush first writes what the rows refer to (their task).
        session.flush()
        connection = session.connection()
        for start in range(0, len(rows), INSERT_CHUNK):
            full = [
                {"created_at": now, "project_id": project_id, "scope": "private", **row}
                for row in rows[start : start + INSERT_CHUNK]
            ]
            bulk.execute_many(connection, _TABLE_INSERT(model, tuple(full[0])), full, deferred=True)


def _table(model: type[models.Base]) -> sa.Table:
    # NOTE: declarative models are annotated with a FromClause; ours are always mapped to a Table.
    return cast(sa.Table, model.__table__)


@functools.lru_cache(maxsize=64)
def _TABLE_INSERT(model: type[models.Base], columns: tuple[str, ...]) -> bulk.TableInsert:  # noqa: N802 - a constant
    """The insert of ``columns``, built on first use; every row of one statement has the same columns."""
    return bulk.TableInsert(_table(model), columns)


# -- workflow executions --------------------------------------------------


def create_workflow_execution(
    values: Mapping[str, Any], encoded: Mapping[str, StoredJson] | None = None
) -> models.WorkflowExecution:
    """Insert an execution now, as ``insert_task_execution`` does a task; an id in use: ``DuplicateError``.

    ``encoded``: JSON columns' values as the text to store, encoded already (the object
    holds ``values``). NOTE: every start creates one. Through the ORM (a savepoint, then a
    flush) it cost a third of the start's CPU; an id in use fails the statement, and with it
    the caller's transaction.
    """
    try:
        return _insert_attached(WfEx, values, encoded=encoded)
    except sa_exc.IntegrityError as exc:
        raise DuplicateError(WfEx.__kind__, values.get("id", "")) from exc


def get_workflow_execution(id: str) -> models.WorkflowExecution:
    return _by_id(WfEx, id)


def load_workflow_execution(id: str) -> models.WorkflowExecution | None:
    return common.by_id(WfEx, id)


def lock_workflow_execution(id: str) -> models.WorkflowExecution:
    """Read the execution and hold its row lock until the transaction ends.

    NOTE: on SQLite the transaction itself already holds the database's write
    lock (BEGIN IMMEDIATE), which serializes the same way.
    """
    with transaction() as session:
        stmt = query.scoped(sa.select(WfEx).where(WfEx.id == id), WfEx)
        obj = session.scalars(stmt.with_for_update().execution_options(populate_existing=True)).first()
        if obj is None:
            raise NotFoundError(WfEx.__kind__, id)
        return obj


def lock_workflow_executions(ids: Sequence[str]) -> list[models.WorkflowExecution]:
    """``lock_workflow_execution`` for several at once, locked in id order (the engines' one lock order)."""
    if not ids:
        return []
    with transaction() as session:
        if query.sees_everything(WfEx):  # NOTE: the engine, every result it applies: one statement, kept
            return list(session.scalars(_LOCK_BY_IDS(), {"ids": list(ids)}))
        stmt = query.scoped(sa.select(WfEx).where(WfEx.id.in_(list(ids))), WfEx)
        stmt = stmt.order_by(WfEx.id).with_for_update().execution_options(populate_existing=True)
        return list(session.scalars(stmt))


# NOTE: the statements of every engine hop are built once. Building one again costs more than
# running it on SQLite (clause construction, then its cache key to find the compiled form).


@functools.cache
def _LOCK_BY_IDS() -> sa.Select:  # noqa: N802 - a constant, built on first use
    by_ids = WfEx.id.in_(sa.bindparam("ids", expanding=True))
    stmt = sa.select(WfEx).where(by_ids).order_by(WfEx.id).with_for_update()
    return stmt.execution_options(populate_existing=True)


@functools.cache
def _by_ids(model: type[models.Base], fresh: bool) -> sa.Select:
    stmt = sa.select(model).where(model.id.in_(sa.bindparam("ids", expanding=True)))
    return stmt.execution_options(populate_existing=fresh)


def list_workflow_executions(q: ListQuery | None = None, *conditions: Any) -> list[models.WorkflowExecution]:
    return common.find_all(WfEx, q or ListQuery(), *conditions)


def list_sub_executions(root_or_parent_ids: Iterable[str]) -> list[models.WorkflowExecution]:
    """Executions started by the tasks of the given executions (one level down)."""
    ids = list(root_or_parent_ids)
    if not ids:
        return []
    with transaction(read_only=True) as session:
        tasks = sa.select(TaskEx.id).where(TaskEx.workflow_execution_id.in_(ids))
        stmt = sa.select(WfEx).where(WfEx.task_execution_id.in_(tasks)).order_by(WfEx.created_at)
        return list(session.scalars(stmt))


def list_sub_executions_of_task(task_ex_id: str) -> list[models.WorkflowExecution]:
    stmt = sa.select(WfEx).where(WfEx.task_execution_id == task_ex_id).order_by(WfEx.created_at, WfEx.id)
    with transaction(read_only=True) as session:
        return list(session.scalars(stmt))


def update_workflow_execution(id: str, values: Mapping[str, Any]) -> models.WorkflowExecution:
    return common.update(get_workflow_execution(id), values)


def delete_workflow_execution(id: str) -> None:
    """Delete an execution with its tasks, actions and sub-workflow executions."""
    with transaction() as session:
        ids = [id]
        frontier = [id]
        while frontier:
            tasks = sa.select(TaskEx.id).where(TaskEx.workflow_execution_id.in_(frontier))
            frontier = list(session.scalars(sa.select(WfEx.id).where(WfEx.task_execution_id.in_(tasks))))
            ids += frontier
        task_ids = sa.select(TaskEx.id).where(TaskEx.workflow_execution_id.in_(ids))
        session.execute(sa.delete(ActionEx).where(ActionEx.task_execution_id.in_(task_ids)))
        session.execute(sa.delete(TaskEx).where(TaskEx.workflow_execution_id.in_(ids)))
        session.execute(sa.delete(WfEx).where(WfEx.id.in_(ids)))


# -- task executions -----------------------------------------------------------


def create_task_execution(values: Mapping[str, Any]) -> models.TaskExecution:
    return common.add(TaskEx, values)


def insert_task_executions(rows: Sequence[Mapping[str, Any]]) -> None:
    _insert_many(TaskEx, rows)


def insert_task_execution(values: Mapping[str, Any]) -> models.TaskExecution:
    """Insert a task (every hop creates one), tracked by the session; the row may wait for the next statement.

    NOTE: see ``bulk.execute_many``: ``deferred``.
    """
    return _insert_attached(TaskEx, values, deferred=True)


def _insert_attached(
    model: type[common.M],
    values: Mapping[str, Any],
    *,
    deferred: bool = False,
    encoded: Mapping[str, StoredJson] | None = None,
) -> common.M:
    """Insert a row, with one Core statement built once; answer its object, tracked by the session.

    NOTE: its parameters are built as ``bulk`` builds a batch's, without SQLAlchemy's work per
    statement: a fan-out inserts its tasks one at a time (a task insert took 120 us with
    ``Connection.execute``, 87 us so). The object is attached as if just read, every column set,
    so nothing is read again; a later change to it is written as an UPDATE. ``deferred``: see
    ``bulk.execute_many``. ``encoded`` replaces values in the statement only (see
    ``create_workflow_execution``).
    """
    row = _full_row(model, values)
    with transaction() as session:
        bulk.execute_many(
            session.connection(),
            _TABLE_INSERT(model, tuple(row)),
            [{**row, **encoded} if encoded else row],
            deferred=deferred,
        )
        obj = model()
        # NOTE: straight into the instance's state, as a load does: set one by one, each
        # column would be recorded as a change only for make_transient_to_detached to forget it.
        orm.attributes.instance_dict(obj).update(row)
        orm.make_transient_to_detached(obj)
        session.add(obj)
    return obj


def _full_row(model: type[models.Base], values: Mapping[str, Any]) -> dict[str, Any]:
    """Every column of a new row: ``values``, else the column's default."""
    row = dict(values)
    if model.__secure__:
        row.setdefault("project_id", context.current().project_id)
    for key, default in _column_defaults(model):
        if key not in row:
            if default is None:
                row[key] = None
            else:
                row[key] = default.arg(None) if default.is_callable else default.arg
    return row


@functools.cache
def _column_defaults(model: type[models.Base]) -> tuple[tuple[str, Any], ...]:
    """Each column's key and default (None without one).

    NOTE: walking the table's columns for them took most of the 8.6 us a new task's or action's
    row took to complete, twice per hop.
    """
    return tuple((column.key, column.default) for column in model.__table__.columns)


@event.listens_for(orm.Session, "before_flush")
def _write_changed_rows(session: orm.Session, _context: Any, _instances: Any) -> None:
    """Write the changed columns of changed tasks and executions: Core UPDATEs built once per column set.

    NOTE: every hop finishes a task, and every start sets its execution's first step done;
    the ORM's flush (its unit of work, then an UPDATE compiled for the columns) costs more
    than the statement. What is left to flush after this (new rows, other models) the ORM
    writes as usual. Inside a savepoint the ORM flushes them itself: its rollback restores
    what the ORM wrote in it, not this. Executions are written before tasks and rows in
    id order, as the ORM's flush does (two writers of the same rows wait for each other
    instead of deadlocking).
    """
    dirty = [obj for obj in session.dirty if type(obj) in _UPDATED_COLUMNS]
    if not dirty or session.in_nested_transaction():
        return
    now = utcnow()
    conn = session.connection()
    for model, columns in _UPDATED_COLUMNS.items():
        changed = sorted((obj for obj in dirty if type(obj) is model), key=lambda obj: obj.id)
        states = [orm.attributes.instance_state(obj) for obj in changed]
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for state in states:
            names = tuple(sorted(k for k in state.committed_state if k in columns))
            if names:
                row = {name: state.dict.get(name) for name in names}
                by_columns[names].append({**row, "id_": state.dict["id"], "updated_at": now})
                state.dict["updated_at"] = now
        for names, rows in by_columns.items():
            # NOTE: one executemany per set of columns (a join's tasks), its rows' parameters
            # built without SQLAlchemy's per-row work (``bulk``): every hop writes one.
            bulk.execute_many(conn, _ROW_UPDATE(model, names), rows, deferred=True)
        for state in states:
            # NOTE: what the ORM's flush does to a state it wrote (private, as no public call
            # marks a whole object clean): else it would find the object dirty and flush it again.
            state._commit_all(state.dict, session.identity_map)


#: The models whose changed rows ``_write_changed_rows`` writes, parents first, with their columns.
_UPDATED_COLUMNS: dict[type[models.Base], frozenset[str]] = {
    model: frozenset(c.key for c in model.__table__.columns) - {"id", "updated_at"}
    for model in (WfEx, TaskEx)
}


@functools.cache
def _ROW_UPDATE(model: type[models.Base], names: tuple[str, ...]) -> sa.Update:  # noqa: N802 - a constant
    # NOTE: not a ``bulk.KeyedUpdate``: on PostgreSQL its rows would be one statement, whose
    # rows are locked in the order of the join's plan, not in the id order of the docstring above.
    table = _table(model)
    columns: dict[str, Any] = {name: sa.bindparam(name) for name in (*names, "updated_at")}
    return sa.update(table).where(table.c.id == sa.bindparam("id_")).values(columns)


def get_task_execution(id: str) -> models.TaskExecution:
    return _by_id(TaskEx, id)


def load_task_execution(id: str) -> models.TaskExecution | None:
    return common.by_id(TaskEx, id)


def list_task_executions(q: ListQuery | None = None, *conditions: Any) -> list[models.TaskExecution]:
    return common.find_all(TaskEx, q or ListQuery(), *conditions)


def find_task_names(ids: Iterable[str]) -> dict[str, str]:
    """Task id -> name of the tasks with these ids the caller may see: the task_name of their actions.

    NOTE: two columns, not whole rows: every action execution rendered (a worker's result among
    them) names its task, and a task row carries its published data and runtime context.
    """
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    stmt = query.scoped(sa.select(TaskEx.id, TaskEx.name).where(TaskEx.id.in_(wanted)), TaskEx)
    with transaction(read_only=True) as session:
        return {task_id: name for task_id, name in session.execute(stmt)}


def find_task_executions(
    wf_ex_id: str,
    *,
    names: Iterable[str] | None = None,
    states: Iterable[str] | None = None,
    has_next_tasks: bool | None = None,
) -> list[models.TaskExecution]:
    """Tasks of one execution, in creation order, optionally by name, state and whether they led on."""
    wanted = None if states is None else tuple(sorted(states))
    stmt = _tasks_of_execution(names is not None, wanted, has_next_tasks)
    params = {"wf_ex_id": wf_ex_id} if names is None else {"wf_ex_id": wf_ex_id, "names": list(names)}
    with transaction(read_only=True) as session:
        return list(session.scalars(stmt, params))


@functools.lru_cache(maxsize=32)
def _tasks_of_execution(
    by_names: bool, states: tuple[str, ...] | None, has_next_tasks: bool | None
) -> sa.Select[models.TaskExecution]:
    # NOTE: built once per shape, as _task_state_counts is: the steps that end a workflow ask this.
    stmt = sa.select(TaskEx).where(TaskEx.workflow_execution_id == sa.bindparam("wf_ex_id"))
    if by_names:
        stmt = stmt.where(TaskEx.name.in_(sa.bindparam("names", expanding=True)))
    if states is not None:
        stmt = stmt.where(TaskEx.state.in_(states))
    if has_next_tasks is not None:
        stmt = stmt.where(TaskEx.has_next_tasks == has_next_tasks)
    return stmt.order_by(TaskEx.created_at, TaskEx.id)


def load_last_task_execution(wf_ex_id: str, name: str) -> models.TaskExecution | None:
    stmt = (
        sa.select(TaskEx)
        .where(TaskEx.workflow_execution_id == wf_ex_id, TaskEx.name == name)
        .order_by(TaskEx.created_at.desc(), TaskEx.id.desc())
        .limit(1)
    )
    with transaction(read_only=True) as session:
        return session.scalars(stmt).first()


def load_task_by_unique_key(wf_ex_id: str, unique_key: str) -> models.TaskExecution | None:
    stmt = sa.select(TaskEx).where(TaskEx.workflow_execution_id == wf_ex_id, TaskEx.unique_key == unique_key)
    with transaction(read_only=True) as session:
        return session.scalars(stmt.limit(1)).first()


def count_task_executions_by_state(wf_ex_id: str, states: tuple[str, ...]) -> dict[str, int]:
    """How many of one execution's tasks are in each of ``states``; a state none is in is left out."""
    with transaction(read_only=True) as session:
        return dict(session.execute(_task_state_counts(states), {"wf_ex_id": wf_ex_id}).tuples().all())


@functools.lru_cache(maxsize=8)
def _task_state_counts(states: tuple[str, ...]) -> sa.Select[str, int]:
    # NOTE: built once: SQLAlchemy computes a statement's cache key once per statement object,
    # and building this one for every workflow step cost about as much as running it.
    return (
        sa.select(TaskEx.state, sa.func.count())
        .where(TaskEx.workflow_execution_id == sa.bindparam("wf_ex_id"), TaskEx.state.in_(states))
        .group_by(TaskEx.state)
    )


def find_task_executions_by_ids(ids: Sequence[str], *, fresh: bool = False) -> list[models.TaskExecution]:
    """``fresh``: overwrite copies already loaded in this transaction (read again after taking a lock)."""
    if not ids:
        return []
    with transaction(read_only=True) as session:
        return list(session.scalars(_by_ids(TaskEx, fresh), {"ids": list(ids)}))


def update_task_execution(id: str, values: Mapping[str, Any]) -> models.TaskExecution:
    return common.update(get_task_execution(id), values)


# -- action executions -----------------------------------------------------------


def create_action_execution(values: Mapping[str, Any]) -> models.ActionExecution:
    return common.create(ActionEx, values, values.get("name", ""))


def insert_action_executions(rows: Sequence[Mapping[str, Any]]) -> None:
    _insert_many(ActionEx, rows)


def get_action_execution(id: str) -> models.ActionExecution:
    return _by_id(ActionEx, id)


def load_action_execution(id: str) -> models.ActionExecution | None:
    return common.by_id(ActionEx, id)


def list_action_executions(q: ListQuery | None = None, *conditions: Any) -> list[models.ActionExecution]:
    return common.find_all(ActionEx, q or ListQuery(), *conditions)


def find_action_executions(
    task_ex_id: str, *, states: Iterable[str] | None = None
) -> list[models.ActionExecution]:
    """A task's action executions in creation order."""
    stmt = sa.select(ActionEx).where(ActionEx.task_execution_id == task_ex_id)
    if states is not None:
        stmt = stmt.where(ActionEx.state.in_(list(states)))
    with transaction(read_only=True) as session:
        return list(session.scalars(stmt.order_by(ActionEx.created_at, ActionEx.id)))


def find_item_outcomes(task_ex_id: str, column: str) -> list[tuple[int, Any]]:
    """``(index, column)`` of each action execution of a with-items task, in creation order.

    NOTE: the database reads the index out of ``runtime_context`` where it can read JSON:
    decoding the whole of every row's ``runtime_context`` in Python cost more than the rest
    of gathering a with-items task's 10 000 results.
    """
    with transaction(read_only=True) as session:
        dialect = session.get_bind().dialect.name
        rows = session.execute(_ITEM_OUTCOMES(dialect, column), {"task_ex_id": task_ex_id})
        if dialect in _JSON_INDEX:
            return [(index or 0, value) for index, value in rows]
        return [((runtime or {}).get("index", 0), value) for runtime, value in rows]


def _sqlite_index(runtime: Any) -> Any:
    return sa.func.json_extract(runtime, "$.index")


def _postgresql_index(runtime: Any) -> Any:
    return sa.cast(sa.cast(runtime, postgresql.JSON)["index"].astext, sa.Integer)


#: How each database reads an action's item index out of its ``runtime_context`` text.
_JSON_INDEX = {"sqlite": _sqlite_index, "postgresql": _postgresql_index}


@functools.cache
def _ITEM_OUTCOMES(dialect: str, column: str) -> sa.Select:  # noqa: N802 - a constant per dialect and column
    as_json = _JSON_INDEX.get(dialect)
    index = (
        as_json(sa.type_coerce(ActionEx.runtime_context, sa.Text)) if as_json else ActionEx.runtime_context
    )
    return (
        sa.select(index, getattr(ActionEx, column))
        .where(ActionEx.task_execution_id == sa.bindparam("task_ex_id"))
        .order_by(ActionEx.created_at, ActionEx.id)
    )


def find_action_executions_by_ids(ids: Sequence[str], *, fresh: bool = False) -> list[models.ActionExecution]:
    """``fresh``: overwrite copies already loaded in this transaction (read again after taking a lock)."""
    if not ids:
        return []
    with transaction(read_only=True) as session:
        return list(session.scalars(_by_ids(ActionEx, fresh), {"ids": list(ids)}))


class ActionToApply(NamedTuple):
    """What applying a result reads of its action, as a plain row (``find_actions_to_apply``)."""

    id: str
    state: str
    runtime_context: Any
    task_execution_id: str | None
    output: Any
    result_applied: bool
    executor_host: str | None
    state_info: str | None


def find_actions_to_apply(ids: Sequence[str]) -> list[ActionToApply]:
    """Actions whose results are to be applied, as they are now (read after a lock), as plain rows.

    NOTE: a with-items task's results arrive by the hundred; building, tracking and then
    updating an ORM object per action cost more than reading and writing its row.
    ``write_action_results`` takes these rows as they are.
    """
    if not ids:
        return []
    with transaction(read_only=True) as session:
        rows = session.connection().execute(_ACTIONS_TO_APPLY(), {"ids": list(ids)})
        return [ActionToApply(*row) for row in rows]


@functools.cache
def _ACTIONS_TO_APPLY() -> sa.Select:  # noqa: N802 - a constant, built on first use
    return _to_apply().where(ActionEx.id.in_(sa.bindparam("ids", expanding=True)))


def get_action_to_apply(id: str) -> ActionToApply:
    """One action as ``find_actions_to_apply`` reads it, if the caller may see it (else ``NotFoundError``).

    NOTE (issue 13): what the engine first reads of an asynchronous action's result (every external
    worker's): the whole model, its input decoded and tracked by a session, cost more than the row.
    """
    stmt, scope = query.kept_for_caller(_ACTION_TO_APPLY(), ActionEx)
    row = read_first(stmt, {"id": id, **scope})
    if row is None:
        raise NotFoundError(ActionEx.__kind__, id)
    return ActionToApply(*row)


def _to_apply() -> sa.Select:
    return sa.select(*(getattr(ActionEx, name) for name in ActionToApply._fields))


@functools.cache
def _ACTION_TO_APPLY() -> sa.Select:  # noqa: N802 - a constant, built on first use
    return _to_apply().where(ActionEx.id == sa.bindparam("id"))


#: What applying a result never reads of its action: each is read when asked for (a re-send reads the input).
#: NOTE: a with-items task reads its items' actions again for their results: decoding each input was waste.
_TO_APPLY_UNREAD = ("input", "params", "tags")


def _unread_to_apply() -> list[Any]:
    return [orm.defer(getattr(ActionEx, name)) for name in _TO_APPLY_UNREAD]


def find_actions_with_tasks(ids: Sequence[str]) -> list[tuple[models.ActionExecution, models.TaskExecution]]:
    """The task-owned actions of ``ids`` with their tasks, read again (after a lock), in one statement."""
    if not ids:
        return []
    with transaction(read_only=True) as session:
        return [(a, t) for a, t in session.execute(_ACTIONS_WITH_TASKS(), {"ids": list(ids)})]


@functools.cache
def _ACTIONS_WITH_TASKS() -> sa.Select:  # noqa: N802 - a constant, built on first use
    stmt = (
        sa.select(ActionEx, TaskEx)
        .join(TaskEx, TaskEx.id == ActionEx.task_execution_id)
        .where(ActionEx.id.in_(sa.bindparam("ids", expanding=True)))
        .options(*_unread_to_apply())
    )
    return stmt.execution_options(populate_existing=True)


def lock_workflows_reading_actions(
    wf_ex_ids: Sequence[str], action_ex_ids: Sequence[str]
) -> list[tuple[models.ActionExecution, models.TaskExecution, models.WorkflowExecution]] | None:
    """``lock_workflow_executions`` then ``find_actions_with_tasks``, in one round trip where it is the same.

    Answers the task-owned actions of ``action_ex_ids`` with their tasks and locked workflows
    (``wf_ex_ids``, one per action), in workflow id order; None where one round trip would not
    do: the caller then locks, and reads after.

    NOTE: each hop of a workflow locks its execution and reads the action and its task. On
    SQLite the transaction holds the database's write lock from its BEGIN IMMEDIATE, so a row
    read at any point of it is as it is under the lock, and one statement spares the second.
    On a server database the rows a FOR UPDATE joins beside the row it waits for come from the
    snapshot taken before the wait: another engine's change of them would be missed. At
    PostgreSQL's READ COMMITTED, though, every statement takes its snapshot when it starts, so
    the lock is held back (``pg_round_trips``) and sent in one message with the read behind it,
    which starts only once the lock is granted. With two actions of one workflow, the
    workflow's row (its input may be large) would be decoded twice.
    """
    if not action_ex_ids or len(set(wf_ex_ids)) != len(action_ex_ids):
        return None
    if not query.sees_everything(WfEx):
        return None
    engine = get_engine()
    lock_held_back = engine.dialect.name != "sqlite"
    if lock_held_back and not statements_see_their_own_snapshot(engine):
        return None
    one = len(action_ex_ids) == 1
    params = {"id": action_ex_ids[0]} if one else {"ids": list(action_ex_ids)}
    with transaction() as session:
        if lock_held_back:
            session.connection().execute(
                _LOCK_ONLY_BY_IDS(), {"ids": list(wf_ex_ids)}, execution_options=bulk.DEFERRED
            )
        return [(a, t, w) for a, t, w in session.execute(_ACTIONS_WITH_TASKS_AND_WORKFLOWS(one), params)]


@functools.cache
def _LOCK_ONLY_BY_IDS() -> sa.Select:  # noqa: N802 - a constant, built on first use
    return (
        sa.select(WfEx.id)
        .where(WfEx.id.in_(sa.bindparam("ids", expanding=True)))
        .order_by(WfEx.id)
        .with_for_update()
    )


@functools.cache
def _ACTIONS_WITH_TASKS_AND_WORKFLOWS(one: bool) -> sa.Select:  # noqa: N802 - a constant, built on first use
    # NOTE: ``one`` (a chain's hop): an IN list is expanded into the SQL text at every execution.
    by_id = ActionEx.id == sa.bindparam("id") if one else ActionEx.id.in_(sa.bindparam("ids", expanding=True))
    stmt = (
        sa.select(ActionEx, TaskEx, WfEx)
        .join(TaskEx, TaskEx.id == ActionEx.task_execution_id)
        .join(WfEx, WfEx.id == TaskEx.workflow_execution_id)
        .where(by_id)
        .order_by(WfEx.id)
        .options(*_unread_to_apply())
    )
    return stmt.execution_options(populate_existing=True)


def find_action_owners(ids: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
    """For each action execution: its task and that task's workflow execution (None for ad-hoc runs)."""
    if not ids:
        return {}
    stmt = (
        sa.select(ActionEx.id, ActionEx.task_execution_id, TaskEx.workflow_execution_id)
        .outerjoin(TaskEx, TaskEx.id == ActionEx.task_execution_id)
        .where(ActionEx.id.in_(list(ids)))
    )
    with transaction(read_only=True) as session:
        return {row[0]: (row[1], row[2]) for row in session.execute(stmt)}


def update_action_execution(id: str, values: Mapping[str, Any]) -> models.ActionExecution:
    return common.update(get_action_execution(id), values)


def delete_action_execution(id: str) -> None:
    common.delete(get_action_execution(id))


def update_action_execution_state(
    id: str, *, expected: Iterable[str], new: str, values: Mapping[str, Any] | None = None
) -> bool:
    """Compare-and-set: change the state only if it is still one of ``expected``."""
    stmt = (
        sa.update(ActionEx)
        .where(ActionEx.id == id, ActionEx.state.in_(list(expected)))
        .values(state=new, updated_at=utcnow(), **(values or {}))
        .execution_options(synchronize_session=False)
    )
    with transaction() as session:
        return common.affected_rows(session, stmt) == 1


def write_action_results(
    outcomes: Sequence[tuple[models.ActionExecution | ActionToApply, Mapping[str, Any]]],
) -> None:
    """Write actions' outcomes now, in one statement built once; an ORM object shows its outcome as stored.

    The actions are ORM objects or rows of ``find_actions_to_apply`` (which nothing else holds).

    NOTE: every hop writes one, a with-items task hundreds at a time; the ORM's flush
    (change tracking, then an UPDATE compiled for each set of columns) costs more than
    the statement. The caller holds the rows' workflow locks and has read the rows under them.
    """
    if not outcomes:
        return
    now = utcnow()
    rows = [
        {
            **{name: values.get(name, getattr(action_ex, name)) for name in _RESULT_COLUMNS},
            "id_": action_ex.id,
            "updated_at": now,
        }
        for action_ex, values in outcomes
    ]
    with transaction() as session:
        bulk.execute_many(session.connection(), _WRITE_RESULT(), rows, deferred=True)
    for (action_ex, values), row in zip(outcomes, rows, strict=True):
        if isinstance(action_ex, ActionToApply):
            continue
        # NOTE: the columns not in ``values`` were written as the object holds them already.
        for name in (*(n for n in _RESULT_COLUMNS if n in values), "updated_at"):
            orm.attributes.set_committed_value(action_ex, name, row[name])


_RESULT_COLUMNS = ("state", "output", "result_applied", "executor_host", "state_info")


@functools.cache
def _WRITE_RESULT() -> bulk.KeyedUpdate:  # noqa: N802 - a constant, built on first use
    return bulk.KeyedUpdate(_table(ActionEx), "id", (*_RESULT_COLUMNS, "updated_at"))


def _lock_and_update_actions(conditions: list[Any], values: Mapping[str, Any]) -> list[str]:
    """Set ``values`` on the running actions matching ``conditions``; answer their ids.

    NOTE: two callers offered the same actions queue on the row locks, and the
    second sees the first's change (its conditions no longer match). Without
    UPDATE ... RETURNING the rows are locked first, in id order, the order every
    caller locks in.
    """
    with transaction() as session:
        if session.get_bind().dialect.update_returning:
            # NOTE: one statement where the database can answer which rows it changed.
            returning = (
                sa.update(ActionEx)
                .where(ActionEx.state == "RUNNING", *conditions)
                .values(**values)
                .returning(ActionEx.id)
                .execution_options(synchronize_session=False)
            )
            return list(session.scalars(returning))
        stmt = (
            sa.select(ActionEx.id)
            .where(ActionEx.state == "RUNNING", *conditions)
            .order_by(ActionEx.id)
            .with_for_update()
        )
        found = list(session.scalars(stmt))
        if found:
            update = (
                sa.update(ActionEx)
                .where(ActionEx.id.in_(found))
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            session.execute(update)
        return found


def take_action_executions(
    ids: Sequence[str],
    executor: str,
    now: datetime.datetime,
    *,
    urgent: bool = False,
    again: bool = False,
) -> list[str]:
    """Mark as taken by ``executor`` those of ``ids`` still RUNNING and not taken; answer their ids.

    ``again``: ``executor`` asks again for actions whose earlier take got no answer (a timeout):
    that take may have been recorded after all, so an action taken by ``executor`` and never
    reported on since (no heartbeat: ``last_heartbeat`` is still ``taken_at``) is granted too.
    Called on its own, it is its own transaction (``urgent``: see ``transaction``).
    """
    if not ids:
        return []
    # NOTE: every executor waits for its take before it runs anything (one per hop of a
    # workflow): where the take is one statement it needs no BEGIN and COMMIT of its own,
    # and it is one Core statement built once.
    one_statement = get_engine().dialect.update_returning
    with transaction(urgent=urgent, one_statement=one_statement) as session:
        if one_statement:
            params = {"ids": list(ids), "now": now, "executor": executor, "updated": utcnow()}
            return list(session.connection().execute(_TAKE(again), params).scalars())
        return _lock_and_update_actions(
            [ActionEx.id.in_(list(ids)), _takeable(_table(ActionEx).c, executor, again)],
            {"taken_at": now, "last_heartbeat": now, "executor_host": executor},
        )


def _takeable(columns: Any, executor: Any, again: bool) -> Any:
    """The condition on an action's row under which a take (asked ``again`` or not) is granted."""
    untaken = columns.taken_at.is_(None)
    return sa.or_(untaken, _unreported_take(columns, executor)) if again else untaken


def _unreported_take(columns: Any, executor: Any) -> Any:
    """Taken by ``executor``, which never reported on it since.

    NOTE: a take sets ``last_heartbeat`` to ``taken_at``; the executor's first heartbeat moves it on.
    """
    return sa.and_(columns.executor_host == executor, columns.last_heartbeat == columns.taken_at)


@functools.cache
def _TAKE(again: bool) -> sa.Update:  # noqa: N802 - a constant, built on first use
    table = _table(ActionEx)
    return (
        sa.update(table)
        .where(
            table.c.state == "RUNNING",
            table.c.id.in_(sa.bindparam("ids", expanding=True)),
            _takeable(table.c, sa.bindparam("executor"), again),
        )
        .values(
            taken_at=sa.bindparam("now"),
            last_heartbeat=sa.bindparam("now"),
            executor_host=sa.bindparam("executor"),
            updated_at=sa.bindparam("updated"),
        )
        .returning(table.c.id)
    )


def release_taken_actions(
    ids: Sequence[str], executor: str, now: datetime.datetime
) -> list[models.ActionExecution]:
    """Give back actions ``executor`` took and never started: untaken again, sent at ``now``."""
    if not ids:
        return []
    given_back = _lock_and_update_actions(
        [ActionEx.id.in_(list(ids)), ActionEx.taken_at.is_not(None), ActionEx.executor_host == executor],
        _untaken(now),
    )
    return find_action_executions_by_ids(given_back, fresh=True)


def find_unreported_actions(wf_ex_id: str, executor: str) -> list[models.ActionExecution]:
    """Running actions of a workflow execution taken by ``executor`` that it never reported on since."""
    stmt = (
        sa.select(ActionEx)
        .join(TaskEx, TaskEx.id == ActionEx.task_execution_id)
        .where(
            TaskEx.workflow_execution_id == wf_ex_id,
            ActionEx.state == "RUNNING",
            _unreported_take(_table(ActionEx).c, executor),
        )
    )
    with transaction(read_only=True) as session:
        return list(session.scalars(stmt))


def mark_async_actions_started(ids: Sequence[str]) -> int:
    """Asynchronous actions that have started wait for their callback: no heartbeat is due any more."""
    stmt = (
        sa.update(ActionEx)
        .where(ActionEx.id.in_(list(ids)), ActionEx.state == "RUNNING", ActionEx.taken_at.is_not(None))
        .values(last_heartbeat=None)
        .execution_options(synchronize_session=False)
    )
    with transaction() as session:
        return common.affected_rows(session, stmt)


def touch_action_heartbeats(ids: Sequence[str], executor: str | None = None) -> int:
    """The running actions of ``ids`` that ``executor`` took are alive now."""
    if not ids:
        return 0
    # NOTE: a NULL heartbeat is an async action that has started: a late beat must not revive it.
    # The ids are bound at execution: the statement cached for the next beats would keep the first
    # list bound into it (thousands of ids, for the process's life).
    conditions = [
        ActionEx.id.in_(sa.bindparam("ids", expanding=True)),
        ActionEx.state == "RUNNING",
        ActionEx.last_heartbeat.is_not(None),
    ]
    if executor:
        conditions.append(ActionEx.executor_host == executor)
    stmt = (
        sa.update(ActionEx)
        .where(*conditions)
        .values(last_heartbeat=utcnow())
        .execution_options(synchronize_session=False)
    )
    with transaction() as session:
        return common.affected_rows(session, stmt, {"ids": list(ids)})


def find_untaken_actions(sent_before: datetime.datetime, limit: int) -> list[models.ActionExecution]:
    """Running actions that no executor took, last sent before ``sent_before``; the oldest first."""
    stmt = (
        sa.select(ActionEx)
        .where(ActionEx.state == "RUNNING", ActionEx.taken_at.is_(None), ActionEx.sent_at < sent_before)
        .order_by(ActionEx.sent_at, ActionEx.id)
        .limit(limit)
    )
    with transaction(read_only=True) as session:
        return list(session.scalars(stmt))


def mark_action_resent(id: str, *, sent_before: datetime.datetime, now: datetime.datetime) -> bool:
    """Compare-and-set: note a re-send of an action still running, untaken and sent before ``sent_before``."""
    stmt = (
        sa.update(ActionEx)
        .where(
            ActionEx.id == id,
            ActionEx.state == "RUNNING",
            ActionEx.taken_at.is_(None),
            ActionEx.sent_at < sent_before,
        )
        .values(sent_at=now)
        .execution_options(synchronize_session=False)
    )
    with transaction() as session:
        return common.affected_rows(session, stmt) == 1


def find_silent_actions(heartbeat_before: datetime.datetime, limit: int) -> list[models.ActionExecution]:
    """Taken, running actions whose last heartbeat is older than ``heartbeat_before``.

    An asynchronous action that has started has no heartbeat (NULL), so it is never silent.
    """
    stmt = (
        sa.select(ActionEx)
        .where(
            ActionEx.state == "RUNNING",
            ActionEx.taken_at.is_not(None),
            ActionEx.last_heartbeat < heartbeat_before,
        )
        .order_by(ActionEx.last_heartbeat, ActionEx.id)
        .limit(limit)
    )
    with transaction(read_only=True) as session:
        return list(session.scalars(stmt))


def release_silent_action(id: str, *, heartbeat_before: datetime.datetime, now: datetime.datetime) -> bool:
    """Compare-and-set: give back a silent action (to be sent again) if it is still running and silent."""
    stmt = (
        sa.update(ActionEx)
        .where(ActionEx.id == id, ActionEx.state == "RUNNING", ActionEx.last_heartbeat < heartbeat_before)
        .values(**_untaken(now))
        .execution_options(synchronize_session=False)
    )
    with transaction() as session:
        return common.affected_rows(session, stmt) == 1


def _untaken(now: datetime.datetime) -> dict[str, Any]:
    """The values of an action nobody holds any more, offered again and sent at ``now``."""
    return {
        "taken_at": None, "executor_host": None, "last_heartbeat": None, "sent_at": now, "offered_at": now
    }  # fmt: skip


def find_unreported_subworkflows(limit: int) -> list[str]:
    """Completed sub-workflow executions whose result their running parent task has not taken."""
    stmt = (
        sa.select(WfEx.id)
        .join(TaskEx, TaskEx.id == WfEx.task_execution_id)
        .where(
            WfEx.state.in_(["SUCCESS", "ERROR", "CANCELLED"]),
            WfEx.reported_to_parent.is_(False),
            TaskEx.state == "RUNNING",
            TaskEx.type == "WORKFLOW",
        )
        .limit(limit)
    )
    with transaction(read_only=True) as session:
        return list(session.scalars(stmt))


def find_executions_awaiting_first_step(created_before: datetime.datetime, limit: int) -> list[str]:
    """Running executions created before ``created_before`` whose first step no engine has run yet."""
    stmt = (
        sa.select(WfEx.id)
        .where(WfEx.state == "RUNNING", WfEx.first_step_done.is_(False), WfEx.created_at < created_before)
        .order_by(WfEx.created_at)
        .limit(limit)
    )
    with transaction(read_only=True) as session:
        return list(session.scalars(stmt))


def refresh(obj: models.Base) -> None:
    common.refresh(obj)
