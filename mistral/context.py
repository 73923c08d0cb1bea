"""The security context of the current request or job.

It lives in a ``contextvars.ContextVar`` so each API request, RPC call and
scheduled job sees its own, threads and greenlets alike.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from typing import Any

DEFAULT_PROJECT_ID = "<default-project>"


@dataclass(frozen=True)
class Context:
    project_id: str = DEFAULT_PROJECT_ID
    user_id: str | None = None
    user_name: str | None = None
    project_name: str | None = None
    auth_token: str | None = None
    roles: tuple[str, ...] = field(default_factory=tuple)
    is_admin: bool = False
    is_trust_scoped: bool = False
    #: The Keystone trust a trigger or execution acts through, when its owner made one.
    trust_id: str | None = None
    #: The caller's service catalog as keystoneclient reads it (``{"methods": [...], "catalog": [...]}``).
    service_catalog: dict[str, Any] | None = None
    #: The region the caller named (``X-Region-Name``), for OpenStack actions.
    region_name: str | None = None
    #: When ``auth_token`` expires (ISO 8601), as Keystone said.
    expires_at: str | None = None
    #: The engine's own work on rows it already holds by id (locks, scans, recovery): sees every
    #: project's rows. Lookups by name or id on behalf of an execution never use it: they run
    #: as the execution's owner (``owner()``, ``mistral.engine.owners``).
    is_internal: bool = False

    def to_dict(self) -> dict[str, Any]:
        # NOTE: not dataclasses.asdict: it deep-copies every value, and this runs
        # for every RPC message and every action an executor runs.
        data = {name: getattr(self, name) for name in _FIELDS}
        data["roles"] = list(self.roles)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Context:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "roles" in known:
            known["roles"] = tuple(known["roles"] or ())
        return cls(**known)

    def with_(self, **changes: Any) -> Context:
        return replace(self, **changes)

    def credentials(self) -> dict[str, Any]:
        """What an execution keeps to call OpenStack as its starter: token, catalog, region (set ones).

        NOTE: apart from the owner record on purpose: the token is a secret that expires, so it is
        kept only where actions need it and never shown by the API.
        """
        return {name: getattr(self, name) for name in CREDENTIAL_FIELDS if getattr(self, name)}

    def owner_record(self) -> dict[str, Any]:
        """Who owns what this context creates, as stored with an execution (never the token)."""
        record: dict[str, Any] = {name: getattr(self, name) for name in _OWNER_FIELDS if getattr(self, name)}
        if self.roles:
            record["roles"] = list(self.roles)
        return record


#: What an execution keeps of its starter to act as them later: no token (it expires, and is a secret).
_OWNER_FIELDS = ("user_id", "user_name", "project_name", "trust_id")
#: What actions need to call OpenStack services as the starter (mistral-lib's SecurityContext names).
CREDENTIAL_FIELDS = ("auth_token", "service_catalog", "region_name", "expires_at")


def owner(project_id: str, record: dict[str, Any] | None = None) -> Context:
    """The context the engine acts in for a row owned by ``project_id``.

    NOTE: never internal and never admin: what the engine does for an execution it
    does with no more reach than the owner has through the API (DESIGN rule 8).
    """
    record = record or {}
    return Context(
        project_id=project_id,
        user_id=record.get("user_id"),
        user_name=record.get("user_name"),
        project_name=record.get("project_name"),
        roles=tuple(record.get("roles") or ()),
        trust_id=record.get("trust_id"),
        is_trust_scoped=bool(record.get("trust_id")),
    )


_FIELDS = tuple(f.name for f in fields(Context))

# NOTE: Context is frozen, so one shared default instance is safe.
_current: contextvars.ContextVar[Context] = contextvars.ContextVar(
    "mistral_context",
    default=Context(),  # noqa: B039
)


def current() -> Context:
    return _current.get()


def set_current(ctx: Context) -> contextvars.Token:
    return _current.set(ctx)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)


@contextlib.contextmanager
def using(ctx: Context) -> Iterator[Context]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
