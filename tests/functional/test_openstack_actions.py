"""mistral-extra's OpenStack actions and workflows against the real Keystone, as its callers.

The API runs keystonemiddleware against Keystone (``tenants``); the workflows call
``keystone.*`` actions, which mistral-extra runs with the starter's token and
the service catalog the API took from keystonemiddleware. Keystone's own policy
then decides, so what a member may see proves whose token the action used.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from mistralclient.api import client as mistral_client

from mistral import context
from mistral.rpc import clients
from mistral.services import actions as action_service
from mistral.services import system_workflows
from tests.functional.tenancy import (
    IDENTITIES,
    KEYSTONE_PASSWORD,
    KEYSTONE_URL,
    KEYSTONE_WHOAMI,
    TEXT,
    Tenant,
    password_session,
)

Tenants = tuple[Tenant, Tenant, Tenant]

WORKFLOWS = (
    "version: '2.0'\n"
    + KEYSTONE_WHOAMI
    + """
whoami_nested:
  input:
    - user_id
  output:
    inner: <% $.inner %>
  tasks:
    call:
      workflow: whoami user_id=<% $.user_id %>
      publish:
        inner: <% task().result %>
all_projects:
  output:
    projects: <% $.projects %>
  tasks:
    list:
      action: keystone.projects_list
      publish:
        projects: <% task().result.name %>
