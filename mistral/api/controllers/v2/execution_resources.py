"""The v2 execution resources (workflow, task and action executions), their renderings and lists.

Each ``render_*`` function is the one place a row becomes a response body,
so every endpoint shows the same shape: JSON-typed fields become JSON
strings, and fields the list views leave out are absent, not null.
"""

from __future__ import annotations

import dataclasses
import json
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Self

from wsme import types as wtypes

from mistral.api import contract, listing
from mistral.api.controllers.resource import Resource, format_time
from mistral.api.controllers.types import JsonType, anyjsontype, jsontype
from mistral.api.controllers.v2.resources import SAMPLE_ID, SAMPLE_TIME
from mistral.api.errors import RequestError
from mistral.db import api as db_api
from mistral.db.api import Filter, ListQuery
from mistral.services import executions as ex_service

SAMPLE_PROJECT = "a7eb669e9819420ea4bd1453e672c0a7"
SAMPLE_WF_EX_ID = "123e4567-e89b-12d3-a456-426655440001"
SAMPLE_TASK_EX_ID = "123e4567-e89b-12d3-a456-426655440002"


class Execution(Resource):
    id = wtypes.text
    workflow_id = wtypes.text
    workflow_name = wtypes.text
    workflow_namespace = wtypes.text
    description = wtypes.text
    tags = [wtypes.text]
    params = jsontype
    task_execution_id = wtypes.text
    root_execution_id = wtypes.text
    source_execution_id = wtypes.text
    state = wtypes.text
    state_info = wtypes.text
    input = jsontype
    output = jsontype
    published_global = jsontype
    project_id = wtypes.text
    created_at = wtypes.text
    updated_at = wtypes.text
    #: not in Mistral: the version of the workflow's definition it runs (doc/test_runs.rst)
    workflow_version = int
    #: not in Mistral: started with ``params.mock_actions``, its mocked actions ran nowhere
    test_run = bool

    @classmethod
    def sample(cls) -> Self:
        return cls(
            id=SAMPLE_WF_EX_ID,
            workflow_id=SAMPLE_ID,
            workflow_name="flow",
            workflow_namespace="",
            description="example workflow execution",
            tags=["large"],
            params={"env": {"region": "north"}, "namespace": ""},
            task_execution_id=None,
            root_execution_id=None,
            source_execution_id=None,
            state="SUCCESS",
            state_info=None,
            input={"name": "world"},
            output={"greeting": "Hello, world"},
            published_global={"counter": 1},
            project_id=SAMPLE_PROJECT,
            created_at=SAMPLE_TIME,
            updated_at=SAMPLE_TIME,
            workflow_version=3,
            test_run=False,
        )


class Task(Resource):
    id = wtypes.text
    name = wtypes.text
    type = wtypes.text
    workflow_name = wtypes.text
    workflow_namespace = wtypes.text
    workflow_id = wtypes.text
    workflow_execution_id = wtypes.text
    tags = [wtypes.text]
    state = wtypes.text
    state_info = wtypes.text
    project_id = wtypes.text
    runtime_context = jsontype
    result = anyjsontype
    published = jsontype
    published_global = jsontype
    processed = bool
    reset = bool
    env = jsontype
    created_at = wtypes.text
    updated_at = wtypes.text
    started_at = wtypes.text
    finished_at = wtypes.text

    @classmethod
    def sample(cls) -> Self:
        return cls(
            id=SAMPLE_TASK_EX_ID,
            name="greet",
            type="ACTION",
            workflow_name="flow",
            workflow_namespace="",
            workflow_id=SAMPLE_ID,
            workflow_execution_id=SAMPLE_WF_EX_ID,
            tags=["large"],
            state="SUCCESS",
            state_info=None,
            project_id=SAMPLE_PROJECT,
            runtime_context={"triggered_by": []},
            result="Hello, world",
            published={"greeting": "Hello, world"},
            published_global={},
            processed=True,
            reset=False,
            created_at=SAMPLE_TIME,
            updated_at=SAMPLE_TIME,
            started_at=SAMPLE_TIME,
            finished_at=SAMPLE_TIME,
        )


