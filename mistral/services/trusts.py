"""Keystone trusts: how a cron or event trigger acts as its creator long after their token expired.

With authentication on (``[pecan] auth_enable``), creating a trigger delegates the caller's roles
in their project to the service's own user (the one ``[keystone_authtoken]`` names) through an
impersonating trust. A firing authenticates that user scoped to the trust, which gives a token of
the creator in the creator's project; deleting the trigger deletes the trust. As in OpenStack
Mistral there is no switch of its own: trusts are used exactly when authentication is on.

NOTE: a trust-scoped token is something the service can make again at any time from the trust id
and its own credentials, so keeping one with an execution (``mistral.engine.owners``) gives a
reader of the database nothing the service's configuration file does not. The user's own token is
never kept.
"""

from __future__ import annotations

import datetime
import logging
import threading
from typing import TYPE_CHECKING, Any, cast

from mistral import config, context
from mistral.exceptions import MistralError, NotAllowedError, ServiceUnavailable

if TYPE_CHECKING:
    from keystoneauth1 import access as ks_access
    from keystoneauth1 import session as ks_session

# NOTE: keystoneauth1 is imported where Keystone is called, which only happens with authentication
# on: with it come requests, urllib3, osprofiler and webob, ~10 MB of RSS and 150 modules that an
# engine without authentication (the embedded server's default) would keep for nothing.

LOG = logging.getLogger(__name__)

#: The service user's credentials: the section keystonemiddleware reads, as in OpenStack Mistral.
GROUP = "keystone_authtoken"
#: A trust-scoped token with less than this left is renewed before it goes to an action: the
#: action may run for a while with it, and clocks differ.
RENEW_BEFORE = datetime.timedelta(minutes=10)
#: Scope options of the service user's own login; a trust-scoped login must have none of them.
_SCOPE_OPTIONS = (
    "project_id", "project_name", "project_domain_id", "project_domain_name",
    "domain_id", "domain_name", "system_scope",
)  # fmt: skip


class TrustError(MistralError):
    """The service can't use Keystone trusts: its own credentials are missing or refused."""


def enabled() -> bool:
    """True when triggers get trusts: authentication is on."""
    return bool(config.CONF.pecan.auth_enable)


# -- the service user -----------------------------------------------------------------


class _Keystone:
    """The service user's session and what it learned once: its user id, the identity v3 URL."""

    def __init__(self) -> None:
        # NOTE: an engine or event-engine process without the API reads the same section.
        config.register_keystone_opts()
        from keystoneauth1 import session as ks_session

        self.session = ks_session.Session(auth=_plugin(), verify=_verify())
        self._user_id: str | None = None
        self._url: str | None = None

    @property
    def user_id(self) -> str:
        if self._user_id is None:
            self._user_id = _keystone_call("log in as the service user", self.session.get_user_id)
        return self._user_id

    @property
    def url(self) -> str:
        """The identity v3 endpoint, from the service catalog as keystonemiddleware would find it."""
        if self._url is None:
            interface = config.CONF[GROUP].interface or "internal"
            found = _keystone_call(
                "find the identity endpoint",
                lambda: self.session.get_endpoint(
                    service_type="identity", interface=interface, min_version="3.0", max_version="3.latest"
                ),
            )
            if not found:
                raise TrustError(f"Keystone's catalog has no identity v3 endpoint ('{interface}' interface)")
            self._url = found.rstrip("/")
        return self._url

    def trust_session(self, trust_id: str) -> ks_session.Session:
        from keystoneauth1 import session as ks_session

        return ks_session.Session(auth=_plugin(trust_id=trust_id), verify=self.session.verify)


_lock = threading.Lock()
_keystone: _Keystone | None = None
#: trust id -> its current trust-scoped login; renewed when close to expiry.
_tokens: dict[str, ks_access.AccessInfo] = {}


def _service() -> _Keystone:
    global _keystone
    with _lock:
        if _keystone is None:
            _keystone = _Keystone()
        return _keystone


def reset() -> None:
    """Forget the service session and cached tokens (the configuration changed: tests)."""
    global _keystone
    with _lock:
        _keystone = None
        _tokens.clear()