"""
)


@pytest.fixture
def tenants_extra(openstack_actions: None, tenants: Tenants) -> Tenants:
    action_service.sync_system_actions()
    system_workflows.sync_system_workflows()
    return tenants


def user_id(tenant: Tenant) -> str:
    """The Keystone user id behind ``tenant``'s token."""
    headers = {"X-Auth-Token": tenant.token, "X-Subject-Token": tenant.token}
    resp = requests.get(f"{KEYSTONE_URL}/auth/tokens", headers=headers, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()["token"]["user"]["id"]


def run(tenant: Tenant, workflow: str, **wf_input: Any) -> dict[str, Any]:
    resp = tenant.start(workflow_name=workflow, input=wf_input)
    assert resp.status_code == 201, resp.text
    done = tenant.wait_done(resp.json()["id"], timeout=60)
    return {**done, "output": json.loads(done.get("output") or "{}")}


def create_workflows(tenant: Tenant) -> None:
    resp = tenant.request("POST", "/workflows", data=WORKFLOWS, headers=TEXT)
    assert resp.status_code == 201, resp.text


def test_a_member_sees_its_own_projects_and_itself_with_its_token(tenants_extra: Tenants) -> None:
    member = tenants_extra[0]
    create_workflows(member)
    done = run(member, "whoami", user_id=user_id(member))
    assert done["state"] == "SUCCESS", done.get("state_info")
    assert done["output"] == {"projects": ["mistral-a"], "user": member.username}
    # The token the actions ran with is kept for them only: no API answer shows it.
    for path in (f"/executions/{done['id']}", f"/executions/{done['id']}/tasks", "/action_executions"):
        answer = member.request("GET", path)
        assert answer.status_code == 200 and member.token not in answer.text, path
    # A sub-workflow calls OpenStack with its parent's starter's token too.
    other = tenants_extra[1]
    create_workflows(other)
    nested = run(other, "whoami_nested", user_id=user_id(other))
    assert nested["state"] == "SUCCESS", nested.get("state_info")
    assert nested["output"]["inner"] == {"projects": ["mistral-b"], "user": other.username}


def test_keystone_policy_applies_to_the_callers_token(tenants_extra: Tenants) -> None:
    member, _, admin = tenants_extra
    create_workflows(member)
    create_workflows(admin)
    # The cloud admin may list every project ...
    done = run(admin, "all_projects")
    assert done["state"] == "SUCCESS", done.get("state_info")
    assert {"admin", "mistral-a", "mistral-b"} <= set(done["output"]["projects"])
    # ... a member may not: the action used the member's token, not a service account's.
    failed = run(member, "all_projects")
    assert failed["state"] == "ERROR"
    assert "projects.list failed" in failed["state_info"]
    assert "403" in failed["state_info"] or "not authorized" in failed["state_info"].lower()


def test_results_are_client_resources_as_data_and_never_hold_the_token(tenants_extra: Tenants) -> None:
    member = tenants_extra[0]
    resp = member.request(
        "POST", "/action_executions", json={"name": "keystone.users_get", "input": {"user": user_id(member)}}
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["state"] == "SUCCESS", body
    assert '"name": "mistral-a-member"' in body["output"]
    assert member.token not in body["output"]


def test_the_real_client_lists_openstack_actions_and_preinstalled_workflows(tenants_extra: Tenants) -> None:
    member = tenants_extra[0]
    client = mistral_client.client(mistral_url=f"{member.url}/v2", auth_token=member.token)
    users_get = client.actions.get("keystone.users_get")
    assert (users_get.input, users_get.is_system) == ("user", True)
    assert users_get.description.startswith("Retrieve a user.")
    nova = client.actions.get("nova.servers_create")
    assert nova.input.startswith("name, image, flavor, meta=null") and 'action_region=""' in nova.input
    workflows = {w.name: w for w in client.workflows.list()}
    create_instance = workflows["create_instance"]
    assert (create_instance.scope, create_instance.namespace) == ("public", "")
    assert create_instance.project_id == "<default-project>"
    assert create_instance.input == "name, image, flavor, keypair, network"
    assert "delete_instance" in workflows


def _trust_scoped_token(trustor: Tenant) -> tuple[str, str, str]:
    """(trust id, trust-scoped token, trustor's user id): ``trustor`` trusts the service user (admin),
    with a token of its own that is then revoked, as a cron trigger's owner's token is long gone."""
    own = password_session(trustor.username, trustor.project)
    own_token = own.get_token()
    trustor_id = own.get_user_id()
    admin = IDENTITIES.admin
    body = {
        "trust": {
            "trustor_user_id": trustor_id,
            "trustee_user_id": admin.get_user_id(),
            "project_id": trustor.project_id,
            "impersonation": True,
            "roles": [{"name": "member"}],
        }
    }
    resp = requests.post(
        f"{KEYSTONE_URL}/OS-TRUST/trusts", json=body, headers={"X-Auth-Token": own_token}, timeout=10
    )
    assert resp.status_code == 201, resp.text
    trust_id = resp.json()["trust"]["id"]
    trustee = v3.Password(
        auth_url=KEYSTONE_URL,
        username="admin",
        password=KEYSTONE_PASSWORD,
        user_domain_id="default",
        trust_id=trust_id,
    )
    trust_token = ks_session.Session(auth=trustee).get_token()
    revoked = requests.delete(
        f"{KEYSTONE_URL}/auth/tokens",
        headers={"X-Auth-Token": admin.get_token(), "X-Subject-Token": own_token},
        timeout=10,
    )
    assert revoked.status_code == 204, revoked.text
    return trust_id, trust_token, trustor_id


def test_an_execution_started_through_a_trust_calls_openstack_as_the_trustor(tenants_extra: Tenants) -> None:
    """What a cron trigger's firing hands the engine: the owner's trust and a trust-scoped token."""
    member = tenants_extra[0]
    create_workflows(member)
    trust_id, trust_token, trustor_id = _trust_scoped_token(member)
    owner = context.Context(
        project_id=member.project_id,
        user_id=trustor_id,
        user_name=member.username,
        roles=("member",),
        trust_id=trust_id,
        is_trust_scoped=True,
        auth_token=trust_token,
    )
    with context.using(owner):
        started = clients.engine().start_workflow("whoami", wf_input={"user_id": trustor_id})
    done = member.wait_done(started["id"], timeout=60)
    assert done["state"] == "SUCCESS", done.get("state_info")
    # mistral-extra saw a trust-scoped token and took the catalog through [keystone_authtoken]'s user.
    assert json.loads(done["output"]) == {"projects": ["mistral-a"], "user": member.username}
