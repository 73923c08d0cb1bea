"""Keystone trusts of cron and event triggers, against the real Keystone (``tests/functional/tenancy.py``).

A member of project A makes a trigger; their token is then revoked in Keystone, and the trigger
still fires as them: the execution belongs to them and their project, and an action uses the
trust-scoped token the engine made (not the revoked one) to read the member's own user from Keystone.
The API server here caches no tokens, so the revoked token is refused at once (checked, too).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from importlib import metadata
from typing import Any

import oslo_messaging
import pytest
import requests
from mistral_lib import actions
from oslo_config import cfg
from oslo_messaging import opts as messaging_opts

from mistral import config, context
from mistral.actions import registry
from mistral.db import api as db_api
from mistral.engine import cron
from mistral.event_engine.engine import EventEngine
from mistral.event_engine.events import Event
from mistral.services import actions as action_service
from mistral.services import cron_triggers, trusts
from mistral.workflow import states
from tests.functional.conftest import Server
from tests.functional.tenancy import (
    IDENTITIES,
    KEYSTONE_URL,
    KEYSTONE_WHOAMI,
    PROJECT_A,
    SERVICE_PROJECT,
    SERVICE_USER,
    TEXT,
    Tenant,
    keystone_api_server,
    password_session,
)
from tests.polling import wait_for

WORKFLOW = """
version: '2.0'
whoami:
  input:
    - user_id
  tasks:
    ask_keystone:
      action: test.keystone_whoami user_id=<% $.user_id %>
      publish:
        seen: <% task().result %>
  output:
    seen: <% $.seen %>
"""
EVENT_SOURCE = {"exchange": "nova", "topic": "notifications"}
EVENT = {**EVENT_SOURCE, "event": "compute.instance.create.end"}


class KeystoneWhoAmIAction(actions.Action):
    """Read user ``user_id`` and the token's projects from Keystone with the token the action was given."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id

    def run(self, context: Any) -> Any:
        security = context.security
        headers = {"X-Auth-Token": security.auth_token or ""}
        user = requests.get(f"{KEYSTONE_URL}/users/{self.user_id}", headers=headers, timeout=30)
        projects = requests.get(f"{KEYSTONE_URL}/auth/projects", headers=headers, timeout=30)
        return {
            "user_status": user.status_code,
            "user_name": user.json()["user"]["name"] if user.ok else None,
            "projects": sorted(p["name"] for p in projects.json().get("projects", []))
            if projects.ok
            else None,
            "trust_id": security.trust_id,
            "project_id": security.project_id,
        }