class ActionExecution(Resource):
    _model_names = {"accepted": "result_applied"}

    id = wtypes.text
    name = wtypes.text
    workflow_name = wtypes.text
    workflow_namespace = wtypes.text
    task_name = wtypes.text
    task_execution_id = wtypes.text
    state = wtypes.text
    state_info = wtypes.text
    tags = [wtypes.text]
    description = wtypes.text
    project_id = wtypes.text
    accepted = bool
    input = anyjsontype
    output = anyjsontype
    params = jsontype
    created_at = wtypes.text
    updated_at = wtypes.text

    @classmethod
    def sample(cls) -> Self:
        return cls(
            id=SAMPLE_ID,
            name="std.echo",
            workflow_name="flow",
            workflow_namespace="",
            task_name="greet",
            task_execution_id=SAMPLE_TASK_EX_ID,
            state="SUCCESS",
            state_info=None,
            tags=[],
            description="",
            project_id=SAMPLE_PROJECT,
            accepted=True,
            input={"output": "Hello, world"},
            output={"result": "Hello, world"},
            params={},
            created_at=SAMPLE_TIME,
            updated_at=SAMPLE_TIME,
        )


def _wanted(fields: Iterable[str] | None, name: str) -> bool:
    return not fields or name in fields


def shown_as(row: Any, resource: type[Resource], *extra: str, **changes: Any) -> types.SimpleNamespace:
    """``row`` as a request left it: the resource's columns (and ``extra`` ones) with ``changes``.

    NOTE: an answer to a request that set a state shows that state, as Mistral answers; the
    embedded engine may have moved the row on before the answer is written (a GET shows it).
    """
    names = {resource.model_name(f) for f in resource.field_names()} | set(extra)
    return types.SimpleNamespace(**({name: getattr(row, name, None) for name in names} | changes))


def _drop(resource: Resource, *names: str) -> None:
    for name in names:
        setattr(resource, name, wtypes.Unset)


def render_execution(
    wf_ex: Any,
    fields: list[str] | None = None,
    *,
    include_output: bool = True,
    published_global: bool = False,
) -> dict[str, Any]:
    """An execution; lists leave out ``output`` unless asked, only GET one adds ``published_global``.

    NOTE (issue 14): WSME's rendering was 80% of the CPU of a list of executions (23 ms for 100):
    without ``fields``, the plain renderer renders what it can.
    """
    if not fields:
        plain = render_execution_plain(
            wf_ex, published_global=published_global, include_output=include_output
        )
        if plain is not None:
            return plain
    return render_execution_wsme(
        wf_ex, fields, include_output=include_output, published_global=published_global
    )


def render_execution_wsme(
    wf_ex: Any, fields: list[str] | None, *, include_output: bool, published_global: bool
) -> dict[str, Any]:
    """``render_execution`` by WSME: the reference of the plain renderer."""
    resource = Execution.from_model(wf_ex, fields)
    if not include_output and not (fields and "output" in fields):
        _drop(resource, "output")
    if published_global and _wanted(fields, "published_global"):
        # NOTE: WSME (untyped) declares a field by its type on the class; an instance holds the value.
        resource.published_global = ex_service.execution_published_global(wf_ex)  # type: ignore[assignment]
    else:
        _drop(resource, "published_global")
    return resource.to_json()


def _kind(datatype: Any) -> type | None:
    if datatype is wtypes.text:
        return str
    if datatype in (int, bool):
        return datatype
    if isinstance(datatype, wtypes.ArrayType) and datatype.item_type is wtypes.text:
        return list
    if isinstance(datatype, JsonType) and type(datatype) is JsonType:
        return dict
    return None  # a kind this renderer does not know: WSME renders it


#: A resource's fields in WSME's order: (field, model attribute, the one kind of value it holds).
PlainFields = tuple[tuple[str, str, type | None], ...]


def _plain_fields(resource: type[Resource]) -> PlainFields:
    return tuple(
        (a.name, resource.model_name(a.name), _kind(a.datatype)) for a in wtypes.list_attributes(resource)
    )


EXECUTION_FIELDS = _plain_fields(Execution)
TASK_FIELDS = _plain_fields(Task)

#: A value the plain renderer leaves to WSME.
_NOT_PLAIN = object()


def _plain_value(value: Any, kind: type | None) -> Any:
    """``value`` as WSME renders a field of ``kind``, or ``_NOT_PLAIN``."""
    if value is None:
        return None
    if kind in (str, int, bool) and type(value) is kind:
        return value
    if kind is list and type(value) is list and all(type(item) is str for item in value):
        return list(value)
    if kind is dict and type(value) is dict:
        return json.dumps(value)
    if kind is dict and type(value) is db_api.StoredJson and value.startswith("{"):
        return str(value)
    return _NOT_PLAIN