def _plugin(trust_id: str | None = None) -> Any:
    """The service user's login from ``[keystone_authtoken]``; scoped to ``trust_id`` when given."""
    from keystoneauth1 import exceptions as ks_exceptions
    from keystoneauth1 import loading

    overrides: dict[str, Any] = {}
    if trust_id:
        name = config.CONF[GROUP].auth_type
        known = {o.dest for o in loading.get_plugin_loader(name).get_options()} if name else set()
        if "trust_id" not in known:
            raise TrustError(f"[{GROUP}] auth_type '{name}' can't log in scoped to a trust; use 'password'")
        overrides = {opt: None for opt in _SCOPE_OPTIONS if opt in known}
        overrides["trust_id"] = trust_id
    try:
        plugin = loading.load_auth_from_conf_options(config.CONF, GROUP, **overrides)
    except ks_exceptions.MissingRequiredOptions as error:
        raise TrustError(f"[{GROUP}] lacks the service user's credentials: {error}") from error
    if plugin is None:
        raise TrustError(
            f"[{GROUP}] has no auth_type: the service user's credentials are needed for the Keystone "
            "trusts of cron and event triggers"
        )
    return plugin


def _verify() -> Any:
    conf = config.CONF[GROUP]
    if conf.insecure:
        return False
    return conf.cafile or True


def _keystone_call(what: str, call: Any) -> Any:
    """``call()``, with Keystone's failures turned into errors that say what failed and who to blame."""
    from keystoneauth1 import exceptions as ks_exceptions

    try:
        return call()
    except (ks_exceptions.ConnectionError, ks_exceptions.ServiceUnavailable) as error:
        raise ServiceUnavailable(f"Keystone is unreachable, could not {what}: {error}") from error
    except ks_exceptions.Unauthorized as error:
        raise TrustError(f"Keystone refused the service user's credentials ([{GROUP}]): {error}") from error


# -- trusts ---------------------------------------------------------------------------


def create_trust(ctx: context.Context) -> str:
    """A trust from the caller of ``ctx`` to the service user: impersonation, the caller's roles,
    the caller's project, no expiry. Made with the caller's own token, as only a trustor may."""
    if not (ctx.user_id and ctx.auth_token):
        raise NotAllowedError("A Keystone trust needs the caller's user id and token; this request lacks one")
    keystone = _service()
    body = {
        "trust": {
            "trustor_user_id": ctx.user_id,
            "trustee_user_id": keystone.user_id,
            "impersonation": True,
            "project_id": ctx.project_id,
            "roles": [{"name": role} for role in ctx.roles],
        }
    }
    resp = _keystone_call(
        "create a trust",
        lambda: keystone.session.post(
            f"{keystone.url}/OS-TRUST/trusts",
            json=body,
            headers={"X-Auth-Token": ctx.auth_token},
            authenticated=False,
            raise_exc=False,
        ),
    )
    if resp.status_code >= 500:
        raise ServiceUnavailable(f"Keystone failed to create a trust ({resp.status_code}): {_message(resp)}")
    if resp.status_code >= 400:
        raise NotAllowedError(
            f"Keystone refused to create a trust for user {ctx.user_id} in project {ctx.project_id} "
            f"({resp.status_code}): {_message(resp)}"
        )
    trust_id = resp.json()["trust"]["id"]
    LOG.info("Created Keystone trust %s from user %s (project %s)", trust_id, ctx.user_id, ctx.project_id)
    return trust_id


def delete_trust(trust_id: str | None) -> None:
    """Delete ``trust_id``; never fails: a trust already gone, or a Keystone that says no, is logged."""
    if not trust_id or not enabled():
        return
    with _lock:
        cached = _tokens.pop(trust_id, None)
    try:
        resp = _delete(trust_id, cached)
    except Exception as error:  # noqa: BLE001 - the trigger is gone either way
        LOG.warning("Could not delete Keystone trust %s: %s", trust_id, error)
        return
    if resp.status_code == 404:
        LOG.info("Keystone trust %s was already deleted", trust_id)
    elif resp.status_code >= 400:
        LOG.warning("Keystone kept trust %s (%s): %s", trust_id, resp.status_code, _message(resp))
    else:
        LOG.info("Deleted Keystone trust %s", trust_id)


