"""The two-project isolation matrix over every endpoint the API serves.

Project B owns one of everything; project A tries to read, change, delete and use each
through every route (by id and by name), and to page from it as a list marker: each is
"not found" to A, and missing from A's lists. The admin sees all of it, as in Mistral 23
(test_tenancy_admin.py). What B makes public or shares, A may read and start, never change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests.functional.tenancy import TEXT, WORKFLOW, Tenant
from tests.polling import wait_for

Tenants = tuple[Tenant, Tenant, Tenant]

WORKBOOK = """
version: '2.0'
name: b_book
workflows:
  inner:
    tasks:
      t:
        action: std.noop
"""

ACTION = """
version: '2.0'
b_action:
  base: std.echo
  base-input:
    output: B's secret
"""

ASYNC_WORKFLOW = """
version: '2.0'
b_waits:
  tasks:
    wait:
      action: std.async_noop
"""


@dataclass
class World:
    """Everything B owns, by kind: ids and names."""

    ids: dict[str, str]


def _created(resp: Any) -> Any:
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


def _wait_task_running(tenant: Tenant, ex_id: str) -> dict[str, Any]:
    def started() -> dict[str, Any] | None:
        tasks = tenant.request("GET", f"/executions/{ex_id}/tasks").json()["tasks"]
        actions = tenant.request("GET", "/action_executions").json()["action_executions"]
        return {"task": tasks[0], "action": actions[0]} if tasks and actions else None

    return wait_for("B's task to start", started, 10)


@pytest.fixture
def world(tenants: Tenants) -> World:
    _, b, admin = tenants
    ids: dict[str, str] = {}
    wf = b.create_workflow("b_wf")
    ids["workflow"] = wf["id"]
    ids["workbook"] = "b_book"
    _created(b.request("POST", "/workbooks", data=WORKBOOK, headers=TEXT))
    ids["action"] = _created(b.request("POST", "/actions", data=ACTION, headers=TEXT))["actions"][0]["id"]
    _created(b.request("POST", "/environments", json={"name": "b_env", "variables": {"password": "B's"}}))
    ids["environment"] = "b_env"
    _created(b.request("POST", "/workflows", data=ASYNC_WORKFLOW, headers=TEXT))
    ex = _created(b.start(workflow_name="b_waits", params={"env": "b_env"}))
    ids["execution"] = ex["id"]
    running = _wait_task_running(b, ex["id"])
    ids["task"], ids["action_execution"] = running["task"]["id"], running["action"]["id"]
    cron = {"name": "b_cron", "workflow_id": wf["id"], "pattern": "0 0 1 1 *"}
    ids["cron_trigger"] = _created(b.request("POST", "/cron_triggers", json=cron))["id"]
    event = {
        "name": "b_event",
        "workflow_id": wf["id"],
        "exchange": "nova",
        "topic": "notifications",
        "event": "compute.instance.create.end",
    }
    ids["event_trigger"] = _created(b.request("POST", "/event_triggers", json=event))["id"]
    # B offers its workflow to the admin's project: the share itself is B's row too.
    _created(b.request("POST", f"/workflows/{wf['id']}/members", json={"member_id": admin.project_id}))
    return World(ids)


def _routes(w: World, a_project: str, admin_project: str) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    """(method, path, request kwargs) that each touch one of B's rows; all must be 404 for A."""
    i = w.ids
    wf, ex, task, act = i["workflow"], i["execution"], i["task"], i["action_execution"]
    members = f"/workflows/{wf}/members"
    return {
        "workflows": [
            ("GET", f"/workflows/{wf}", {}),
            ("GET", "/workflows/b_wf", {}),
            ("PUT", f"/workflows/{wf}", {"data": WORKFLOW.format(name="b_wf"), "headers": TEXT}),
            ("PUT", "/workflows", {"data": WORKFLOW.format(name="b_wf"), "headers": TEXT}),
            ("DELETE", f"/workflows/{wf}", {}),
            ("DELETE", "/workflows/b_wf", {}),
            ("POST", "/executions", {"json": {"workflow_id": wf}}),
            ("POST", "/executions", {"json": {"workflow_name": "b_wf"}}),
            ("POST", "/cron_triggers", {"json": {"name": "mine", "workflow_id": wf, "pattern": "0 0 1 1 *"}}),
            (
                "POST",
                "/event_triggers",
                {"json": {"name": "mine", "workflow_id": wf, "exchange": "x", "topic": "t", "event": "e"}},
            ),  # fmt: skip
        ],
        "workbooks": [
            ("GET", "/workbooks/b_book", {}),
            ("PUT", "/workbooks", {"data": WORKBOOK, "headers": TEXT}),
            ("DELETE", "/workbooks/b_book", {}),
            ("GET", "/workflows/b_book.inner", {}),
        ],
        "actions": [
            ("GET", f"/actions/{i['action']}", {}),
            ("GET", "/actions/b_action", {}),
            ("PUT", f"/actions/{i['action']}", {"data": ACTION, "headers": TEXT}),
            ("PUT", "/actions", {"data": ACTION, "headers": TEXT}),
            ("DELETE", "/actions/b_action", {}),
            ("DELETE", f"/actions/{i['action']}", {}),
            ("POST", "/action_executions", {"json": {"name": "b_action"}}),
        ],
        "environments": [
            ("GET", "/environments/b_env", {}),
            ("PUT", "/environments", {"json": {"name": "b_env", "variables": {"password": "A's"}}}),
            ("DELETE", "/environments/b_env", {}),
        ],
        "executions": [
            ("GET", f"/executions/{ex}", {}),
            ("PUT", f"/executions/{ex}", {"json": {"state": "PAUSED"}}),
            ("PUT", f"/executions/{ex}", {"json": {"state": "CANCELLED"}}),
            ("PUT", f"/executions/{ex}", {"json": {"description": "mine now"}}),
            ("PUT", f"/executions/{ex}", {"json": {"params": {"env": {"x": 1}}}}),
            ("DELETE", f"/executions/{ex}", {"params": {"force": "true"}}),
            ("GET", f"/executions/{ex}/tasks", {}),
            ("GET", f"/executions/{ex}/executions", {}),
            ("GET", f"/executions/{ex}/report", {}),
            ("GET", f"/executions/{ex}/waits", {}),
            ("GET", f"/executions/{ex}/spec", {}),
            ("POST", "/executions", {"json": {"source_execution_id": ex}}),
        ],
        "tasks": [
            ("GET", f"/tasks/{task}", {}),
            ("PUT", f"/tasks/{task}", {"json": {"state": "RUNNING", "reset": True}}),
            ("PUT", f"/tasks/{task}", {"json": {"state": "SKIPPED"}}),
            ("GET", f"/tasks/{task}/action_executions", {}),
            ("GET", f"/tasks/{task}/action_executions/{act}", {}),
            ("GET", f"/tasks/{task}/workflow_executions", {}),
            ("GET", f"/tasks/{task}/executions", {}),
        ],
        "action_executions": [
            ("GET", f"/action_executions/{act}", {}),
            (
                "PUT",
                f"/action_executions/{act}",
                {"json": {"state": "SUCCESS", "output": {"by": "A was here"}}},
            ),
            ("PUT", f"/action_executions/{act}", {"json": {"state": "CANCELLED"}}),
            ("DELETE", f"/action_executions/{act}", {}),
        ],
        "cron_triggers": [
            ("GET", f"/cron_triggers/{i['cron_trigger']}", {}),
            ("GET", "/cron_triggers/b_cron", {}),
            ("DELETE", "/cron_triggers/b_cron", {}),
            ("DELETE", f"/cron_triggers/{i['cron_trigger']}", {}),
        ],
        "event_triggers": [
            ("GET", f"/event_triggers/{i['event_trigger']}", {}),
            ("PUT", f"/event_triggers/{i['event_trigger']}", {"json": {"name": "mine"}}),
            ("DELETE", f"/event_triggers/{i['event_trigger']}", {}),
        ],
        "members": [
            ("GET", members, {}),
            ("GET", f"{members}/{admin_project}", {}),
            ("POST", members, {"json": {"member_id": "anyone"}}),
            # A accepting, for itself, a share B never offered it.
            ("PUT", f"{members}/{a_project}", {"json": {"status": "accepted"}}),
            ("POST", f"{members}", {"json": {"member_id": a_project}}),
            ("DELETE", f"{members}/{admin_project}", {}),
        ],
    }


