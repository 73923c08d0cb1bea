"""Resolving what a task runs and creating its action executions.

An ad-hoc action is a system action with an input built from ``base-input``
and an output reshaped by ``output``; chains of ad-hoc actions unwind to one
system action plus a stack of output transforms applied on the result.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from mistral import config, context, expressions
from mistral.actions import registry
from mistral.db import api as db_api
from mistral.db import models
from mistral.db.types import utcnow
from mistral.engine import (
    action_owners,
    action_requests,
    data_flow,
    dynamic_code,
    evaluation,
    handover,
    work_queue,
)
from mistral.exceptions import InvalidActionError, NotFoundError
from mistral.lang import stored
from mistral.lang.specs import ActionSpec
from mistral.utils import inputs, uuids
from mistral.workflow import states
from mistral.workflow.mocks import Mock

MAX_AD_HOC_DEPTH = 10


@dataclass
class ResolvedAction:
    name: str  # what the user asked for (may be ad-hoc)
    system_name: str
    input: dict[str, Any]
    is_sync: bool
    #: ad-hoc ``output`` specs, innermost first, each evaluated with ``$`` = the inner result
    output_transforms: list[Any] = field(default_factory=list)
    #: For a dynamic action: which class of which code source (``dynamic_code.find``).
    dynamic: dict[str, Any] | None = None
    #: A test run's mock of it: it never reaches an executor (``mistral.workflow.mocks``).
    mock: Mock | None = None


#: The description of a mocked action execution, so that it is told apart in every list.
MOCKED_DESCRIPTION = "Mocked result (test run): the action did not run"


def mocked(name: str, action_input: dict[str, Any], mock: Mock) -> ResolvedAction:
    """What a task runs when a test run mocks its action: nothing is looked up, nothing runs.

    NOTE: the action is not resolved: a test run may mock an action this deployment lacks
    (an OpenStack one, say). Its input is still evaluated, so the task's expressions are tried.
    """
    return ResolvedAction(name, name, action_input, True, mock=mock)


#: (project, name, namespace, workbook) -> (when loaded, spec): the project is part of the key
#: because the same name means another project's action (or none) elsewhere (architecture rule 6).
_ad_hoc_cache: dict[tuple[str, str, str, str | None], tuple[float, ActionSpec | None]] = {}
_cache_lock = threading.Lock()


def cache_key(
    project_id: str, name: str, namespace: str, workbook: str | None
) -> tuple[str, str, str, str | None]:
    return (project_id, name, namespace, workbook)


def _ad_hoc_spec(
    owner: context.Context, name: str, namespace: str, workbook: str | None
) -> ActionSpec | None:
    key = cache_key(owner.project_id, name, namespace, workbook)
    ttl = config.CONF.engine.action_definition_cache_time
    with _cache_lock:
        hit = _ad_hoc_cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < ttl:
            return hit[1]
    with context.using(owner):
        spec = _load_ad_hoc(name, namespace, workbook)
    with _cache_lock:
        _ad_hoc_cache[key] = (time.monotonic(), spec)
    return spec


def _load_ad_hoc(name: str, namespace: str, workbook: str | None) -> ActionSpec | None:
    candidates = ([f"{workbook}.{name}"] if workbook else []) + [name]
    for candidate in candidates:
        for ns in dict.fromkeys([namespace, ""]):
            found = db_api.load_action_definition(candidate, ns)
            if found is not None and not found.is_system and found.spec:
                return stored.action_spec(found.name, found.spec, found.workbook_name)
    return None


def clear_cache() -> None:
    with _cache_lock:
        _ad_hoc_cache.clear()


def _check_input(name: str, params: list[inputs.Param], given: dict[str, Any], cls_name: str) -> None:
    missing, unexpected = inputs.check_input(params, given)
    if missing or unexpected:
        raise InvalidActionError(
            f"Invalid input [name={name}, class={cls_name}, missing={missing}, unexpected={unexpected}]"
        )


def resolve(
    owner: context.Context,
    name: str,
    action_input: dict[str, Any],
    namespace: str = "",
    workbook: str | None = None,
) -> ResolvedAction:
    """The system action to run for ``name`` with its input, checking every level's input.

    Ad-hoc actions are looked up as ``owner``: its own, then public ones (own first).
    """
    # NOTE: never with an all-seeing context, whoever calls: an internal one would find private actions.
    if owner.is_internal or owner.is_admin:
        owner = owner.with_(is_internal=False, is_admin=False)
    transforms: list[Any] = []
    current, current_input = name, dict(action_input)
    for _ in range(MAX_AD_HOC_DEPTH):
        descriptor = registry.get_system_action(current)
        if descriptor is not None:
            _check_input(current, descriptor.params, current_input, descriptor.action_class.__name__)
            data_flow.check_size(f"action {name} input", current_input)
            transforms.reverse()
            return ResolvedAction(name, current, current_input, descriptor.is_sync, transforms)
        spec = _ad_hoc_spec(owner, current, namespace, workbook)
        if spec is None:
            return _dynamic(owner, name, current, current_input, namespace, transforms)
        _check_input(current, spec.input, current_input, "AdHocAction")
        full_input = inputs.with_defaults(spec.input, current_input)
        base_input = spec.base_input or {}
        current_input = evaluation.evaluate(base_input, full_input) if base_input else {}
        if spec.output is not None:
            transforms.append(spec.output)
        current, workbook = spec.base, spec.workbook_name or workbook
    raise InvalidActionError(f"Ad-hoc action '{name}' nests more than {MAX_AD_HOC_DEPTH} levels deep")


def _dynamic(
    owner: context.Context,
    name: str,
    current: str,
    current_input: dict[str, Any],
    namespace: str,
    transforms: list[Any],
) -> ResolvedAction:
    """The dynamic action ``current``; its input is checked by its class, in the executor's child."""
    found = dynamic_code.find(owner, current, namespace)
    if found is None:
        raise NotFoundError("Action", current)
    data_flow.check_size(f"action {name} input", current_input)
    transforms.reverse()
    # NOTE: always synchronous: the class is never imported here to ask it.
    return ResolvedAction(name, current, current_input, True, transforms, dynamic=found)


