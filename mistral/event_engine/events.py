"""Notifications as data, and what a matching trigger starts: pure functions, no I/O."""

from __future__ import annotations

import fnmatch
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Keys of ``event_params`` that describe the notification itself; they win over payload keys.
EVENT_KEYS = ("event_type", "publisher_id", "timestamp")
#: Namespace of the execution ids derived from (message id, trigger id), see ``execution_id``.
_EXECUTION_NS = uuid.UUID("3c5f0c36-9a57-4c37-8f6a-2f4d2a6e4e11")


@dataclass(frozen=True)
class Event:
    """One notification as a listener received it."""

    exchange: str
    topic: str
    event_type: str
    payload: Any
    publisher_id: str = ""
    priority: str = "info"
    #: The publisher's request context (it may hold its token: never copied into params).
    ctxt: Mapping[str, Any] = field(default_factory=dict)
    #: oslo.messaging's metadata: ``message_id`` and ``timestamp``.
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def timestamp(self) -> str | None:
        return self.metadata.get("timestamp")

    @property
    def message_id(self) -> str | None:
        return self.metadata.get("message_id")


@dataclass(frozen=True)
class TriggerRef:
    """What the listeners need to know of a trigger to match it; the row is read again to fire."""

    id: str
    name: str
    exchange: str
    topic: str
    event: str
    project_id: str
    scope: str = "private"


@dataclass(frozen=True)
class StartRequest:
    """The arguments of ``EngineClient.start_workflow`` for one trigger and one event."""

    wf_identifier: str
    wf_namespace: str
    wf_ex_id: str | None
    wf_input: dict[str, Any]
    description: str
    params: dict[str, Any]


def event_project(event: Event) -> str | None:
    """The project whose activity the notification reports (the publisher's request context)."""
    ctxt = event.ctxt or {}
    return ctxt.get("project_id") or ctxt.get("tenant") or ctxt.get("project") or None


def may_fire(trigger: TriggerRef, event: Event, *, auth_enabled: bool) -> bool:
    """Whether ``event`` may start ``trigger``'s workflow.

    NOTE: as in Mistral, with authentication on a private trigger hears only its own
    project's events (another project's notifications, and the data in them, are not its
    owner's to see); a public trigger hears every project's.
    """
    return not auth_enabled or trigger.scope == "public" or event_project(event) == trigger.project_id


def matches(pattern: str, event_type: str) -> bool:
    """A trigger's ``event`` is a glob over event types (``compute.instance.*``); case matters."""
    return fnmatch.fnmatchcase(event_type, pattern)


def event_params(event: Event, properties: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What the workflow sees as ``params.event_params``.

    The payload's keys (or, when an event definition matched, its converted
    ``properties``) plus ``event_type``, ``publisher_id`` and ``timestamp``.
    A payload that is not an object travels under ``payload``.
    """
    if properties is not None:
        base = dict(properties)
    elif isinstance(event.payload, Mapping):
        base = dict(event.payload)
    else:
        base = {"payload": event.payload}
    base.update(event_type=event.event_type, publisher_id=event.publisher_id, timestamp=event.timestamp)
    return base


def description(trigger_id: str, trigger_name: str) -> str:
    """The execution's description: JSON text, like the one cron triggers write."""
    return json.dumps(
        {
            "description": f"Workflow execution created by event trigger '({trigger_id})'.",
            "triggered_by": {"type": "event_trigger", "id": trigger_id, "name": trigger_name},
        }
    )


def execution_id(message_id: str | None, trigger_id: str) -> str | None:
    """One execution per (notification, trigger): a redelivered notification starts nothing new."""
    if not message_id:
        return None
    return str(uuid.uuid5(_EXECUTION_NS, f"{message_id}/{trigger_id}"))


def start_request(
    trigger: Any, wf_namespace: str, event: Event, params_of_event: Mapping[str, Any]
) -> StartRequest:
    """``trigger`` is the EventTrigger row (or anything with its attributes)."""
    params = dict(trigger.workflow_params or {})
    params["event_params"] = dict(params_of_event)
    return StartRequest(
        wf_identifier=trigger.workflow_id,
        wf_namespace=wf_namespace,
        wf_ex_id=execution_id(event.message_id, trigger.id),
        wf_input=dict(trigger.workflow_input or {}),
        description=description(trigger.id, trigger.name),
        params=params,
    )