KINDS = [
    "workflows", "workbooks", "actions", "environments", "executions", "tasks", "action_executions",
    "cron_triggers", "event_triggers", "members",
]  # fmt: skip


#: Lists below one object answer an empty list for another project's object, as Mistral does:
#: the same answer as for an id that does not exist, so they tell nothing either.
SUB_LISTS = ("/tasks", "/executions", "/action_executions", "/workflow_executions", "/members")


def _not_found(method: str, path: str, resp: Any) -> bool:
    body = resp.json() if resp.content else {}
    if method == "GET" and path.endswith(SUB_LISTS) and resp.status_code == 200:
        return list(body.values()) == [[]]
    return resp.status_code == 404 and "faultstring" in body


@pytest.fixture
def deletable(override_conf: Any) -> None:
    override_conf("api", "allow_action_execution_deletion", True)


@pytest.mark.usefixtures("deletable")
@pytest.mark.parametrize("kind", KINDS)
def test_another_projects_rows_are_not_found(tenants: Tenants, world: World, kind: str) -> None:
    a, b, admin = tenants
    wrong = []
    for method, path, kwargs in _routes(world, a.project_id, admin.project_id)[kind]:
        resp = a.request(method, path, **kwargs)
        if not _not_found(method, path, resp):
            wrong.append(f"{method} {path} -> {resp.status_code} {resp.text[:200]}")
    assert not wrong, "\n".join(wrong)
    # Nothing A tried changed anything of B's.
    assert b.request("GET", f"/executions/{world.ids['execution']}").json()["state"] == "RUNNING"
    assert b.names("workflows").count("b_wf") == 1
    assert b.request("GET", "/environments/b_env").json()["variables"] == json.dumps({"password": "B's"})