def _render_plain(
    obj: Any, fields: PlainFields, left_out: frozenset[str], computed: Mapping[str, Callable[[], Any]]
) -> dict[str, Any] | None:
    """``obj`` as WSME renders it without the ``left_out`` fields, or None when a value is not plain."""
    out: dict[str, Any] = {}
    for name, attr, kind in fields:
        if name in left_out:
            continue
        compute = computed.get(name)
        value = _plain_value(compute() if compute else format_time(getattr(obj, attr, None)), kind)
        if value is _NOT_PLAIN:
            return None
        out[name] = value
    return out


def render_execution_plain(
    wf_ex: Any, *, published_global: bool, include_output: bool = True
) -> dict[str, Any] | None:
    """``render_execution(wf_ex, None, ...)`` without WSME, or None.

    NOTE: WSME validates each value into a resource object and walks it again to render it,
    about 40% of a polled GET's CPU once routing and the ORM were gone (and a POST's answer is
    the same rendering). The values of a stored execution are plain: text, a list of texts,
    dicts that render as JSON text. Any other value (one WSME would convert or refuse) makes
    this return None, and WSME renders it as before. A dict read as its stored JSON text
    (``StoredJson``, from ``load_workflow_execution_shown``) is shown as that text.
    """
    # NOTE: a list leaves out the output, which may be the largest value: not rendered only to be dropped.
    left_out = frozenset(() if include_output else ("output",)) | frozenset(
        () if published_global else ("published_global",)
    )
    computed = {"published_global": lambda: ex_service.execution_published_global(wf_ex)}
    return _render_plain(wf_ex, EXECUTION_FIELDS, left_out, computed)


#: The task fields lists leave out (``env`` is never shown).
_TASK_LISTED_WITHOUT = frozenset({"env", "result", "published_global"})


def render_task(task_ex: Any, fields: list[str] | None = None, *, full: bool = False) -> dict[str, Any]:
    """A task; ``full`` (GET one) adds ``result`` and ``published_global``, which lists leave out.

    NOTE (issue 14): a list's tasks, as its executions, by the plain renderer when their values are plain.
    """
    if not fields and not full:
        plain = _render_plain(task_ex, TASK_FIELDS, _TASK_LISTED_WITHOUT, {})
        if plain is not None:
            return plain
    return render_task_wsme(task_ex, fields, full=full)


def render_task_wsme(task_ex: Any, fields: list[str] | None, *, full: bool) -> dict[str, Any]:
    """``render_task`` by WSME: the reference of the plain renderer."""
    resource = Task.from_model(task_ex, fields)
    _drop(resource, "env")
    if not (full or (fields and "result" in fields)):
        _drop(resource, "result")
    if full and _wanted(fields, "published_global"):
        # NOTE: WSME (untyped) declares a field by its type on the class; an instance holds the value.
        resource.published_global = ex_service.task_published_global(task_ex)  # type: ignore[assignment]
    else:
        _drop(resource, "published_global")
    return resource.to_json()


def render_action_execution(
    action_ex: Any,
    fields: list[str] | None = None,
    *,
    task_names: Mapping[str, str] | None = None,
    include_output: bool = True,
) -> dict[str, Any]:
    """An action execution; ``task_names`` maps task ids to names (looked up when not given)."""
    resource = ActionExecution.from_model(action_ex, fields)
    if _wanted(fields, "task_name"):
        if task_names is None:
            task_names = ex_service.task_names([action_ex])
        resource.task_name = task_names.get(action_ex.task_execution_id or "")
    if not include_output and not (fields and "output" in fields):
        _drop(resource, "output")
    return resource.to_json()


def render_action_dict(values: Mapping[str, Any]) -> dict[str, Any]:
    """An ad-hoc action run that stored nothing: the engine's answer in the resource's shape."""
    known = {k: v for k, v in values.items() if k in ActionExecution.field_names()}
    return ActionExecution.from_model(types.SimpleNamespace(**known)).to_json()


# -- query parameters shared by the execution endpoints ----------------------------


def query_flag(params: Mapping[str, Any], name: str) -> bool:
    """``?errors_only=true``; absent or empty (the client sends ``errors_only=``) is false."""
    raw = str(params.get(name) or "").lower()
    if raw in ("", "false", "0", "no"):
        return False
    if raw in ("true", "1", "yes"):
        return True
    raise RequestError(f"'{name}' must be true or false, got '{params[name]}'")


def max_depth(params: Mapping[str, Any]) -> int:
    """``?max_depth=N``: -1 (or absent) means the whole tree."""
    raw = params.get("max_depth")
    if raw in (None, "", "None"):
        return -1
    try:
        depth = int(raw)
    except ValueError as error:
        raise RequestError(f"'max_depth' must be a whole number, got '{raw}'") from error
    return max(depth, -1)


# -- lists ----------------------------------------------------------------------------

