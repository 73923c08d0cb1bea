"""The execution endpoints over real HTTP, on rows written with db_api (no engine runs here)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from mistral import config
from mistral.db import api as db_api
from tests.functional.conftest import Server, cli_json
from tests.unit.api.rows import action_ex, at, task_ex, tree, wf_ex

# -- executions ----------------------------------------------------------------------


def test_execution_get_has_json_strings_and_published_global(api: Server) -> None:
    ex = wf_ex(tags=["t"])
    body = api.request("GET", f"/executions/{ex.id}").json()
    assert json.loads(body["input"]) == {"a": 1}
    assert json.loads(body["output"]) == {"sum": 3}
    assert json.loads(body["params"])["env"] == {"region": "north"}
    assert json.loads(body["published_global"]) == {"g": 7}
    assert body["workflow_name"] == "wf" and body["state"] == "SUCCESS" and body["tags"] == ["t"]
    assert body["created_at"] == "2024-01-01 12:00:00"
    fields = api.request("GET", f"/executions/{ex.id}", params={"fields": "state"}).json()
    assert set(fields) == {"id", "state"}
    assert api.request("GET", f"/executions/{uuid.uuid4()}").status_code == 404


def test_execution_list_output_only_on_request_and_fields(api: Server) -> None:
    ex = wf_ex()
    listed = api.request("GET", "/executions").json()["executions"]
    assert [e["id"] for e in listed] == [ex.id]
    assert "output" not in listed[0] and "published_global" not in listed[0]
    assert json.loads(listed[0]["input"]) == {"a": 1}
    with_output = api.request("GET", "/executions", params={"include_output": "true"}).json()
    assert json.loads(with_output["executions"][0]["output"]) == {"sum": 3}
    some = api.request("GET", "/executions", params={"fields": "workflow_name,state"}).json()
    assert set(some["executions"][0]) == {"id", "workflow_name", "state"}
    bad = api.request("GET", "/executions", params={"fields": "nope"})
    assert bad.status_code == 400 and "nope" in bad.json()["faultstring"]
    unknown = api.request("GET", "/executions", params={"colour": "red"})
    assert unknown.status_code == 400 and "colour" in unknown.json()["faultstring"]


def test_execution_list_filters_nulls_and_paging(api: Server) -> None:
    rows = tree()
    by = {
        "state=ERROR": {"root", "sub", "subsub"},
        "nulls=root_execution_id": {"root"},
        "workflow_name=in:sub,subsub": {"sub", "subsub"},
        f"task_execution_id={rows['t2'].id}": {"sub"},
        f"root_execution_id={rows['root'].id}": {"sub", "subsub"},
    }
    for query, expected in by.items():
        body = api.request("GET", f"/executions?{query}").json()
        assert {e["workflow_name"] for e in body["executions"]} == expected, query
    names, url = [], "/executions?limit=1&sort_keys=created_at&nulls=root_execution_id,task_execution_id"
    for _ in range(2):
        body = api.request("GET", url).json()
        names += [e["workflow_name"] for e in body["executions"]]
        url = body.get("next", "")[len(api.v2) :]
        assert url == "" or "nulls=root_execution_id" in body["next"]
    assert names == ["root"]
    paged, url = [], "/executions?limit=2&sort_keys=created_at"
    while url:
        body = api.request("GET", url).json()
        paged += [e["workflow_name"] for e in body["executions"]]
        url = body.get("next", "")[len(api.v2) :]
    assert paged == ["root", "sub", "subsub"]


def test_sub_executions_tree(api: Server) -> None:
    rows = tree()
    root = rows["root"].id

    def names(path: str, **params: Any) -> list[str]:
        response = api.request("GET", path, params=params)
        assert response.status_code == 200, response.text
        return [e["workflow_name"] for e in response.json()["executions"]]

    assert names(f"/executions/{root}/executions") == ["root", "sub", "subsub"]
    assert names(f"/executions/{root}/executions", max_depth=1) == ["root", "sub"]
    assert names(f"/executions/{root}/executions", max_depth=0, errors_only="") == ["root"]
    assert names(f"/executions/{rows['sub'].id}/executions", errors_only="true") == ["sub", "subsub"]
    listed = api.request("GET", f"/executions/{root}/executions", params={"include_output": "true"}).json()
    assert all("output" in e for e in listed["executions"])
    assert names(f"/tasks/{rows['t2'].id}/executions") == ["sub", "subsub"]
    assert names(f"/tasks/{rows['t2'].id}/executions", max_depth=0) == ["sub"]
    assert names(f"/tasks/{rows['t2'].id}/workflow_executions") == ["sub"]
    assert names(f"/tasks/{rows['t1'].id}/executions") == []
    assert api.request("GET", f"/executions/{uuid.uuid4()}/executions").status_code == 404


def test_report(api: Server) -> None:
    rows = tree()
    report = api.request("GET", f"/executions/{rows['root'].id}/report").json()
    assert report["statistics"] == {
        "total_tasks_count": 3,
        "success_tasks_count": 1,
        "error_tasks_count": 2,
        "running_tasks_count": 0,
        "idle_tasks_count": 0,
        "paused_tasks_count": 0,
        "estimated_time": 0,
    }
    root = report["root_workflow_execution"]
    assert (root["id"], root["name"], root["state"]) == (rows["root"].id, "root", "ERROR")
    t1, t2 = root["task_executions"]
    assert t1["name"] == "t1" and t1["retry_count"] == 0 and t1["workflow_executions"] == []
    assert [(a["id"], a["accepted"]) for a in t1["action_executions"]] == [(rows["a1"].id, True)]
    assert t2["state_info"] == "boom"
    (sub,) = t2["workflow_executions"]
    assert sub["name"] == "sub"
    assert sub["task_executions"][0]["workflow_executions"][0]["name"] == "subsub"

    errors = api.request(
        "GET", f"/executions/{rows['root'].id}/report", params={"errors_only": "true"}
    ).json()
    assert [t["name"] for t in errors["root_workflow_execution"]["task_executions"]] == ["t2"]
    # NOTE: errors_only filters the tree; the statistics still count the whole run (t1 included)
    assert errors["statistics"] == report["statistics"]
    shallow = api.request("GET", f"/executions/{rows['root'].id}/report", params={"max_depth": 0}).json()
    sub_entry = shallow["root_workflow_execution"]["task_executions"][1]["workflow_executions"][0]
    assert "task_executions" not in sub_entry
    stats = api.request("GET", f"/executions/{rows['root'].id}/report", params={"statistics_only": "true"})
    assert set(stats.json()) == {"statistics"}
    assert api.request("GET", f"/executions/{rows['root'].id}/report", params={"x": 1}).status_code == 400


def test_report_estimates_time_of_a_running_execution(api: Server) -> None:
    ex = wf_ex(state="RUNNING")
    task_ex(ex, "done", started_at=at(0), finished_at=at(10))
    task_ex(ex, "busy", state="RUNNING", started_at=at(10))
    stats = api.request("GET", f"/executions/{ex.id}/report").json()["statistics"]
    assert stats["running_tasks_count"] == 1 and stats["estimated_time"] == 10


def test_delete_needs_force_for_a_running_execution_and_takes_the_tree(api: Server) -> None:
    rows = tree()
    running = wf_ex(state="RUNNING")
    refused = api.request("DELETE", f"/executions/{running.id}")
    assert refused.status_code == 403 and "force" in refused.json()["faultstring"]
    assert api.request("DELETE", f"/executions/{running.id}", params={"force": "true"}).status_code == 204
    assert api.request("GET", f"/executions/{running.id}").status_code == 404

    assert api.request("DELETE", f"/executions/{rows['root'].id}").status_code == 204
    for key, path in (
        ("sub", "executions"),
        ("subsub", "executions"),
        ("t1", "tasks"),
        ("a1", "action_executions"),
    ):
        assert api.request("GET", f"/{path}/{rows[key].id}").status_code == 404, key
    assert api.request("DELETE", f"/executions/{uuid.uuid4()}").status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"workflow_name": "wf", "colour": "red"}, "colour"),
        ({"workflow_name": "wf", "input": "{not json"}, "input"),
        ({"workflow_name": "wf", "params": "[1]"}, "params"),
        ({"workflow_name": "wf", "workflow_id": str(uuid.uuid4())}, "Only one of"),
        ({"input": {}}, "Workflow ID or workflow name must be provided"),
        ({"workflow_name": "wf", "params": {"env": "no-such-env"}}, "no-such-env"),
        ({"workflow_name": 5}, "workflow_name"),
    ],
)
def test_create_execution_bad_bodies(api: Server, body: dict[str, Any], message: str) -> None:
    response = api.request("POST", "/executions", json=body)
    assert response.status_code == 400, response.text
    assert message in response.json()["faultstring"]


def test_create_execution_with_known_id_returns_it_and_unknown_source_is_404(api: Server) -> None:
    ex = wf_ex()
    again = api.request("POST", "/executions", json={"id": ex.id, "workflow_name": "wf"})
    assert again.status_code == 201 and again.json()["id"] == ex.id
    missing = api.request("POST", "/executions", json={"source_execution_id": str(uuid.uuid4())})
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "state, description, or env"),
        ({"colour": "red"}, "colour"),
        ({"state": "PAUSED", "description": "d"}, "separately"),
        ({"state": "IDLE"}, "Cannot change state to IDLE"),
        ({"state": "PAUSED", "state_info": "why"}, "state_info"),
        ({"state": "PAUSED", "params": {"env": {"a": 1}}}, "env"),
        ({"params": {"task_name": "x"}}, "task_name"),
        ({"params": {}}, "'env' is not provided"),
        ({"params": "{bad"}, "params"),
        ({"description": 5}, "description"),
    ],
)
def test_update_execution_bad_bodies(api: Server, body: dict[str, Any], message: str) -> None:
    ex = wf_ex(state="RUNNING")
    response = api.request("PUT", f"/executions/{ex.id}", json=body)
    assert response.status_code == 400, response.text
    assert message in response.json()["faultstring"]


def test_update_execution_description_and_env_without_engine(api: Server) -> None:
    ex = wf_ex(state="PAUSED", context={"__env": {"region": "north"}})
    described = api.request("PUT", f"/executions/{ex.id}", json={"description": "new"})
    assert described.status_code == 200 and described.json()["description"] == "new"
    env = api.request("PUT", f"/executions/{ex.id}", json={"params": {"env": {"zone": "b"}}})
    assert env.status_code == 200, env.text
    assert json.loads(env.json()["params"])["env"] == {"region": "north", "zone": "b"}
    assert db_api.get_workflow_execution(ex.id).context["__env"] == {"region": "north", "zone": "b"}
    done = wf_ex(state="SUCCESS")
    refused = api.request("PUT", f"/executions/{done.id}", json={"params": {"env": {"zone": "b"}}})
    assert refused.status_code == 403
    assert api.request("PUT", f"/executions/{uuid.uuid4()}", json={"description": "x"}).status_code == 404


# -- tasks ---------------------------------------------------------------------------


def test_tasks_list_and_get(api: Server) -> None:
    ex = wf_ex(context={"__published_global": {"g": 7, "other": 1}})
    t = task_ex(ex, "t1", tags=["x"])
    task_ex(wf_ex(), "elsewhere")
    listed = api.request("GET", f"/executions/{ex.id}/tasks").json()["tasks"]
    assert [x["name"] for x in listed] == ["t1"]
    assert "result" not in listed[0] and "published_global" not in listed[0]
    assert json.loads(listed[0]["published"]) == {"x": 1}
    assert {x["name"] for x in api.request("GET", "/tasks").json()["tasks"]} == {"t1", "elsewhere"}
    filtered = api.request("GET", "/tasks", params={"workflow_execution_id": ex.id, "fields": "name"})
    assert filtered.json()["tasks"] == [{"id": t.id, "name": "t1"}]
    got = api.request("GET", f"/tasks/{t.id}").json()
    assert json.loads(got["result"]) == [1, 2]
    assert json.loads(got["published_global"]) == {"g": 7}
    assert got["workflow_execution_id"] == ex.id and got["type"] == "ACTION" and got["tags"] == ["x"]
    assert set(api.request("GET", f"/tasks/{t.id}", params={"fields": "result"}).json()) == {"id", "result"}
    assert api.request("GET", f"/tasks/{uuid.uuid4()}").status_code == 404
    paged = api.request("GET", f"/executions/{ex.id}/tasks", params={"limit": 1}).json()
    assert f"workflow_execution_id={ex.id}" in paged["next"]


@pytest.mark.parametrize(
    ("state", "body", "message"),
    [
        ("RUNNING", {"state": "RUNNING", "reset": True}, "Can't rerun a task in state RUNNING"),
        ("ERROR", {"state": "RUNNING", "reset": False}, "with-items"),
        ("ERROR", {"state": "RUNNING", "reset": "no"}, "reset"),
        ("ERROR", {"state": "RUNNING", "env": "{bad"}, "env"),
        ("ERROR", {"state": "SUCCESS"}, "Invalid task state"),
        ("SUCCESS", {"state": "SKIPPED"}, "Can't skip"),
        ("ERROR", {"state": "RUNNING", "name": "other"}, "Task name does not match"),
        ("ERROR", {"state": "RUNNING", "workflow_name": "other"}, "Workflow name does not match"),
        ("ERROR", {"state": "RUNNING", "colour": "red"}, "colour"),
    ],
)
def test_task_update_bad_requests(api: Server, state: str, body: dict[str, Any], message: str) -> None:
    t = task_ex(wf_ex(), "t1", state=state)
    response = api.request("PUT", f"/tasks/{t.id}", json=body)
    assert response.status_code == 400, response.text
    assert message in response.json()["faultstring"]
    assert api.request("PUT", f"/tasks/{uuid.uuid4()}", json={"state": "RUNNING"}).status_code == 404


# -- action executions ----------------------------------------------------------------


def test_action_executions_list_and_get(api: Server) -> None:
    t = task_ex(wf_ex(), "t1")
    in_task = action_ex(t, created_at=at(1))
    adhoc = action_ex(None, "std.noop", description="ad-hoc", created_at=at(2))
    listed = api.request("GET", "/action_executions").json()["action_executions"]
    assert [(a["id"], a["task_name"]) for a in listed] == [(in_task.id, "t1"), (adhoc.id, None)]
    assert "output" not in listed[0]
    assert json.loads(listed[0]["input"]) == {"output": "hi"}
    full = api.request("GET", "/action_executions", params={"include_output": "true"}).json()
    assert json.loads(full["action_executions"][0]["output"]) == {"result": "hi"}
    by_task_name = api.request("GET", "/action_executions", params={"task_name": "t1"}).json()
    assert [a["id"] for a in by_task_name["action_executions"]] == [in_task.id]
    got = api.request("GET", f"/action_executions/{in_task.id}").json()
    assert json.loads(got["output"]) == {"result": "hi"} and got["task_name"] == "t1"
    nested = api.request("GET", f"/tasks/{t.id}/action_executions").json()["action_executions"]
    assert [a["id"] for a in nested] == [in_task.id]
    assert api.request("GET", f"/tasks/{t.id}/action_executions/{in_task.id}").json()["id"] == in_task.id
    assert api.request("GET", f"/tasks/{t.id}/action_executions/{adhoc.id}").status_code == 404
    assert set(api.request("GET", f"/action_executions/{adhoc.id}", params={"fields": "name"}).json()) == {
        "id",
        "name",
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"input": {}}, "action name"),
        ({"name": "std.echo", "params": {"colour": 1}}, "colour"),
        ({"name": "std.echo", "params": {"run_sync": "yes"}}, "run_sync"),
        ({"name": "std.echo", "input": "[1]"}, "input"),
        ({"name": "std.echo", "colour": "red"}, "colour"),
    ],
)
def test_run_action_bad_bodies(api: Server, body: dict[str, Any], message: str) -> None:
    response = api.request("POST", "/action_executions", json=body)
    assert response.status_code == 400, response.text
    assert message in response.json()["faultstring"]


def test_action_execution_update_bad_state(api: Server) -> None:
    running = action_ex(None, state="RUNNING")
    bad = api.request("PUT", f"/action_executions/{running.id}", json={"state": "IDLE"})
    assert bad.status_code == 400 and "IDLE" in bad.json()["faultstring"]
    missing = api.request("PUT", f"/action_executions/{uuid.uuid4()}", json={"state": "SUCCESS"})
    assert missing.status_code == 404


@pytest.fixture
def deletion_allowed() -> Iterator[None]:
    config.CONF.set_override("allow_action_execution_deletion", True, group="api")
    yield
    config.CONF.clear_override("allow_action_execution_deletion", group="api")


def test_action_execution_delete_is_refused_by_default(api: Server) -> None:
    done = action_ex(None)
    refused = api.request("DELETE", f"/action_executions/{done.id}")
    assert refused.status_code == 403 and "not allowed" in refused.json()["faultstring"]


@pytest.mark.usefixtures("deletion_allowed")
def test_action_execution_delete_only_completed_ad_hoc(api: Server) -> None:
    in_task = action_ex(task_ex(wf_ex(), "t1"))
    running = action_ex(None, state="RUNNING")
    assert "Only ad-hoc" in api.request("DELETE", f"/action_executions/{in_task.id}").json()["faultstring"]
    assert api.request("DELETE", f"/action_executions/{running.id}").status_code == 403
    assert api.request("DELETE", f"/action_executions/{uuid.uuid4()}").status_code == 404


@pytest.mark.skipif(
    not hasattr(db_api, "delete_action_execution"), reason="db_api.delete_action_execution is not there yet"
)
@pytest.mark.usefixtures("deletion_allowed")
def test_action_execution_delete_of_a_completed_ad_hoc_run(api: Server) -> None:
    done = action_ex(None)
    assert api.request("DELETE", f"/action_executions/{done.id}").status_code == 204
    assert api.request("GET", f"/action_executions/{done.id}").status_code == 404


# -- the real client and CLI ---------------------------------------------------------------


def test_python_client_reads_executions_tasks_and_actions(client: Any) -> None:
    rows = tree()
    ex = client.executions.get(rows["root"].id)
    assert ex.workflow_name == "root" and json.loads(ex.input) == {"a": 1}
    assert json.loads(ex.published_global) == {"g": 7}
    assert {e.id for e in client.executions.list()} == {rows[k].id for k in ("root", "sub", "subsub")}
    assert [e.id for e in client.executions.list(nulls="root_execution_id")] == [rows["root"].id]
    subs = client.executions.get_ex_sub_executions(rows["root"].id)
    assert [e.id for e in subs] == [rows[k].id for k in ("root", "sub", "subsub")]
    assert client.executions.get_report(rows["root"].id)["statistics"]["error_tasks_count"] == 2
    tasks = client.tasks.list(rows["root"].id)
    assert [t.name for t in tasks] == ["t1", "t2"]
    assert json.loads(client.tasks.get(rows["t1"].id).result) == [1, 2]
    actions = client.action_executions.list(rows["t1"].id)
    assert [a.id for a in actions] == [rows["a1"].id]
    assert client.action_executions.get(rows["a1"].id).task_name == "t1"


def test_cli_renders_executions_tasks_and_actions(cli: Any) -> None:
    rows = tree()
    got = cli_json(cli("execution-get", rows["root"].id, "-f", "json"))
    assert got["ID"] == rows["root"].id and got["Workflow name"] == "root" and got["State"] == "ERROR"
    listed = cli_json(cli("execution-list", "-f", "json"))
    assert {e["Workflow name"] for e in listed} == {"root", "sub", "subsub"}
    roots = cli_json(cli("execution-list", "--rootsonly", "-f", "json"))
    assert [e["ID"] for e in roots] == [rows["root"].id]
    tasks = cli_json(cli("task-list", rows["root"].id, "-f", "json"))
    assert [t["Name"] for t in tasks] == ["t1", "t2"]
    actions = cli_json(cli("action-execution-list", "-f", "json"))
    assert [(a["ID"], a["Task name"]) for a in actions] == [(rows["a1"].id, "t1")]
    report = cli("execution-get-report", rows["root"].id, "--no-errors-only")
    assert "task 't1' [SUCCESS]" in report.stdout and "workflow 'subsub' [ERROR]" in report.stdout
