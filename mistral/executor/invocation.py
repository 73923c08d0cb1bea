"""Running one action: find it, build it, call it and turn what happened into a result dict.

A result dict is what travels back to the engine:
``{"action_ex_id": ..., "data": ...}``, ``{"action_ex_id": ..., "error": ...}``,
``{"action_ex_id": ..., "cancel": True}`` or, for an asynchronous action that
has started and will be completed through the API, ``{"action_ex_id": ..., "started": True}``.
Everything in it is plain JSON data.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Mapping
from typing import Any

from mistral_lib import actions
from mistral_lib.actions.context import ActionContext, ExecutionContext, SecurityContext
from oslo_serialization import jsonutils

from mistral import exceptions
from mistral.actions import dynamic, registry
from mistral.executor import app_context
from mistral.utils.redact import masked

LOG = logging.getLogger(__name__)

# Constructor parameters mistral-lib knows; anything else in a context dict is dropped
# so a newer engine or API can add fields without breaking older executors.
_SECURITY_FIELDS = frozenset(inspect.signature(SecurityContext.__init__).parameters) - {"self"}
# NOTE: task_id is mistral-lib's deprecated alias of task_execution_id; passing it warns.
_EXECUTION_FIELDS = frozenset(inspect.signature(ExecutionContext.__init__).parameters) - {"self", "task_id"}


def data_result(action_ex_id: str | None, data: Any) -> dict[str, Any]:
    return {"action_ex_id": action_ex_id, "data": json_safe(data)}


def error_result(action_ex_id: str | None, error: Any) -> dict[str, Any]:
    return {"action_ex_id": action_ex_id, "error": json_safe(error)}


def cancel_result(action_ex_id: str | None) -> dict[str, Any]:
    return {"action_ex_id": action_ex_id, "cancel": True}


def started_result(action_ex_id: str | None) -> dict[str, Any]:
    """An asynchronous action has started: no result yet, and no heartbeats are due from now on."""
    return {"action_ex_id": action_ex_id, "started": True}


def describe_exception(exc: BaseException) -> str:
    """``"<ExceptionType>: <message>"``, the error text an exception leaves behind."""
    message = _safe_str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def invoke(request: Mapping[str, Any], security: Mapping[str, Any]) -> dict[str, Any] | None:
    """Run the action ``request`` asks for; its result dict, or None for an async action.

    ``security`` is the requester's security context as a dict. Never raises for
    anything the action or its input does wrong: that becomes an error result.
    """
    action_ex_id = request.get("action_ex_id")
    name = request.get("action_name")
    if request.get("redelivered") and not request.get("safe_rerun"):
        # The first delivery may have run it already; running it twice is worse than failing.
        return error_result(
            action_ex_id, f"Request to run action {name} was redelivered and it is not safe to rerun"
        )
    if request.get("dynamic"):
        return _invoke_dynamic(request, security)
    descriptor = registry.get_system_action(name) if isinstance(name, str) else None
    if descriptor is None:
        return error_result(action_ex_id, str(exceptions.NotFoundError("Action", str(name))))
    try:
        action = registry.instantiate(descriptor, request.get("input") or {})
    except (exceptions.InvalidActionError, exceptions.ActionLoadError) as exc:
        # ActionLoadError: a generated action's class is built on first use (actions.generated_child).
        return error_result(action_ex_id, str(exc))
    LOG.debug("Running action %s [id=%s, input=%s]", name, action_ex_id, masked(request.get("input")))
    ctx = action_context(request, security)
    try:
        with app_context.using(ctx.security, user_id=security.get("user_id")):
            outcome = action.run(ctx)
    except Exception as exc:  # whatever a plugin raises is the action's failure, not ours
        LOG.warning(
            "Action %s [id=%s] failed: %s", name, action_ex_id, describe_exception(exc), exc_info=True
        )
        return error_result(action_ex_id, describe_exception(exc))
    return to_result(action_ex_id, outcome, sync=_is_sync(action))


def _invoke_dynamic(request: Mapping[str, Any], security: Mapping[str, Any]) -> dict[str, Any]:
    """Run a dynamic action in its child process; a dynamic action is always synchronous."""
    action_ex_id = request.get("action_ex_id")
    sec, exe = context_fields(request, security)
    LOG.debug(
        "Running dynamic action %s [id=%s, input=%s]",
        request.get("action_name"),
        action_ex_id,
        masked(request.get("input")),
    )
    answer = dynamic.run(
        request["dynamic"], request.get("input") or {}, sec, exe, timeout=request.get("timeout")
    )
    if "error" in answer:
        LOG.warning("Dynamic action %s [id=%s] failed: %s", request.get("action_name"), action_ex_id,
                    answer["error"])  # fmt: skip
        return error_result(action_ex_id, answer["error"])
    if answer.get("cancel"):
        return cancel_result(action_ex_id)
    return data_result(action_ex_id, answer.get("data"))


def to_result(action_ex_id: str | None, outcome: Any, *, sync: bool = True) -> dict[str, Any] | None:
    """The result dict of what ``run()`` returned; None when an async action has nothing to say yet."""
    if isinstance(outcome, actions.Result):
        if outcome.is_cancel():
            return cancel_result(action_ex_id)
        if outcome.is_error():
            # NOTE: even an async action reports this: it failed to start, so no
            # result will ever arrive through the API and the task would hang.
            return error_result(action_ex_id, outcome.error)
        outcome = outcome.data
    if not sync:
        return None
    return data_result(action_ex_id, outcome)


def action_context(request: Mapping[str, Any], security: Mapping[str, Any]) -> ActionContext:
    """mistral-lib's context for an action: who asked (security) and where it runs (execution)."""
    sec, exe = context_fields(request, security)
    return ActionContext(security_ctx=SecurityContext(**sec), execution_ctx=ExecutionContext(**exe))


