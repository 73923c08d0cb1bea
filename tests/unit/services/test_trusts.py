"""Keystone trusts without a Keystone: when one is made and deleted, when a token is renewed, the errors.

The same paths against the real Keystone are in ``tests/functional/test_trusts.py``.
"""

from __future__ import annotations

import datetime
import socket
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from keystoneauth1 import access as ks_access
from keystoneauth1 import loading

from mistral import config, context
from mistral.exceptions import NotAllowedError, ServiceUnavailable
from mistral.services import trusts

CALLER = context.Context(project_id="p", user_id="u", auth_token="user-token", roles=("member",))


@pytest.fixture
def auth_on() -> Iterator[None]:
    config.CONF.set_override("auth_enable", True, group="pecan")
    trusts.reset()
    yield
    config.CONF.clear_override("auth_enable", group="pecan")
    trusts.reset()


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Trusts created and deleted, instead of asking Keystone."""
    calls: dict[str, list[str]] = {"created": [], "deleted": []}

    def create(ctx: context.Context) -> str:
        calls["created"].append(ctx.user_id or "")
        return f"trust-{len(calls['created'])}"

    monkeypatch.setattr(trusts, "create_trust", create)
    monkeypatch.setattr(trusts, "delete_trust", lambda trust_id: calls["deleted"].append(trust_id))
    return calls


def test_a_delegation_makes_one_trust_however_often_it_is_asked_for_it(auth_on: None, made: dict) -> None:
    with trusts.Delegation(CALLER) as delegation:
        assert delegation.trust_id() == "trust-1"
        assert delegation.trust_id() == "trust-1"  # asked again: the same trust
    assert made == {"created": ["u"], "deleted": []}


def test_a_failed_creation_deletes_the_trust_it_made(auth_on: None, made: dict) -> None:
    with pytest.raises(RuntimeError), trusts.Delegation(CALLER) as delegation:
        delegation.trust_id()
        raise RuntimeError("duplicate")
    assert made == {"created": ["u"], "deleted": ["trust-1"]}


def test_a_creation_that_fails_before_asking_makes_no_trust(auth_on: None, made: dict) -> None:
    with pytest.raises(RuntimeError), trusts.Delegation(CALLER):
        raise RuntimeError("bad input")
    assert made == {"created": [], "deleted": []}


def test_without_authentication_there_is_no_trust(made: dict) -> None:
    with trusts.Delegation(CALLER) as delegation:
        assert delegation.trust_id() is None
    owner = trusts.owner_context("p", "t-from-before")
    assert (owner.project_id, owner.trust_id, owner.auth_token) == ("p", "t-from-before", None)
    assert trusts.renewed(owner) is owner
    assert made == {"created": [], "deleted": []}


def _access(token: str, expires: datetime.datetime) -> ks_access.AccessInfoV3:
    body = {
        "token": {
            "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
            "user": {"id": "u", "name": "alice"},
            "project": {"id": "p", "name": "proj"},
            "roles": [{"id": "r", "name": "member"}],
            "OS-TRUST:trust": {"id": "t"},
        }
    }
    return ks_access.AccessInfoV3(body, auth_token=token)


@pytest.fixture
def logins(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Trust-scoped logins instead of Keystone's: each gives a new token, valid for an hour."""
    made: list[str] = []

    class Plugin:
        def __init__(self, trust_id: str) -> None:
            self.trust_id = trust_id

        def get_access(self, session: Any) -> ks_access.AccessInfoV3:
            made.append(self.trust_id)
            expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
            return _access(f"token-{len(made)}", expires)

    class Keystone:
        session = None

        def trust_session(self, trust_id: str) -> Any:
            return SimpleNamespace(auth=Plugin(trust_id))

    monkeypatch.setattr(trusts, "_service", Keystone)
    return made


def test_a_firing_acts_as_the_trustor_with_a_trust_scoped_token(auth_on: None, logins: list[str]) -> None:
    owner = trusts.owner_context("p", "t")
    assert (owner.project_id, owner.user_id, owner.user_name) == ("p", "u", "alice")
    assert owner.project_name == "proj"
    assert (owner.roles, owner.trust_id, owner.is_trust_scoped) == (("member",), "t", True)
    assert owner.auth_token == "token-1" and owner.expires_at
    assert trusts.owner_context("p", "t").auth_token == "token-1"  # cached while it has time left
    assert logins == ["t"]


def test_a_token_near_its_expiry_is_renewed(auth_on: None, logins: list[str]) -> None:
    soon = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=2)).isoformat()
    later = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)).isoformat()
    fresh = context.owner("p", {"trust_id": "t", "auth_token": "old", "expires_at": later})
    assert trusts.renewed(fresh) is fresh
    stale = context.owner("p", {"trust_id": "t", "auth_token": "old", "expires_at": soon})
    renewed = trusts.renewed(stale)
    assert renewed.auth_token == "token-1" and renewed.trust_id == "t" and renewed.expires_at != soon
    assert trusts.renewed(context.owner("p", {"trust_id": "t"})).auth_token == "token-1"  # none: one made
    assert logins == ["t"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def service_user(auth_on: None) -> Iterator[str]:
    """``[keystone_authtoken]`` naming a service user on a Keystone that does not answer."""
    config.register_keystone_opts()
    password_opts = loading.get_plugin_loader("password").get_options()
    config.CONF.register_opts([o._to_oslo_opt() for o in password_opts], group=trusts.GROUP)
    url = f"http://127.0.0.1:{_closed_port()}/v3"
    settings = {
        "auth_type": "password", "auth_url": url, "username": "mistral", "password": "pw",
        "project_name": "service", "user_domain_id": "default", "project_domain_id": "default",
    }  # fmt: skip
    for name, value in settings.items():
        config.CONF.set_override(name, value, group=trusts.GROUP)
    trusts.reset()
    yield url
    for name in settings:
        config.CONF.clear_override(name, group=trusts.GROUP)
    trusts.reset()


def test_an_unreachable_keystone_is_a_503_naming_it(service_user: str) -> None:
    with pytest.raises(ServiceUnavailable, match="Keystone is unreachable, could not log in as the service"):
        trusts.create_trust(CALLER)


def test_deleting_a_trust_never_fails(service_user: str, caplog: pytest.LogCaptureFixture) -> None:
    trusts.delete_trust("t")
    assert "Could not delete Keystone trust t" in caplog.text


def test_no_service_credentials_is_an_error_naming_the_section(auth_on: None) -> None:
    config.register_keystone_opts()
    with pytest.raises(trusts.TrustError, match=r"\[keystone_authtoken\] has no auth_type"):
        trusts.owner_context("p", "t")


def test_a_caller_without_a_token_cannot_delegate(auth_on: None) -> None:
    with pytest.raises(NotAllowedError, match="needs the caller's user id and token"):
        trusts.create_trust(context.Context(project_id="p", user_id="u"))