EXECUTION_FILTERS = (
    "id", "workflow_name", "workflow_id", "workflow_namespace", "description", "tags", "params",
    "task_execution_id", "root_execution_id", "source_execution_id", "state", "state_info", "input",
    "output", "created_at", "updated_at", "workflow_version", "test_run",
)  # fmt: skip
TASK_FILTERS = (
    "id", "name", "type", "workflow_name", "workflow_namespace", "workflow_id", "workflow_execution_id",
    "tags", "state", "state_info", "result", "published", "runtime_context", "processed", "reset",
    "created_at", "updated_at", "started_at", "finished_at",
)  # fmt: skip
ACTION_FILTERS = (
    "id", "name", "tags", "workflow_name", "workflow_namespace", "task_name", "task_execution_id",
    "state", "state_info", "accepted", "input", "output", "params", "description", "created_at",
    "updated_at",
)  # fmt: skip

EXECUTION_QUERY = contract.list_query(
    EXECUTION_FILTERS,
    extra=(
        contract.text("nulls", "Comma-separated fields that must be null"),
        contract.flag("include_output", "Include each execution's output"),
    ),
)
TASK_QUERY = contract.list_query(TASK_FILTERS)
ACTION_QUERY = contract.list_query(
    ACTION_FILTERS, extra=(contract.flag("include_output", "Include each action execution's output"),)
)
EXECUTION_LIST = contract.ListOf("executions", contract.One(Execution), paged=True)
EXECUTION_TREE = contract.ListOf("executions", contract.One(Execution))
TASK_LIST = contract.ListOf("tasks", contract.One(Task), paged=True)
ACTION_LIST = contract.ListOf("action_executions", contract.One(ActionExecution), paged=True)


def _pinned(params: Mapping[str, Any], column: str, value: str | None) -> dict[str, Any]:
    """The query with ``column`` fixed by the path, so ``next`` links keep it."""
    params = dict(params)
    if value is not None:
        params[column] = value
    return params


def list_executions(params: Mapping[str, Any], *, task_execution_id: str | None = None) -> dict[str, Any]:
    params = _pinned(params, "task_execution_id", task_execution_id)
    q, fields = listing.parse(params, Execution, EXECUTION_FILTERS)
    q.nulls = listing.csv(params.get("nulls"))
    include_output = query_flag(params, "include_output")
    return listing.envelope(
        "executions",
        db_api.list_workflow_executions(q),
        q,
        fields,
        params,
        lambda wf_ex: render_execution(wf_ex, fields, include_output=include_output),
    )


def list_tasks(params: Mapping[str, Any], *, workflow_execution_id: str | None = None) -> dict[str, Any]:
    params = _pinned(params, "workflow_execution_id", workflow_execution_id)
    q, fields = listing.parse(params, Task, TASK_FILTERS)
    return listing.envelope(
        "tasks", db_api.list_task_executions(q), q, fields, params, lambda t: render_task(t, fields)
    )


def _task_name_filter(q: ListQuery) -> None:
    """``task_name`` is not a column: it becomes the ids of the tasks so named."""
    flt = q.filters.get("task_name")
    if flt is None:
        return
    task_filters = {"name": flt}
    if "task_execution_id" in q.filters:
        task_filters["id"] = q.filters["task_execution_id"]
    tasks = db_api.list_task_executions(ListQuery(filters=task_filters, all_projects=q.all_projects))
    filters = {k: v for k, v in q.filters.items() if k != "task_name"}
    filters["task_execution_id"] = Filter("in", [t.id for t in tasks])
    q.filters = filters


def _in_model_names(q: ListQuery, resource: type[Resource]) -> ListQuery:
    """``q`` with the resource's field names as its model's (the ``next`` link keeps the API's)."""
    return dataclasses.replace(
        q,
        filters={resource.model_name(k): v for k, v in q.filters.items()},
        sort_keys=[resource.model_name(k) for k in q.sort_keys],
    )


def list_action_executions(
    params: Mapping[str, Any], *, task_execution_id: str | None = None
) -> dict[str, Any]:
    params = _pinned(params, "task_execution_id", task_execution_id)
    q, fields = listing.parse(params, ActionExecution, ACTION_FILTERS)
    _task_name_filter(q)
    include_output = query_flag(params, "include_output")
    action_exs = db_api.list_action_executions(_in_model_names(q, ActionExecution))
    names = ex_service.task_names(action_exs)
    return listing.envelope(
        "action_executions",
        action_exs,
        q,
        fields,
        params,
        lambda a: render_action_execution(a, fields, task_names=names, include_output=include_output),
    )