@pytest.fixture(autouse=True)
def _whoami_action(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    entry = metadata.EntryPoint(
        name="test.keystone_whoami",
        value=f"{__name__}:{KeystoneWhoAmIAction.__name__}",
        group=registry.ENTRY_POINT_GROUP,
    )
    eps = [*registry._entry_points(), entry]
    monkeypatch.setattr(registry, "_entry_points", lambda: eps)
    registry.reset_cache()
    yield
    registry.reset_cache()


@pytest.fixture(scope="module")
def uncached_url(server: Server, keystone: str) -> Iterator[str]:
    """An API server with authentication on that asks Keystone about every token (no token cache)."""
    with keystone_api_server(keystone, token_cache_time=-1) as url:
        yield url


class Member:
    """The member of project A with a token of their own, fresh for this test, which it may revoke."""

    def __init__(self, url: str) -> None:
        self.tenant = Tenant(url, PROJECT_A)
        login = password_session(self.tenant.username, PROJECT_A)
        self.tenant.token = login.get_token()
        self.user_id = login.get_user_id()
        self.project_id = login.get_project_id()

    def revoke_token(self) -> None:
        """Revoke the token in Keystone as the cloud admin, and check the server now refuses it."""
        resp = IDENTITIES.admin.delete(
            f"{KEYSTONE_URL}/auth/tokens", headers={"X-Subject-Token": self.tenant.token}, raise_exc=False
        )
        assert resp.status_code == 204, resp.text
        assert self.tenant.request("GET", "/workflows").status_code == 401


@pytest.fixture
def member(uncached_url: str, db: str) -> Member:
    action_service.sync_system_actions()
    member = Member(uncached_url)
    resp = member.tenant.request("POST", "/workflows", data=WORKFLOW, headers=TEXT)
    assert resp.status_code == 201, resp.text
    return member


def _keystone_trust(trust_id: str) -> requests.Response:
    return IDENTITIES.admin.get(f"{KEYSTONE_URL}/OS-TRUST/trusts/{trust_id}", raise_exc=False)


def _service_user_id() -> str:
    return password_session(SERVICE_USER, SERVICE_PROJECT).get_user_id()


def _assert_trust_of(member: Member, trust_id: str) -> None:
    trust = _keystone_trust(trust_id).json()["trust"]
    assert (trust["trustor_user_id"], trust["trustee_user_id"]) == (member.user_id, _service_user_id())
    assert (trust["project_id"], trust["impersonation"]) == (member.project_id, True)
    assert "member" in {role["name"] for role in trust["roles"]}


def _internal(read: Any) -> Any:
    with context.using(context.Context(is_internal=True)):
        return read()


def _wait_done(wf_ex_id: str, timeout: float = 30) -> Any:
    """The execution once finished, read from the database (the API would ask Keystone each time)."""

    def finished() -> Any:
        wf_ex = _internal(lambda: db_api.load_workflow_execution(wf_ex_id))
        return wf_ex if wf_ex is not None and wf_ex.state in states.COMPLETED else None

    return wait_for(f"execution {wf_ex_id} to finish", finished, timeout, interval=0.1)


def _assert_ran_as_member(member: Member, wf_ex_id: str, trust_id: str) -> None:
    """The execution, its owner record and its action all belong to the member, through the trust."""
    wf_ex = _wait_done(wf_ex_id)
    assert (wf_ex.state, wf_ex.project_id) == (states.SUCCESS, member.project_id), wf_ex.state_info
    seen = wf_ex.output["seen"]
    assert seen == {
        "user_status": 200,
        "user_name": member.tenant.username,
        "projects": [PROJECT_A],
        "trust_id": trust_id,
        "project_id": member.project_id,
    }
    owner = wf_ex.runtime_context["owner"]
    assert (owner["user_id"], owner["user_name"], owner["trust_id"]) == (
        member.user_id,
        member.tenant.username,
        trust_id,
    )
    assert owner["project_name"] == PROJECT_A and "member" in owner["roles"]
    assert owner["auth_token"] != member.tenant.token
    # The recorded token is a real trust-scoped token of the member, as Keystone itself says.
    token = IDENTITIES.admin.get(
        f"{KEYSTONE_URL}/auth/tokens", headers={"X-Subject-Token": owner["auth_token"]}
    ).json()["token"]
    assert (token["user"]["id"], token["project"]["id"]) == (member.user_id, member.project_id)
    assert token["OS-TRUST:trust"]["id"] == trust_id


def test_cron_trigger_fires_through_its_trust_after_the_creators_token_was_revoked(member: Member) -> None:
    body = {
        "name": "nightly",
        "workflow_name": "whoami",
        "workflow_input": json.dumps({"user_id": member.user_id}),
        "pattern": "0 3 * * *",
    }
    created = member.tenant.request("POST", "/cron_triggers", json=body)
    assert created.status_code == 201, created.text
    trigger = _internal(lambda: db_api.get_cron_trigger(created.json()["id"]))
    assert trigger.trust_id and "trust_id" not in created.json()
    _assert_trust_of(member, trigger.trust_id)

    member.revoke_token()
    trusts.reset()  # no cached trust token either: the firing logs in through the trust itself
    due = trigger.next_execution_time
    assert cron.fire_due_triggers(due + datetime.timedelta(seconds=1)) == 1
    _assert_ran_as_member(member, cron_triggers.execution_id(trigger.id, due), trigger.trust_id)

    deleted = Tenant(member.tenant.url, PROJECT_A).request("DELETE", "/cron_triggers/nightly")
    assert deleted.status_code == 204, deleted.text
    assert _keystone_trust(trigger.trust_id).status_code == 404


def test_cron_trigger_runs_openstack_actions_through_its_trust_after_the_token_was_revoked(
    openstack_actions: None, member: Member
) -> None:
    """keystone.projects_list and keystone.users_get of mistral-extra, fired by cron as the member."""
    text = "version: '2.0'\n" + KEYSTONE_WHOAMI.replace("whoami:", "whoami_in_keystone:")
    resp = member.tenant.request("POST", "/workflows", data=text, headers=TEXT)
    assert resp.status_code == 201, resp.text
    body = {
        "name": "nightly_keystone",
        "workflow_name": "whoami_in_keystone",
        "workflow_input": json.dumps({"user_id": member.user_id}),
        "pattern": "0 3 * * *",
    }
    created = member.tenant.request("POST", "/cron_triggers", json=body)
    assert created.status_code == 201, created.text
    trigger = _internal(lambda: db_api.get_cron_trigger(created.json()["id"]))

    member.revoke_token()
    trusts.reset()
    due = trigger.next_execution_time
    assert cron.fire_due_triggers(due + datetime.timedelta(seconds=1)) == 1
    wf_ex = _wait_done(cron_triggers.execution_id(trigger.id, due), timeout=60)
    assert (wf_ex.state, wf_ex.project_id) == (states.SUCCESS, member.project_id), wf_ex.state_info
    assert wf_ex.output == {"projects": [PROJECT_A], "user": member.tenant.username}


def test_event_trigger_fires_through_its_trust_after_the_creators_token_was_revoked(
    member: Member, notifications: Any
) -> None:
    wf_id = member.tenant.request("GET", "/workflows/whoami").json()["id"]
    body = {"name": "on_create", "workflow_id": wf_id, "workflow_input": {"user_id": member.user_id}, **EVENT}
    created = member.tenant.request("POST", "/event_triggers", json=body)
    assert created.status_code == 201, created.text
    trigger_id = created.json()["id"]
    trust_id = _internal(lambda: db_api.get_event_trigger(trigger_id)).trust_id
    assert trust_id
    _assert_trust_of(member, trust_id)

    member.revoke_token()
    trusts.reset()
    event_engine = EventEngine(notifications, definitions=[], pool_name="trusts")
    event_engine.start()
    try:
        # NOTE: handed to the engine as its listener would: oslo.messaging's in-memory driver drops
        # the publisher's context, and with authentication on the project in it decides who hears.
        event = Event(**EVENT_SOURCE, event_type=EVENT["event"], payload={"instance_id": "i-42"},
                      ctxt={"project_id": member.project_id})  # fmt: skip
        (wf_ex_id,) = event_engine.handle(event)
    finally:
        event_engine.stop()
    _assert_ran_as_member(member, wf_ex_id, trust_id)

    deleted = Tenant(member.tenant.url, PROJECT_A).request("DELETE", f"/event_triggers/{trigger_id}")
    assert deleted.status_code == 204, deleted.text
    assert _keystone_trust(trust_id).status_code == 404


def test_a_trigger_whose_trust_is_already_gone_is_still_deleted(member: Member) -> None:
    body = {"name": "doomed", "workflow_name": "whoami", "pattern": "0 3 * * *"}
    body["workflow_input"] = json.dumps({"user_id": member.user_id})
    created = member.tenant.request("POST", "/cron_triggers", json=body)
    assert created.status_code == 201, created.text
    trust_id = _internal(lambda: db_api.get_cron_trigger("doomed")).trust_id
    assert IDENTITIES.admin.delete(f"{KEYSTONE_URL}/OS-TRUST/trusts/{trust_id}").status_code == 204

    assert member.tenant.request("DELETE", "/cron_triggers/doomed").status_code == 204
    assert member.tenant.request("GET", "/cron_triggers/doomed").status_code == 404


@pytest.fixture
def trusts_made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the trusts this process asks Keystone for, in order.

    Counted here rather than from Keystone's list of the member's trusts: tests on other workers
    make triggers as the same member at the same time.
    """
    made: list[str] = []
    create = trusts.create_trust

    def recording(ctx: context.Context) -> str:
        made.append(create(ctx))
        return made[-1]

    monkeypatch.setattr(trusts, "create_trust", recording)
    return made


def test_bad_input_leaves_no_trust_behind(member: Member, trusts_made: list[str]) -> None:
    cron_body = {"name": "bad", "workflow_name": "whoami", "pattern": "0 3 * * *"}  # user_id missing
    resp = member.tenant.request("POST", "/cron_triggers", json=cron_body)
    assert resp.status_code == 400 and "user_id" in resp.json()["faultstring"], resp.text
    wf_id = member.tenant.request("GET", "/workflows/whoami").json()["id"]
    event_body = {"name": "bad", "workflow_id": wf_id, "workflow_input": {"nope": 1}, **EVENT}
    resp = member.tenant.request("POST", "/event_triggers", json=event_body)
    assert resp.status_code == 400, resp.text
    good = {**cron_body, "workflow_input": json.dumps({"user_id": member.user_id})}
    assert member.tenant.request("POST", "/cron_triggers", json=good).status_code == 201
    assert member.tenant.request("POST", "/cron_triggers", json=good).status_code == 409
    (kept,) = trusts_made  # neither a 400 nor a plain duplicate asked Keystone for a trust
    assert _internal(lambda: db_api.get_cron_trigger("bad")).trust_id == kept
    assert _keystone_trust(kept).status_code == 200


def test_a_duplicate_found_only_at_the_insert_deletes_its_trust(
    member: Member, trusts_made: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    body = {"name": "twice", "workflow_name": "whoami", "pattern": "0 3 * * *"}
    body["workflow_input"] = json.dumps({"user_id": member.user_id})
    assert member.tenant.request("POST", "/cron_triggers", json=body).status_code == 201
    # Two creations at once both pass the check made before the trust; the insert's check stops one.
    check = cron_triggers._check_not_a_copy
    checks = iter([lambda row: None])
    monkeypatch.setattr(cron_triggers, "_check_not_a_copy", lambda row: next(checks, check)(row))
    assert member.tenant.request("POST", "/cron_triggers", json=body).status_code == 409
    kept, duplicate = trusts_made
    assert (_keystone_trust(kept).status_code, _keystone_trust(duplicate).status_code) == (200, 404)


@pytest.fixture
def auth_off() -> Iterator[None]:
    """Authentication off for this test (this module's other server turns it on for the process)."""
    before = config.CONF.pecan.auth_enable
    config.CONF.set_override("auth_enable", False, group="pecan")
    yield
    config.CONF.set_override("auth_enable", before, group="pecan")


def test_without_authentication_triggers_get_no_trust(
    api: Server, auth_off: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_keystone(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("Keystone was asked for a trust with authentication off")

    monkeypatch.setattr(trusts, "create_trust", no_keystone)
    monkeypatch.setattr(trusts, "_access", no_keystone)
    action_service.sync_system_actions()
    text = WORKFLOW.replace("test.keystone_whoami user_id", "std.echo output")
    wf = api.request("POST", "/workflows", data=text, headers=TEXT)
    assert wf.status_code == 201, wf.text
    body = {
        "name": "plain",
        "workflow_name": "whoami",
        "workflow_input": '{"user_id": "u"}',
        "pattern": "0 3 * * *",
    }
    created = api.request("POST", "/cron_triggers", json=body)
    assert created.status_code == 201, created.text
    trigger = _internal(lambda: db_api.get_cron_trigger("plain"))
    assert trigger.trust_id is None
    due = trigger.next_execution_time
    assert cron.fire_due_triggers(due + datetime.timedelta(seconds=1)) == 1
    wf_ex = _wait_done(cron_triggers.execution_id(trigger.id, due))
    assert (wf_ex.state, wf_ex.project_id) == (states.SUCCESS, context.DEFAULT_PROJECT_ID)
    assert "auth_token" not in (wf_ex.runtime_context or {}).get("owner", {})
    assert api.request("DELETE", "/cron_triggers/plain").status_code == 204


@pytest.fixture
def notifications() -> Iterator[Any]:
    """An in-memory notification transport whose notifiers publish on the ``nova`` exchange."""
    conf = cfg.ConfigOpts()
    for group, opts in messaging_opts.list_opts():
        if group is None:
            conf.register_opts(opts)
    conf([], project="nova")
    conf.set_override("control_exchange", "nova")
    transport = oslo_messaging.get_notification_transport(conf, url="fake:")
    yield transport
    transport.cleanup()
