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
    #: When ``auth_token`` expires (ISO 8601), as Keystone said: a trust-scoped token is renewed before.
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
        kept only where actions need it and never shown by the API. A trust-scoped token is left to
        the owner record, whose copy the engine renews before each action (``services.trusts``): a
        copy here would go stale and, winning over the owner's, reach actions expired.
        """
        names = _CATALOG_FIELDS if self.trust_id and self.is_trust_scoped else CREDENTIAL_FIELDS
        return {name: getattr(self, name) for name in names if getattr(self, name)}

    def owner_record(self) -> dict[str, Any]:
        """Who owns what this context creates, as stored with an execution.

        Never the user's own token; a trust-scoped token (which the service can make again at
        any time from the trust) is kept with its trust, as actions need one (``services.trusts``).
        """
        record: dict[str, Any] = {name: getattr(self, name) for name in _OWNER_FIELDS if getattr(self, name)}
        if self.roles:
            record["roles"] = list(self.roles)
        if self.trust_id and self.is_trust_scoped:
            record.update({name: getattr(self, name) for name in _TRUST_TOKEN_FIELDS if getattr(self, name)})
        return record

    def without_token(self) -> Context:
        """This context with no token, to keep where the token would outlive its use."""
        return replace(self, auth_token=None, expires_at=None) if self.auth_token else self


#: What an execution keeps of its starter to act as them later: no token (it expires, and is a secret).
_OWNER_FIELDS = ("user_id", "user_name", "project_name", "trust_id")
#: ... except a trust-scoped token, kept with its trust: the service made it and can make it again.
_TRUST_TOKEN_FIELDS = ("auth_token", "expires_at")
#: What actions need to call OpenStack services as the starter (mistral-lib's SecurityContext names).
CREDENTIAL_FIELDS = ("auth_token", "service_catalog", "region_name", "expires_at")
_CATALOG_FIELDS = ("service_catalog", "region_name")


def owner(project_id: str, record: dict[str, Any] | None = None) -> Context:
    """The context the engine acts in for a row owned by ``project_id``.

    NOTE: never internal and never admin: what the engine does for an execution it
    does with no more reach than the owner has through the API (architecture rule 8).
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
        # NOTE: a token only with a trust: owner_record() keeps no other.
        auth_token=record.get("auth_token") if record.get("trust_id") else None,
        expires_at=record.get("expires_at") if record.get("trust_id") else None,
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