def transform_output(resolved_transforms: list[Any], data: Any) -> Any:
    for spec in resolved_transforms:
        data = evaluation.evaluate(spec, data) if expressions.contains_expression(spec) else spec
    return data


def new_action_row(
    task_ex: models.TaskExecution | None,
    wf_ex: models.WorkflowExecution | None,
    resolved: ResolvedAction,
    delivery: action_requests.Delivery,
    *,
    index: int = 0,
) -> dict[str, Any]:
    """The column values of one new action execution (inserted in bulk).

    ``task_ex`` and ``wf_ex`` are None for an action run through the API, outside any workflow.
    """
    row = {
        "id": uuids.generate(),
        "name": resolved.name,
        "task_execution_id": None,
        "state": states.RUNNING,
        "result_applied": False,
        "is_sync": resolved.is_sync,
        "input": resolved.input,
        "runtime_context": action_requests.runtime_context(
            resolved.system_name,
            resolved.output_transforms,
            delivery,
            index=index,
            wf_ex=wf_ex,
            dynamic=resolved.dynamic,
            mocked=resolved.mock.result() if resolved.mock is not None else None,
            task_name=task_ex.name if task_ex is not None else None,
        ),
    }
    if resolved.mock is not None:
        row["description"] = MOCKED_DESCRIPTION
    if task_ex is not None and wf_ex is not None:
        row["task_execution_id"] = task_ex.id
        row["workflow_name"] = wf_ex.workflow_name
        row["workflow_namespace"] = wf_ex.workflow_namespace
        row["project_id"] = task_ex.project_id
    return row


#: Columns only some rows give (a take's, on rows taken as they are inserted; a mock's description):
#: one executemany needs the same columns in every row.
_SOMETIMES_GIVEN = ("taken_at", "last_heartbeat", "executor_host", "description")

#: The rows ``insert_and_send`` keeps for the open ``inserted_together`` (None: none is open).
_kept: ContextVar[list[dict[str, Any]] | None] = ContextVar("kept_action_rows", default=None)


@contextlib.contextmanager
def inserted_together() -> Iterator[Callable[[], None]]:
    """Within it, the rows given to ``insert_and_send`` are inserted and sent in one go at its end.

    It yields a function that does so at once: call it before anything that reads the actions
    back. NOTE: a fan-out's thousand tasks cost a thousand one-row inserts otherwise: the
    engine's CPU for a 1000-way fan-out went from 615 to 445 ms with one. If the block raises,
    the rows are dropped with its transaction.
    """
    kept: list[dict[str, Any]] = []
    token = _kept.set(kept)

    def insert_kept() -> None:
        rows = kept[:]
        kept.clear()
        _insert_and_send(rows)

    try:
        yield insert_kept
    finally:
        _kept.reset(token)
    insert_kept()


def insert_and_send(rows: list[dict[str, Any]]) -> None:
    """Insert the action executions and send them to executors once the transaction commits.

    Those for external workers get their work items instead, in this transaction (``work_queue``);
    those taken for the executor whose results caused them leave in its answer (``handover``).
    Inside ``inserted_together`` that happens at its end.
    """
    kept = _kept.get()
    if kept is not None:
        kept.extend(rows)
        return
    _insert_and_send(rows)


def _insert_and_send(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    now = utcnow()
    for row in rows:
        row["sent_at"] = row["offered_at"] = now
    sent, queued = work_queue.split(rows)
    work_queue.mark_taken(queued, now)
    handed = {id(row) for row in handover.mark_taken(sent, now)}
    for row in rows:
        for column in _SOMETIMES_GIVEN:
            row.setdefault(column, None)
    db_api.insert_action_executions(rows)
    work_queue.insert_items(queued, context.current().project_id)
    action_owners.remember(rows)
    for row in sent:
        if id(row) in handed:
            handover.hand(action_requests.build(row))
        else:
            action_requests.queue_row(row)
