"""Events as data: their names, which state change makes which event, payloads, publisher specs.

Pure functions, no I/O. The names, the state-change table and the webhook body
follow OpenStack Mistral's, so a receiver written for Mistral keeps working.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from typing import Any

from mistral.exceptions import InputError
from mistral.workflow import states

WORKFLOW_LAUNCHED = "WORKFLOW_LAUNCHED"
WORKFLOW_SUCCEEDED = "WORKFLOW_SUCCEEDED"
WORKFLOW_FAILED = "WORKFLOW_FAILED"
WORKFLOW_CANCELLED = "WORKFLOW_CANCELLED"
WORKFLOW_PAUSED = "WORKFLOW_PAUSED"
WORKFLOW_RESUMED = "WORKFLOW_RESUMED"
WORKFLOW_RERUN = "WORKFLOW_RERUN"

TASK_LAUNCHED = "TASK_LAUNCHED"
TASK_SUCCEEDED = "TASK_SUCCEEDED"
TASK_FAILED = "TASK_FAILED"
TASK_CANCELLED = "TASK_CANCELLED"
TASK_PAUSED = "TASK_PAUSED"
TASK_RESUMED = "TASK_RESUMED"
TASK_RERUN = "TASK_RERUN"
TASK_SKIPPED = "TASK_SKIPPED"

ANY = "*"

#: new state -> {old state (ANY: any other) -> event}; a new state not listed makes no event
#: (WAITING, RUNNING_DELAYED, IDLE are bookkeeping, as in Mistral).
_WORKFLOW_EVENTS: dict[str, dict[str, str]] = {
    states.RUNNING: {
        ANY: WORKFLOW_LAUNCHED,
        states.PAUSED: WORKFLOW_RESUMED,  # a user (or a parent) resumed it
        states.ERROR: WORKFLOW_RERUN,  # one of its tasks is re-run or skipped
        states.CANCELLED: WORKFLOW_RERUN,
        states.SUCCESS: WORKFLOW_RERUN,  # one of its succeeded tasks is re-run (engine/rerun_from.py)
    },
    states.SUCCESS: {ANY: WORKFLOW_SUCCEEDED},
    states.ERROR: {ANY: WORKFLOW_FAILED},
    states.CANCELLED: {ANY: WORKFLOW_CANCELLED},
    states.PAUSED: {ANY: WORKFLOW_PAUSED},
}
_TASK_EVENTS: dict[str, dict[str, str]] = {
    states.RUNNING: {
        ANY: TASK_LAUNCHED,
        states.IDLE: TASK_RESUMED,  # paused before it began (pause-before, a paused workflow)
        states.PAUSED: TASK_RESUMED,
        states.WAITING: TASK_RESUMED,  # a join whose branches all arrived
        states.ERROR: TASK_RERUN,
        states.CANCELLED: TASK_RERUN,  # a sub-workflow task whose child is re-run
        states.SUCCESS: TASK_RERUN,  # re-run with what follows it (engine/rerun_from.py)
    },
    states.SUCCESS: {ANY: TASK_SUCCEEDED},
    states.ERROR: {ANY: TASK_FAILED},
    states.CANCELLED: {ANY: TASK_CANCELLED},
    states.PAUSED: {ANY: TASK_PAUSED},
    states.SKIPPED: {ANY: TASK_SKIPPED},
}

WORKFLOW_EVENTS = frozenset(e for by_old in _WORKFLOW_EVENTS.values() for e in by_old.values())
TASK_EVENTS = frozenset(e for by_old in _TASK_EVENTS.values() for e in by_old.values())
EVENTS = WORKFLOW_EVENTS | TASK_EVENTS

#: Publisher types, as in Mistral's ``mistral.notification.publishers`` entry point.
PUBLISHER_TYPES = ("webhook", "noop")

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def _event(table: dict[str, dict[str, str]], old: str | None, new: str) -> str | None:
    by_old = table.get(new)
    if not by_old or old == new:
        return None
    return by_old.get(old or "", by_old[ANY])


def workflow_event(old: str | None, new: str) -> str | None:
    """The event a workflow execution going from ``old`` (None: just created) to ``new`` makes."""
    return _event(_WORKFLOW_EVENTS, old, new)


def task_event(old: str | None, new: str) -> str | None:
    """The event a task execution going from ``old`` (None: just created) to ``new`` makes."""
    return _event(_TASK_EVENTS, old, new)


def _time(value: datetime.datetime | None) -> str | None:
    return value.strftime(TIME_FORMAT) if value is not None else None


def workflow_payload(wf_ex: Any, event: str, now: datetime.datetime) -> dict[str, Any]:
    """The body a webhook gets for a workflow event (Mistral's fields, plus ``event``)."""
    return {
        "id": wf_ex.id,
        "name": wf_ex.workflow_name,
        "workflow_name": wf_ex.workflow_name,
        "workflow_namespace": wf_ex.workflow_namespace or "",
        "workflow_id": wf_ex.workflow_id,
        "root_execution_id": wf_ex.root_execution_id,
        "state": wf_ex.state,
        "state_info": wf_ex.state_info,
        "project_id": wf_ex.project_id,
        "task_execution_id": wf_ex.task_execution_id,
        "created_at": _time(wf_ex.created_at or now),
        "updated_at": _time(now),
        "event": event,
    }


def task_payload(task_ex: Any, event: str, now: datetime.datetime) -> dict[str, Any]:
    """The body a webhook gets for a task event (Mistral's fields, plus ``event``)."""
    return {
        "id": task_ex.id,
        "name": task_ex.name,
        "workflow_execution_id": task_ex.workflow_execution_id,
        "workflow_name": task_ex.workflow_name,
        "workflow_namespace": task_ex.workflow_namespace or "",
        "workflow_id": task_ex.workflow_id,
        "state": task_ex.state,
        "state_info": task_ex.state_info,
        "type": task_ex.type,
        "project_id": task_ex.project_id,
        "created_at": _time(task_ex.created_at or now),
        "updated_at": _time(now),
        "started_at": _time(task_ex.started_at),
        "finished_at": _time(task_ex.finished_at),
        "event": event,
    }


def wants(publisher: Mapping[str, Any], event: str) -> bool:
    """No ``event_types`` (or an empty list) means every event."""
    wanted = publisher.get("event_types")
    return not wanted or event in wanted


def parse_publishers(value: Any, where: str = "notify") -> list[dict[str, Any]]:
    """A checked ``notify`` value (a list of publishers, or its JSON text); InputError names the problem."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise InputError(f"'{where}' is not valid JSON: {error}") from error
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise InputError(f"'{where}' must be a list of publishers, got {type(value).__name__}")
    return [_checked(p, f"{where}[{i}]") for i, p in enumerate(value)]


def parse_configured(text: str) -> list[dict[str, Any]]:
    """``[notifier] notify``: a JSON list, one object, or Mistral's comma-separated objects."""
    text = (text or "").strip()
    if text.startswith("{"):
        text = f"[{text}]"  # NOTE: Mistral's option is a list of JSON objects separated by commas
    return parse_publishers(text, "[notifier] notify")


def _checked(publisher: Any, where: str) -> dict[str, Any]:
    if not isinstance(publisher, dict):
        raise InputError(f"'{where}' must be an object with a 'type', got {type(publisher).__name__}")
    kind = publisher.get("type")
    if kind not in PUBLISHER_TYPES:
        raise InputError(f"'{where}.type' must be one of {', '.join(PUBLISHER_TYPES)}, got {kind!r}")
    types = publisher.get("event_types")
    if types is not None:
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise InputError(f"'{where}.event_types' must be a list of event names")
        unknown = sorted(set(types) - EVENTS)
        if unknown:
            raise InputError(
                f"'{where}.event_types' has unknown events {', '.join(unknown)}; "
                f"known: {', '.join(sorted(EVENTS))}"
            )
    if kind == "webhook":
        url = publisher.get("url")
        if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
            raise InputError(f"'{where}.url' must be an http:// or https:// URL, got {url!r}")
        headers = publisher.get("headers")
        if headers is not None and (
            not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values())
        ):
            raise InputError(f"'{where}.headers' must be an object of header names to text values")
    return dict(publisher)