LISTS = {
    "workflows": "workflow", "workbooks": "workbook", "actions": "action", "environments": "environment",
    "executions": "execution", "tasks": "task", "action_executions": "action_execution",
    "cron_triggers": "cron_trigger", "event_triggers": "event_trigger",
}  # fmt: skip


def _ids(tenant: Tenant, plural: str, **params: str) -> set[str]:
    resp = tenant.request("GET", f"/{plural}", params=params)
    assert resp.status_code == 200, resp.text
    return {row.get("id") for row in resp.json()[plural]} | {row.get("name") for row in resp.json()[plural]}


def test_lists_and_markers_show_a_nothing_of_b_and_the_admin_everything(
    tenants: Tenants, world: World
) -> None:
    a, b, admin = tenants
    for plural, kind in LISTS.items():
        key = world.ids[kind]
        assert key not in _ids(a, plural), plural
        assert key in _ids(b, plural), plural
        assert key in _ids(admin, plural), plural
        assert key in _ids(admin, plural, all_projects="true"), plural
        marker = key if kind not in ("workbook", "environment") else _marker_id(b, plural, key)
        resp = a.request("GET", f"/{plural}", params={"marker": marker})
        assert resp.status_code == 404, (plural, resp.text)
        assert marker in resp.json()["faultstring"]
        assert b.request("GET", f"/{plural}", params={"marker": marker}).status_code == 200
        for params in ({"marker": marker}, {"marker": marker, "all_projects": "true"}):
            resp = admin.request("GET", f"/{plural}", params=params)
            assert resp.status_code == 200, (plural, resp.text)
    # A filter on B's project is no way around the scope.
    assert a.request("GET", "/workflows", params={"project_id": b.project_id}).json()["workflows"] == []


def _marker_id(tenant: Tenant, plural: str, name: str) -> str:
    rows = tenant.request("GET", f"/{plural}").json()[plural]
    return next(r["id"] for r in rows if r["name"] == name)


def test_an_environment_is_found_only_in_the_own_project(tenants: Tenants) -> None:
    a, b, _ = tenants
    assert (
        b.request("POST", "/environments", json={"name": "env", "variables": {"who": "B"}}).status_code == 201
    )
    a.create_workflow("wf_a")

    resp = a.start(workflow_name="wf_a", params={"env": "env"})
    assert resp.status_code == 400, resp.text
    assert resp.json()["faultstring"] == "Environment is not found: env"

    assert (
        a.request("POST", "/environments", json={"name": "env", "variables": {"who": "A"}}).status_code == 201
    )
    ex = a.wait_done(a.start(workflow_name="wf_a", params={"env": "env"}).json()["id"])
    assert json.loads(ex["params"])["env"] == {"who": "A"}


def test_a_public_workflow_is_readable_and_startable_never_changeable(tenants: Tenants) -> None:
    a, b, _ = tenants
    wf = b.project_admin().create_workflow("b_pub", scope="public")
    assert a.request("GET", f"/workflows/{wf['id']}").status_code == 200
    assert a.request("GET", "/workflows/b_pub").status_code == 200
    for method, path, kwargs in (
        ("PUT", f"/workflows/{wf['id']}", {"data": WORKFLOW.format(name="b_pub"), "headers": TEXT}),
        ("DELETE", f"/workflows/{wf['id']}", {}),
        ("POST", f"/workflows/{wf['id']}/members", {"json": {"member_id": a.project_id}}),
    ):
        resp = a.request(method, path, **kwargs)
        assert resp.status_code in (403, 404), (method, path, resp.text)
        assert "faultstring" in resp.json()
    ex = a.wait_done(a.start(workflow_id=wf["id"]).json()["id"])
    assert ex["state"] == "SUCCESS" and ex["project_id"] == a.project_id
    assert b.request("GET", f"/executions/{ex['id']}").status_code == 404
