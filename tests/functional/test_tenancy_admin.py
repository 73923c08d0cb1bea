"""What an admin may do across projects, and who may publish, with Mistral 23's default policies.

Facts from OpenStack Mistral 23.0.0: its database layer does not scope an admin's queries (an
admin reads, changes and deletes any project's rows by id or name and lists every project's
rows); ``?project_id=`` filters a list to that project; ``executions:list:all_projects`` guards
both ``all_projects`` and ``project_id`` on the executions list; ``<resource>:publicize`` (creating
or updating with ``scope: public``) is ``admin_only``. Non-admins stay confined (the isolation
matrix in test_tenancy_matrix.py).
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any

import pytest
from mistralclient.api import base as client_base
from mistralclient.api import client as mistral_client

from mistral import config
from mistral.api import policy
from tests.functional.tenancy import PROJECT_A, TEXT, WORKFLOW, Tenant

Tenants = tuple[Tenant, Tenant, Tenant]

WAITS = """
version: '2.0'
a_waits:
  tasks:
    wait:
      action: std.async_noop
"""


def _client(tenant: Tenant) -> Any:
    return mistral_client.client(mistral_url=f"{tenant.url}/v2", auth_token=tenant.token)


def _running_execution(a: Tenant) -> dict[str, Any]:
    assert a.request("POST", "/workflows", data=WAITS, headers=TEXT).status_code == 201
    resp = a.start(workflow_name="a_waits")
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_admin_changes_and_deletes_another_projects_execution_by_id(tenants: Tenants) -> None:
    a, _, admin = tenants
    ex = _running_execution(a)

    resp = admin.request("GET", f"/executions/{ex['id']}")
    assert resp.status_code == 200, resp.text
    assert resp.json()["project_id"] == a.project_id
    resp = admin.request("PUT", f"/executions/{ex['id']}", json={"description": "set by admin"})
    assert resp.status_code == 200, resp.text
    assert a.request("GET", f"/executions/{ex['id']}").json()["description"] == "set by admin"
    # The real client, as an operator uses it.
    client = _client(admin)
    assert client.executions.update(ex["id"], None, description="again").description == "again"
    assert [t.workflow_execution_id for t in client.tasks.list(ex["id"])] == [ex["id"]]

    resp = admin.request("PUT", f"/executions/{ex['id']}", json={"state": "PAUSED"})
    assert resp.status_code == 200, resp.text
    assert a.request("GET", f"/executions/{ex['id']}").json()["state"] == "PAUSED"

    client.executions.delete(ex["id"], force=True)
    assert a.request("GET", f"/executions/{ex['id']}").status_code == 404


def test_admin_lists_one_other_project_by_project_id(tenants: Tenants) -> None:
    a, b, admin = tenants
    a.create_workflow("wf_a")
    b.create_workflow("wf_b")
    a.wait_done(a.start(workflow_name="wf_a").json()["id"])

    assert admin.names("workflows", project_id=a.project_id) == ["wf_a"]
    assert admin.names("executions", project_id=a.project_id) == ["wf_a"]
    assert admin.names("executions", project_id=b.project_id) == []
    assert "wf_a" in admin.names("workflows", all_projects="true")
    assert [w.name for w in _client(admin).workflows.list(project_id=a.project_id)] == ["wf_a"]

    # A member naming another project gets nothing of it: an empty list, or for executions the
    # all_projects rule, which Mistral checks for project_id too.
    assert b.names("workflows", project_id=a.project_id) == []
    resp = b.request("GET", "/executions", params={"project_id": a.project_id})
    assert resp.status_code == 403, resp.text
    assert "executions:list:all_projects" in resp.json()["faultstring"]


def test_admin_sees_every_projects_rows_by_id_name_and_list(tenants: Tenants) -> None:
    a, _, admin = tenants
    wf = a.create_workflow("wf_a")
    assert a.request("POST", "/environments", json={"name": "env_a", "variables": {}}).status_code == 201
    ex = a.wait_done(a.start(workflow_name="wf_a").json()["id"])

    assert admin.request("GET", f"/workflows/{wf['id']}").status_code == 200
    assert admin.request("GET", "/workflows/wf_a").status_code == 200
    assert admin.request("GET", "/environments/env_a").status_code == 200
    assert "wf_a" in admin.names("workflows")
    assert admin.names("executions") == ["wf_a"]
    assert [t["workflow_execution_id"] for t in admin.request("GET", "/tasks").json()["tasks"]] == [ex["id"]]
    # The admin's own object of a name comes before another project's.
    mine = admin.create_workflow("wf_a")
    assert admin.request("GET", "/workflows/wf_a").json()["id"] == mine["id"]
    assert a.request("GET", "/workflows/wf_a").json()["id"] == wf["id"]


PUBLIC = [
    ("workflows", "POST", "/workflows?scope=public", {"data": WORKFLOW.format(name="pub"), "headers": TEXT}),
    ("workbooks", "POST", "/workbooks?scope=public",
     {"data": "version: '2.0'\nname: pub_book\nworkflows:\n  w:\n    tasks:\n      t: {action: std.noop}\n",
      "headers": TEXT}),
    ("actions", "POST", "/actions?scope=public",
     {"data": "version: '2.0'\npub_action:\n  base: std.noop\n", "headers": TEXT}),
    ("environments", "POST", "/environments",
     {"json": {"name": "pub_env", "variables": {}, "scope": "public"}}),
]  # fmt: skip


@pytest.mark.parametrize(("resource", "method", "path", "kwargs"), PUBLIC, ids=[p[0] for p in PUBLIC])
def test_only_an_admin_publishes(
    tenants: Tenants, resource: str, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    a, b, _ = tenants
    resp = a.request(method, path, **kwargs)
    assert resp.status_code == 403, resp.text
    assert f"{resource}:publicize" in resp.json()["faultstring"]
    a_admin = Tenant(a.url, PROJECT_A, "admin")
    resp = a_admin.request(method, path, **kwargs)
    assert resp.status_code == 201, resp.text
    assert resp.json().get("scope", "public") == "public"
    # Published by A's admin, owned by A, seen by B.
    assert {"pub", "pub_book", "pub_action", "pub_env"} & set(b.names(resource))


def test_only_an_admin_publishes_triggers(tenants: Tenants) -> None:
    a, _, _ = tenants
    wf = a.create_workflow("wf_a")
    cron = {"name": "pub_cron", "workflow_id": wf["id"], "pattern": "0 0 1 1 *", "scope": "public"}
    event = {
        "name": "pub_event", "workflow_id": wf["id"], "exchange": "nova", "topic": "notifications",
        "event": "compute.instance.create.end", "scope": "public",
    }  # fmt: skip
    for plural, body in (("cron_triggers", cron), ("event_triggers", event)):
        resp = a.request("POST", f"/{plural}", json=body)
        assert resp.status_code == 403, resp.text
        assert f"{plural}:publicize" in resp.json()["faultstring"]
        assert a.request("POST", f"/{plural}", json={**body, "scope": "private"}).status_code == 201


def test_the_real_client_is_refused_a_public_workflow(tenants: Tenants) -> None:
    a, _, _ = tenants
    with pytest.raises(client_base.APIException) as error:
        _client(a).workflows.create(WORKFLOW.format(name="pub"), scope="public")
    assert error.value.error_code == 403
    assert "workflows:publicize" in error.value.error_message
    assert a.names("workflows").count("pub") == 0


@pytest.fixture
def members_publish(auth_url: str, tmp_path: pathlib.Path) -> Iterator[None]:
    """A policy file giving members back ``workflows:publicize``."""
    path = tmp_path / "policy.yaml"
    path.write_text('"workflows:publicize": "rule:admin_or_owner"\n')
    policy.get_enforcer()  # registers the [oslo_policy] options
    config.CONF.set_override("policy_file", str(path), group="oslo_policy")
    policy.reset()
    yield
    config.CONF.clear_override("policy_file", group="oslo_policy")
    policy.reset()


@pytest.mark.usefixtures("members_publish")
def test_a_policy_file_lets_members_publish(tenants: Tenants) -> None:
    a, b, _ = tenants
    assert a.create_workflow("pub", scope="public")["scope"] == "public"
    assert "pub" in b.names("workflows")
    resp = a.request("POST", "/environments", json={"name": "env", "variables": {}, "scope": "public"})
    assert resp.status_code == 403, resp.text


def test_admin_changes_and_deletes_another_projects_definitions(tenants: Tenants) -> None:
    _, b, admin = tenants
    wf = b.create_workflow("wf_b")
    env = {"name": "env_b", "variables": {"k": 1}}
    assert b.request("POST", "/environments", json=env).status_code == 201
    cron = {"name": "cron_b", "workflow_id": wf["id"], "pattern": "0 0 1 1 *"}
    assert b.request("POST", "/cron_triggers", json=cron).status_code == 201

    resp = admin.request("PUT", "/environments", json={"name": "env_b", "variables": {"k": 2}})
    assert resp.status_code == 200, resp.text
    assert b.request("GET", "/environments/env_b").json()["variables"] == '{"k": 2}'
    resp = admin.request("PUT", f"/workflows/{wf['id']}", data=WORKFLOW.format(name="wf_b"), headers=TEXT)
    assert resp.status_code == 200, resp.text
    assert resp.json()["project_id"] == b.project_id

    for path in ("/cron_triggers/cron_b", "/environments/env_b", f"/workflows/{wf['id']}"):
        resp = admin.request("DELETE", path)
        assert resp.status_code == 204, (path, resp.text)
        assert b.request("GET", path).status_code == 404, path