def _delete(trust_id: str, cached: ks_access.AccessInfo | None) -> Any:
    """One DELETE in the usual cases: as the trustor (a trust-scoped token impersonates them, and
    Keystone lets a trustor delete their trust) when one is at hand, else as the service user
    (an admin, as devstack makes it), else as the trustor through a new trust-scoped login."""
    from keystoneauth1 import exceptions as ks_exceptions

    keystone = _service()
    url = f"{keystone.url}/OS-TRUST/trusts/{trust_id}"
    if cached is not None and not _expiring(cached.expires):
        resp = keystone.session.delete(
            url, headers={"X-Auth-Token": cached.auth_token}, authenticated=False, raise_exc=False
        )
        if resp.status_code != 401:
            return resp
    resp = keystone.session.delete(url, raise_exc=False)
    if resp.status_code != 403:
        return resp
    try:
        return keystone.trust_session(trust_id).delete(url, raise_exc=False)
    except (ks_exceptions.Unauthorized, ks_exceptions.NotFound):
        return resp  # the trust gives no login any more: Keystone's refusal above is the answer


class Delegation:
    """The trust a trigger being created gets: made on first ask (once the input is checked, so a
    400 makes none), and deleted again when the creation fails (a retried creation makes a new one).

    ``with Delegation(ctx) as d: create(values, d)`` where ``create`` calls ``d.trust_id()`` once the
    input is checked. None when authentication is off.
    """

    def __init__(self, ctx: context.Context) -> None:
        self._ctx = ctx
        self._trust_id: str | None = None

    def trust_id(self) -> str | None:
        if self._trust_id is None and enabled():
            self._trust_id = create_trust(self._ctx)
        return self._trust_id

    def __enter__(self) -> Delegation:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None and self._trust_id is not None:
            delete_trust(self._trust_id)


def _message(resp: Any) -> str:
    try:
        return str(resp.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return resp.text[:200]


# -- acting through a trust -----------------------------------------------------------


def _access(trust_id: str) -> ks_access.AccessInfo:
    """The trust's current login: cached until it nears expiry, then a new one."""
    from keystoneauth1 import exceptions as ks_exceptions
    from keystoneauth1 import identity as ks_identity

    with _lock:
        found = _tokens.get(trust_id)
    if found is not None and not _expiring(found.expires):
        return found
    keystone = _service()
    # NOTE: Session.auth is typed as any plugin or None; _plugin() accepted this auth_type because it
    # takes a trust_id, so it is an identity plugin, which can log in.
    plugin = cast(ks_identity.BaseIdentityPlugin, keystone.trust_session(trust_id).auth)
    try:
        access = _keystone_call("log in through a trust", lambda: plugin.get_access(keystone.session))
    except (TrustError, ks_exceptions.NotFound, ks_exceptions.Forbidden) as error:
        # NOTE: the service's credentials work (they made the session); the trust does not: it was
        # deleted, or its trustor was disabled or lost the roles it delegates.
        raise NotAllowedError(f"Keystone trust {trust_id} no longer gives a login: {error}") from error
    with _lock:
        _tokens[trust_id] = access
    return access


def _expiring(expires: datetime.datetime | None) -> bool:
    if expires is None:
        return False
    now = datetime.datetime.now(datetime.UTC)
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=datetime.UTC)
    return expires - now < RENEW_BEFORE


def owner_context(project_id: str, trust_id: str | None) -> context.Context:
    """Who a trigger's firing acts as: its owner, through a fresh trust-scoped token when it has a trust.

    Without authentication (or without a trust) this is the owner as the rows know it, with no token.
    """
    if not (trust_id and enabled()):
        return context.owner(project_id, {"trust_id": trust_id} if trust_id else {})
    access = _access(trust_id)
    return context.Context(
        project_id=project_id,
        user_id=access.user_id,
        user_name=access.username,
        project_name=access.project_name,
        roles=tuple(access.role_names or ()),
        auth_token=access.auth_token,
        expires_at=access.expires.isoformat() if access.expires else None,
        trust_id=trust_id,
        is_trust_scoped=True,
    )


def renewed(ctx: context.Context) -> context.Context:
    """``ctx`` with a trust-scoped token that still has time left, when it acts through a trust."""
    if not (ctx.trust_id and enabled()):
        return ctx
    if ctx.auth_token and not _expiring(_parse_time(ctx.expires_at)):
        return ctx
    access = _access(ctx.trust_id)
    return ctx.with_(
        auth_token=access.auth_token,
        expires_at=access.expires.isoformat() if access.expires else None,
        is_trust_scoped=True,
    )


def _parse_time(value: str | None) -> datetime.datetime | None:
    if not value:
        return datetime.datetime.min.replace(tzinfo=datetime.UTC)  # unknown: renew
    try:
        return datetime.datetime.fromisoformat(value)
    except ValueError:
        return datetime.datetime.min.replace(tzinfo=datetime.UTC)
