"""Several projects on one server with authentication on: isolation, sharing, admin views, policy."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from mistralclient.api import base as client_base
from mistralclient.api import client as mistral_client

from mistral import config
from mistral.api import policy
from tests.functional.conftest import MISTRAL_CLI
from tests.functional.tenancy import KEYSTONE_PASSWORD, KEYSTONE_URL, TEXT, WORKFLOW, Tenant


def test_no_credentials_is_401_with_server_error_message(auth_url: str, db: str) -> None:
    resp = requests.get(f"{auth_url}/v2/workflows", headers={"X-Project-Id": "proj-a"}, timeout=30)
    assert resp.status_code == 401
    assert resp.headers["Server-Error-Message"]


def test_private_objects_are_invisible_to_another_project(tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, b, _ = tenants
    wf = a.create_workflow("wf_a")
    env = {"name": "env_a", "variables": {"secret": 1}}
    assert a.request("POST", "/environments", json=env).status_code == 201
    ex = a.start(workflow_name="wf_a").json()
    a.wait_done(ex["id"])

    assert b.request("GET", f"/workflows/{wf['id']}").status_code == 404
    assert b.request("GET", "/workflows/wf_a").status_code == 404
    assert b.request("GET", "/environments/env_a").status_code == 404
    assert b.request("GET", f"/executions/{ex['id']}").status_code == 404
    assert "wf_a" not in b.names("workflows")
    assert b.names("environments") == []
    assert b.names("executions") == []
    assert b.start(workflow_name="wf_a").status_code == 404
    assert b.request("DELETE", "/workflows/wf_a").status_code == 404

    assert a.names("executions") == ["wf_a"]
    assert a.request("GET", "/environments/env_a").status_code == 200


def test_a_public_workflow_can_be_run_but_not_changed_by_another_project(
    tenants: tuple[Tenant, Tenant, Tenant],
) -> None:
    a, b, _ = tenants
    wf = a.project_admin().create_workflow("wf_pub", scope="public")
    assert "wf_pub" in b.names("workflows")

    resp = b.request("PUT", f"/workflows/{wf['id']}", data=WORKFLOW.format(name="wf_pub"), headers=TEXT)
    assert resp.status_code == 403, resp.text
    assert b.request("DELETE", f"/workflows/{wf['id']}").status_code == 403

    ex = b.start(workflow_id=wf["id"]).json()
    assert b.wait_done(ex["id"])["state"] == "SUCCESS"
    assert ex["project_id"] == b.project_id
    # The execution is B's: A sees its workflow used, not B's execution.
    assert a.request("GET", f"/executions/{ex['id']}").status_code == 404


def test_admin_sees_every_project_with_all_projects(tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, b, admin = tenants
    a.create_workflow("wf_a")
    b.create_workflow("wf_b")
    for tenant, name in ((a, "wf_a"), (b, "wf_b")):
        tenant.wait_done(tenant.start(workflow_name=name).json()["id"])

    assert admin.names("workflows", all_projects="true")[:2] == ["wf_a", "wf_b"]
    assert admin.names("executions", all_projects="true") == ["wf_a", "wf_b"]
    # Mistral 23 does not scope an admin's queries: the admin's plain list has every project too.
    assert admin.names("executions") == ["wf_a", "wf_b"]
    assert len(admin.request("GET", "/tasks", params={"all_projects": "true"}).json()["tasks"]) == 2

    for path in ("/workflows", "/executions", "/tasks", "/environments", "/action_executions"):
        resp = a.request("GET", path, params={"all_projects": "true"})
        assert resp.status_code == 403, path
        assert f"{path[1:]}:list:all_projects" in resp.json()["faultstring"]
    assert a.names("workflows") == ["wf_a"]


def test_sharing_a_private_workflow(tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, b, _ = tenants
    wf = a.create_workflow("wf_shared")
    members = f"/workflows/{wf['id']}/members"

    resp = a.request("POST", members, json={"member_id": b.project_id})
    assert resp.status_code == 201, resp.text
    assert resp.json()["status"] == "pending"
    assert "wf_shared" not in b.names("workflows")
    assert b.start(workflow_id=wf["id"]).status_code == 404

    resp = b.request("PUT", f"{members}/{b.project_id}", json={"status": "accepted"})
    assert resp.status_code == 200, resp.text
    assert "wf_shared" in b.names("workflows")
    ex = b.start(workflow_id=wf["id"]).json()
    assert b.wait_done(ex["id"])["state"] == "SUCCESS"
    # Shared is not owned: B runs it but cannot change it.
    assert b.request("DELETE", f"/workflows/{wf['id']}").status_code == 403

    assert b.request("PUT", f"{members}/{b.project_id}", json={"status": "rejected"}).status_code == 200
    assert "wf_shared" not in b.names("workflows")
    assert b.request("GET", f"/workflows/{wf['id']}").status_code == 404


def test_only_the_member_answers_a_share(tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, b, _ = tenants
    wf = a.create_workflow("wf_shared")
    members = f"/workflows/{wf['id']}/members"
    assert a.request("POST", members, json={"member_id": b.project_id}).status_code == 201
    assert a.request("PUT", f"{members}/{b.project_id}", json={"status": "accepted"}).status_code == 403
    assert b.request("POST", members, json={"member_id": "proj-c"}).status_code in (403, 404)


@pytest.fixture
def policy_file(auth_url: str, tmp_path: Any) -> Iterator[Any]:
    path = tmp_path / "policy.yaml"
    path.write_text('"workflows:delete": "role:admin"\n')
    policy.get_enforcer()  # registers the [oslo_policy] options
    config.CONF.set_override("policy_file", str(path), group="oslo_policy")
    policy.reset()
    yield path
    config.CONF.clear_override("policy_file", group="oslo_policy")
    policy.reset()


def test_policy_file_override(tenants: tuple[Tenant, Tenant, Tenant], policy_file: Any) -> None:
    a = tenants[0]
    wf = a.create_workflow("wf_a")
    resp = a.request("DELETE", f"/workflows/{wf['id']}")
    assert resp.status_code == 403
    assert "workflows:delete" in resp.json()["faultstring"]
    a_admin = Tenant(a.url, a.project, "admin")
    assert a_admin.request("DELETE", f"/workflows/{wf['id']}").status_code == 204


def test_python_client_as_two_projects(tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, b, _ = tenants

    def client_for(tenant: Tenant) -> Any:
        # NOTE: with no auth_url the client sends the token as X-Auth-Token; the X-Project-Id it
        # adds is dropped by keystonemiddleware, which sets the identity from the token.
        return mistral_client.client(
            mistral_url=f"{tenant.url}/v2", auth_token=tenant.token, project_id="proj-a", user_id="someone"
        )

    client_a, client_b = client_for(a), client_for(b)
    client_a.workflows.create(WORKFLOW.format(name="wf_client"))
    ex = client_a.executions.create("wf_client")
    a.wait_done(ex.id)
    client_a.environments.create(name="env_client", variables={"k": 1})

    assert [w.name for w in client_b.workflows.list() if w.name == "wf_client"] == []
    assert client_b.executions.list() == []
    assert client_b.environments.list() == []
    with pytest.raises(client_base.APIException) as error:
        client_b.executions.get(ex.id)
    assert error.value.error_code == 404
    with pytest.raises(client_base.APIException) as error:
        client_b.workflows.list(all_projects=True)
    assert error.value.error_code == 403
    assert "workflows:list:all_projects" in error.value.error_message
    assert [w.name for w in client_a.workflows.list() if w.name == "wf_client"] == ["wf_client"]


def test_python_client_logs_in_with_a_password(tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, b, _ = tenants

    def client_for(tenant: Tenant) -> Any:
        return mistral_client.client(
            mistral_url=f"{tenant.url}/v2",
            auth_url=KEYSTONE_URL,
            username=tenant.username,
            api_key=KEYSTONE_PASSWORD,
            project_name=tenant.project,
            user_domain_name="Default",
            project_domain_name="Default",
        )

    client_a, client_b = client_for(a), client_for(b)
    client_a.workflows.create(WORKFLOW.format(name="wf_login"))
    ex = client_a.executions.create("wf_login")
    assert ex.project_id == a.project_id
    assert a.wait_done(ex.id)["state"] == "SUCCESS"

    assert [w.name for w in client_b.workflows.list() if w.name == "wf_login"] == []
    assert client_b.executions.list() == []
    with pytest.raises(client_base.APIException) as error:
        client_b.executions.get(ex.id)
    assert error.value.error_code == 404
    assert [e.id for e in client_a.executions.list()] == [ex.id]


def test_cli_logs_in_from_os_variables(tenants: tuple[Tenant, Tenant, Tenant], tmp_path: Any) -> None:
    a, b, _ = tenants
    (tmp_path / "wf.yaml").write_text(WORKFLOW.format(name="wf_cli"))

    def mistral(tenant: Tenant, *args: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(
            OS_AUTH_URL=KEYSTONE_URL,
            OS_USERNAME=tenant.username,
            OS_PASSWORD=KEYSTONE_PASSWORD,
            OS_PROJECT_NAME=tenant.project,
            OS_MISTRAL_URL=f"{tenant.url}/v2",
        )
        return subprocess.run(
            [MISTRAL_CLI, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
        )

    created = mistral(a, "workflow-create", "wf.yaml", "-f", "json")
    assert created.returncode == 0, created.stderr
    started = mistral(a, "execution-create", "wf_cli", "-f", "json")
    assert started.returncode == 0, started.stderr
    ex = json.loads(started.stdout)
    assert a.wait_done(ex["ID"])["project_id"] == a.project_id

    def ids(listed: subprocess.CompletedProcess) -> list[str]:
        # NOTE: for an empty list the client prints one row of empty cells.
        return [row["ID"] for row in json.loads(listed.stdout) if row["ID"]]

    assert ids(mistral(a, "execution-list", "-f", "json")) == [ex["ID"]]
    assert ids(mistral(b, "execution-list", "-f", "json")) == []
    hidden = mistral(b, "execution-get", ex["ID"])
    assert hidden.returncode != 0
    assert ex["ID"] in hidden.stderr
