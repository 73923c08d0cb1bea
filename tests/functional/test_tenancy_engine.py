"""Every lookup the engine makes for an execution is made as its owner (architecture rule 8).

Two projects on one server with authentication on: what project B keeps private is never
found, run or read by project A's workflows, direct action runs or expressions, unless B
made it public or shared it; A's own object wins over a public one of the same name.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from mistralclient.api import base as client_base
from mistralclient.api import client as mistral_client

from tests.functional.tenancy import TEXT, WORKFLOW, Tenant

Tenants = tuple[Tenant, Tenant, Tenant]

WORKFLOW_TEXT = WORKFLOW.format(name="plain")

SECRET_ACTION = """
version: '2.0'
{name}:
  base: std.echo
  base-input:
    output: "{said}"
"""


def _action(tenant: Tenant, name: str, said: str, scope: str = "private") -> dict[str, Any]:
    text = SECRET_ACTION.format(name=name, said=said)
    resp = tenant.request("POST", f"/actions?scope={scope}", data=text, headers=TEXT)
    assert resp.status_code == 201, resp.text
    return resp.json()["actions"][0]


def _workflow(tenant: Tenant, text: str, scope: str = "private") -> dict[str, Any]:
    resp = tenant.request("POST", f"/workflows?scope={scope}", data=text, headers=TEXT)
    assert resp.status_code == 201, resp.text
    return resp.json()["workflows"][0]


def _run(tenant: Tenant, name: str, **body: Any) -> dict[str, Any]:
    resp = tenant.start(workflow_name=name, **body)
    assert resp.status_code == 201, resp.text
    ex = tenant.wait_done(resp.json()["id"])
    for key in ("output", "params", "input"):
        if isinstance(ex.get(key), str):
            ex[key] = json.loads(ex[key])
    return ex


def _tasks(tenant: Tenant, ex_id: str) -> list[dict[str, Any]]:
    resp = tenant.request("GET", f"/executions/{ex_id}/tasks")
    assert resp.status_code == 200, resp.text
    return resp.json()["tasks"]


def _calls(action: str) -> str:
    return f"""
version: '2.0'
calls_{action}:
  tasks:
    call:
      action: {action}
      publish:
        got: <% task().result %>
"""


def _calls_workflow(name: str, wf: str) -> str:
    return f"""
version: '2.0'
{name}:
  tasks:
    call:
      workflow: {wf}
