"""What travels between engines and executors: small dataclasses, plain JSON on the wire.

``from_dict`` ignores keys it does not know, so a newer engine can add a field
without breaking an older executor (and the other way round).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

#: The key by which an executor's result says: the engine may answer it with the executor's next actions,
#: taken for it already (``mistral.engine.handover``). An older executor, which would drop them, never
#: says it.
ACCEPTS_HANDED = "accepts_handed"


#: Each payload class's field names, read once: ``dataclasses.fields`` builds its answer at every call.
#: NOTE: a with-items task sends and reads one request per item.
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _known(cls: type[T], data: Mapping[str, Any]) -> T:
    names = _field_names(cls)
    return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class ActionRequest:
    """Everything an executor needs to run one action execution, the first time or again."""

    action_ex_id: str
    action_name: str
    input: dict[str, Any] = field(default_factory=dict)
    #: The executor ``target:`` named, or None for any.
    target: str | None = None
    safe_rerun: bool = False
    #: Seconds the action may run (the task's timeout policy, or the ad-hoc run's).
    timeout: float | None = None
    #: An earlier copy was taken by an executor that then went silent.
    redelivered: bool = False
    #: mistral-lib's execution context: workflow and task ids, with-items index, callback URL...
    context: dict[str, Any] = field(default_factory=dict)
    #: Who the action runs for: ``project_id`` and what is known of the user (roles, trust).
    #: The engine sends it as the RPC context, so the executor acts as the owner.
    owner: dict[str, Any] = field(default_factory=dict)
    #: For a dynamic action: ``name``, ``class_name``, ``code_source``, ``code_source_id``, ``version``
    #: and ``content`` (the code source's text, or None once it was deleted); None for any other action.
    dynamic: dict[str, Any] | None = None
    #: What the action calls OpenStack with: the starter's ``auth_token``, ``service_catalog``,
    #: ``region_name``, ``expires_at`` (``Context.credentials()``). Kept out of ``owner``, which
    #: groups requests and becomes the RPC context.
    credentials: dict[str, Any] = field(default_factory=dict)
    #: The engine (its RPC server name) that sent the action: the executor sends the result there first,
    #: so that one engine applies one workflow's results (they all lock that workflow's row).
    reply_to: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _field_names(type(self))}

    def to_wire(self) -> dict[str, Any]:
        """``to_dict`` without the fields at their defaults, which ``from_dict`` gives back.

        NOTE: most of a request's fields are at their defaults; a with-items task sends thousands
        of requests, each encoded, decoded and held by the executor until its action has run.
        """
        defaults = _request_defaults()
        wire: dict[str, Any] = {}
        for name in _field_names(ActionRequest):
            value = getattr(self, name)
            if name not in defaults or value != defaults[name]:
                wire[name] = value
        return wire

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ActionRequest:
        return _known(cls, data)


@functools.cache
def _request_defaults() -> dict[str, Any]:
    """Each optional field of ``ActionRequest`` with its default value."""
    defaults: dict[str, Any] = {}
    for f in dataclasses.fields(ActionRequest):
        if f.default is not dataclasses.MISSING:
            defaults[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            defaults[f.name] = f.default_factory()
    return defaults