def context_fields(
    request: Mapping[str, Any], security: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The constructor arguments of mistral-lib's security and execution contexts."""
    # NOTE: the request's credentials (the execution starter's token and catalog) win over the RPC
    # context's, which is whoever made the engine send the request.
    given = {**security, **(request.get("credentials") or {})}
    sec = {k: v for k, v in given.items() if k in _SECURITY_FIELDS}
    sec.update({k: v for k, v in app_context.keystone_settings().items() if sec.get(k) is None})
    sec["redelivered"] = bool(request.get("redelivered"))
    execution = request.get("context") or {}
    # None means "not given": let mistral-lib's defaults (with_items_index=0, ...) apply.
    exe = {k: v for k, v in execution.items() if k in _EXECUTION_FIELDS and v is not None}
    if "task_execution_id" not in exe and execution.get("task_id") is not None:
        exe["task_execution_id"] = execution["task_id"]
    return sec, exe


#: Types a JSON round trip gives back equal and of the same type (exactly these, not their subclasses).
_PLAIN = frozenset({str, int, float, bool, type(None)})


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON data: odd objects inside become strings, an unencodable whole becomes one."""
    if type(value) in _PLAIN:
        return value  # NOTE: what most items of a with-items task answer; a round trip gives it back as is
    try:
        return json.loads(json.dumps(value, default=_json_default))
    except (TypeError, ValueError, RecursionError):
        # Keys that are not strings or numbers, circular references: give up on structure.
        return _safe_str(value)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, set | frozenset):
        return list(obj)
    if isinstance(obj, bytes):
        return obj.decode("utf-8", errors="replace")
    if hasattr(obj, "__dict__") and not callable(obj):
        # NOTE: an instance with attributes (an OpenStack client's resource: a Project, an Image)
        # becomes them, as Mistral's RPC serializer does (oslo's to_primitive, depth-limited), so that
        # workflows read ``task().result[0].id``; what cannot be converted stays its text.
        try:
            return jsonutils.to_primitive(obj, convert_instances=True, fallback=_safe_str)
        except Exception:  # noqa: BLE001 - a broken attribute must not lose the result
            return _safe_str(obj)
    return _safe_str(obj)


def _safe_str(obj: Any) -> str:
    try:
        return str(obj)
    except Exception:  # a broken __str__ must not lose the result
        return f"<unprintable {type(obj).__name__}>"


def _is_sync(action: actions.Action) -> bool:
    # The instance decides: the registry's class-level answer can be wrong for
    # actions whose answer depends on their input.
    try:
        return bool(action.is_sync())
    except Exception:
        LOG.warning("is_sync of %s failed; treating it as synchronous", type(action).__name__, exc_info=True)
        return True