"""


def _run_direct(tenant: Tenant, name: str, **body: Any) -> Any:
    return tenant.request("POST", "/action_executions", json={"name": name, **body})


# -- ad-hoc actions ---------------------------------------------------------------


def test_a_workflow_never_runs_another_projects_private_action(tenants: Tenants) -> None:
    a, b, _ = tenants
    _action(b, "b_secret", "B's credentials")
    _workflow(a, _calls("b_secret"))

    ex = _run(a, "calls_b_secret")

    assert ex["state"] == "ERROR", ex
    (task,) = _tasks(a, ex["id"])
    assert task["state"] == "ERROR"
    assert "Action not found [b_secret]" in task["state_info"]
    assert "B's credentials" not in str(_tasks(a, ex["id"])) + str(ex)


def test_own_action_wins_over_another_projects_and_public(tenants: Tenants) -> None:
    a, b, _ = tenants
    _action(b, "same_name", "from B, private")
    _action(b.project_admin(), "pub_name", "from B, public", scope="public")
    _action(b.project_admin(), "only_public", "from B, public", scope="public")
    _action(a, "same_name", "from A")
    _action(a, "pub_name", "from A, own")
    for name in ("same_name", "pub_name", "only_public"):
        _workflow(a, _calls(name))
    _workflow(b, _calls("same_name"))

    # B runs first, so the action of that name is resolved (and cached) for B before A asks.
    assert _run(b, "calls_same_name")["output"]["got"] == "from B, private"
    assert _run(a, "calls_same_name")["output"]["got"] == "from A"
    assert _run(a, "calls_pub_name")["output"]["got"] == "from A, own"
    assert _run(a, "calls_only_public")["output"]["got"] == "from B, public"


def test_a_direct_run_never_resolves_to_another_projects_cached_action(tenants: Tenants) -> None:
    a, b, _ = tenants
    _action(b, "creds", "B's password")

    # B's run puts B's "creds" into the ad-hoc action cache.
    run_b = _run_direct(b, "creds")
    assert run_b.status_code == 201, run_b.text
    assert run_b.json()["output"] == '{"result": "B\'s password"}'

    run_a = _run_direct(a, "creds")
    assert run_a.status_code == 404, run_a.text
    assert run_a.json()["faultstring"] == "Action not found [creds]"

    saved = _run_direct(a, "creds", params='{"save_result": true}')
    assert saved.status_code == 404, saved.text
    listed = a.request("GET", "/action_executions").json()["action_executions"]
    assert "B's password" not in str(listed)

    # Both have one: each gets its own, though B's was resolved (and cached) first.
    _action(b, "both", "B's")
    _action(a, "both", "A's")
    assert _run_direct(b, "both").json()["output"] == '{"result": "B\'s"}'
    assert _run_direct(a, "both").json()["output"] == '{"result": "A\'s"}'


# -- sub-workflows ----------------------------------------------------------------


def test_another_projects_private_workflow_is_no_subworkflow(tenants: Tenants) -> None:
    a, b, _ = tenants
    b_wf = b.create_workflow("b_private")
    _workflow(a, _calls_workflow("by_name", "b_private"))
    _workflow(a, _calls_workflow("by_id", b_wf["id"]))

    for name, key in (("by_name", "b_private"), ("by_id", b_wf["id"])):
        ex = _run(a, name)
        assert ex["state"] == "ERROR", ex
        (task,) = _tasks(a, ex["id"])
        assert f"Workflow not found [{key}" in task["state_info"], task
    assert b.names("executions") == []
    assert a.names("executions") == ["by_id", "by_name"]


def test_public_and_accepted_shared_workflows_run_as_subworkflows_of_the_caller(tenants: Tenants) -> None:
    a, b, admin = tenants
    public = b.project_admin().create_workflow("b_public", scope="public")
    shared = b.create_workflow("b_shared")
    members = f"/workflows/{shared['id']}/members"
    assert b.request("POST", members, json={"member_id": a.project_id}).status_code == 201
    _workflow(a, _calls_workflow("via_public", "b_public"))
    _workflow(a, _calls_workflow("via_shared", shared["id"]))

    assert _run(a, "via_shared")["state"] == "ERROR"  # offered, not yet accepted

    assert a.request("PUT", f"{members}/{a.project_id}", json={"status": "accepted"}).status_code == 200
    for name, wf in (("via_public", public), ("via_shared", shared)):
        ex = _run(a, name)
        assert ex["state"] == "SUCCESS", ex
        (task,) = _tasks(a, ex["id"])
        children = a.request("GET", f"/tasks/{task['id']}/workflow_executions").json()["executions"]
        assert [(c["workflow_id"], c["project_id"]) for c in children] == [(wf["id"], a.project_id)]
    assert b.names("executions") == []
    everything = admin.request("GET", "/executions", params={"all_projects": "true"}).json()["executions"]
    assert {e["project_id"] for e in everything} == {a.project_id}

    # A's own workflow of a public one's name wins, started directly or as a sub-workflow.
    own = a.create_workflow("b_public")
    assert a.start(workflow_name="b_public").json()["workflow_id"] == own["id"]
    (task,) = _tasks(a, _run(a, "via_public")["id"])
    children = a.request("GET", f"/tasks/{task['id']}/workflow_executions").json()["executions"]
    assert [c["workflow_id"] for c in children] == [own["id"]]


# -- expression functions -----------------------------------------------------------

LOOKS_AROUND = """
version: '2.0'
looks_around:
  input:
    - other_ex_id
  tasks:
    look:
      action: std.noop
      publish:
        all_ids: <% executions().select($.id) %>
        by_id: <% executions(id => $.other_ex_id) %>
        other_tasks: <% tasks($.other_ex_id) %>
        other_tasks_deep: <% tasks($.other_ex_id, true) %>
        jinja_ids: "{{ executions() | map(attribute='id') | list }}"
"""


def test_expression_functions_see_only_the_owners_executions(tenants: Tenants) -> None:
    a, b, _ = tenants
    b.create_workflow("b_wf")
    b_ex = _run(b, "b_wf", input={})
    _workflow(a, LOOKS_AROUND)

    ex = _run(a, "looks_around", input={"other_ex_id": b_ex["id"]})

    assert ex["state"] == "SUCCESS", ex
    out = ex["output"]
    assert out["all_ids"] == [ex["id"]]
    assert out["jinja_ids"] == [ex["id"]]
    assert out["by_id"] == []
    assert out["other_tasks"] == []
    assert out["other_tasks_deep"] == []
    # B still sees its own through the same functions.
    _workflow(b, LOOKS_AROUND)
    ex_b = _run(b, "looks_around", input={"other_ex_id": b_ex["id"]})
    assert [t["name"] for t in ex_b["output"]["other_tasks"]] == ["hello"]
    assert sorted(ex_b["output"]["all_ids"]) == sorted([b_ex["id"], ex_b["id"]])


# -- list markers -------------------------------------------------------------------


def test_another_projects_row_is_no_list_marker(tenants: Tenants) -> None:
    a, b, admin = tenants
    b_wf = b.create_workflow("b_wf")
    a.create_workflow("a_wf")
    b_ex = _run(b, "b_wf")
    (b_task,) = _tasks(b, b_ex["id"])
    markers = {
        "workflows": b_wf["id"],
        "executions": b_ex["id"],
        "tasks": b_task["id"],
    }
    for plural, marker in markers.items():
        resp = a.request("GET", f"/{plural}", params={"marker": marker})
        assert resp.status_code == 404, (plural, resp.text)
        assert marker in resp.json()["faultstring"]
        # The owner, and an admin looking at every project, may page from it.
        assert b.request("GET", f"/{plural}", params={"marker": marker}).status_code == 200
        resp = admin.request("GET", f"/{plural}", params={"marker": marker, "all_projects": "true"})
        assert resp.status_code == 200, resp.text


# -- through python-mistralclient ------------------------------------------------------


def _client(tenant: Tenant) -> Any:
    # NOTE: with no auth_url the client sends the token as X-Auth-Token; the project it names
    # is dropped by the auth middleware, as keystonemiddleware would.
    v2 = tenant.request("GET", "/workflows", params={"limit": "1"}).url.split("/workflows")[0]
    return mistral_client.client(mistral_url=v2, auth_token=tenant.token)


def test_the_python_client_of_a_never_reaches_bs_action_or_pages_from_bs_rows(tenants: Tenants) -> None:
    a, b, _ = tenants
    client_a, client_b = _client(a), _client(b)
    client_b.actions.create(SECRET_ACTION.format(name="vault", said="B's token"))
    b_ran = client_b.action_executions.create("vault")  # resolved for B, and cached
    assert json.loads(b_ran.output) == {"result": "B's token"}
    client_b.workflows.create(WORKFLOW_TEXT)
    b_ex = client_b.executions.create("plain")
    b.wait_done(b_ex.id)

    with pytest.raises(client_base.APIException) as error:
        client_a.action_executions.create("vault")
    assert (error.value.error_code, error.value.error_message) == (404, "Action not found [vault]")
    with pytest.raises(client_base.APIException) as error:
        client_a.executions.list(marker=b_ex.id)
    assert error.value.error_code == 404
    assert b_ex.id in error.value.error_message
    assert [e.id for e in client_b.executions.list(marker=b_ex.id)] == []
