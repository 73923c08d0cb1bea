"""The requests the console's definitions, start and triggers views send, answered as the views read them.

The views (mistral/api/console/static/js/views/) are tested on a fake DOM with a fake API; these pin the
real API's side of that contract: bodies, query parameters and the fields of the answers.
"""

from __future__ import annotations

import json
import re

from tests.functional import runs
from tests.functional.conftest import Server

WORKFLOW = """version: '2.0'
greet:
  input:
    - name
    - count: 2
    - options: {"loud": true}
  tasks:
    hello:
      action: std.echo output=<% $.name %>
"""
BAD_LINE = WORKFLOW.replace("      action: std.echo", "      acton: std.echo")
BOOK = "version: '2.0'\nname: book\nworkflows:\n  w:\n    tasks:\n      t:\n        action: std.noop\n"
LIST_QUERY = {"fields": "id,name,namespace,scope,tags,created_at,updated_at", "limit": 100}
API_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def _workflow(api: Server) -> dict:
    assert api.request("POST", "/workflows", data=WORKFLOW, headers=runs.TEXT).status_code == 201
    return api.request("GET", "/workflows/greet").json()


def test_validate_answers_each_problem_with_its_line(api: Server) -> None:
    answer = api.request("POST", "/workflows/validate", data=BAD_LINE, headers=runs.TEXT)
    assert answer.status_code == 200
    body = answer.json()
    assert body["valid"] is False
    assert body["error"].startswith("Invalid DSL: ")
    assert re.search(r"\n  - greet\.tasks\.hello\.acton: .* \(line 9\)", body["error"]), body["error"]
    syntax = api.request("POST", "/workbooks/validate", data="version: '2.0'\nx: [\n", headers=runs.TEXT)
    assert "Invalid YAML at line 3" in syntax.json()["error"]
    assert api.request("POST", "/actions/validate", data="", headers=runs.TEXT).json()["valid"] is False
    good = api.request("POST", "/workflows/validate", data=WORKFLOW, headers=runs.TEXT)
    assert good.json() == {"valid": True}


def test_lists_take_the_views_fields_sort_and_name_filter(api: Server) -> None:
    _workflow(api)
    query = {**LIST_QUERY, "sort_keys": "name", "sort_dirs": "asc", "name": "has:ree"}
    rows = api.request("GET", "/workflows", params=query).json()["workflows"]
    assert [row["name"] for row in rows] == ["greet"]
    assert {"id", "namespace", "scope", "tags", "created_at", "updated_at"} <= set(rows[0])
    fields = LIST_QUERY["fields"] + ",is_system"
    actions = api.request("GET", "/actions", params={**LIST_QUERY, "fields": fields, "name": "has:echo"})
    assert any(row["name"] == "std.echo" and row["is_system"] for row in actions.json()["actions"])
    assert api.request("POST", "/workbooks", data=BOOK, headers=runs.TEXT).status_code == 201
    books = api.request("GET", "/workbooks", params={"name": "eq:book"}).json()["workbooks"]
    assert [(b["name"], b["namespace"]) for b in books] == [("book", "")]
    assert books[0]["definition"] == BOOK


def test_save_puts_the_text_with_namespace_and_scope(api: Server) -> None:
    _workflow(api)
    edited = WORKFLOW.replace("count: 2", "count: 3")
    answer = api.request("PUT", "/workflows?namespace=&scope=private", data=edited, headers=runs.TEXT)
    assert answer.status_code == 200, answer.text
    assert api.request("GET", "/workflows/greet").json()["definition"] == edited


def test_the_start_form_reads_the_interface_and_posts_as_the_client(api: Server) -> None:
    workflow = _workflow(api)
    assert json.loads(workflow["interface"])["input"] == ["name", {"count": 2}, {"options": {"loud": True}}]
    assert workflow["input"] == 'name, count="2", options="{\'loud\': True}"'
    body = {
        "workflow_name": "greet",
        "workflow_namespace": "",
        "input": json.dumps({"name": "Ada"}),
        "description": "from the console",
        "params": json.dumps({"env": {"region": "north"}}),
    }
    answer = api.request("POST", "/executions", json=body)
    assert answer.status_code == 201, answer.text
    execution = runs.wait(api, answer.json()["id"], "SUCCESS")
    assert json.loads(execution["input"]) == {"name": "Ada", "count": 2, "options": {"loud": True}}
    assert json.loads(execution["params"])["env"] == {"region": "north"}
    missing = api.request("POST", "/executions", json={**body, "input": "{}"})
    assert missing.status_code == 400
    assert "missing=['name']" in missing.json()["faultstring"]


def test_cron_triggers_as_the_triggers_view_creates_lists_and_deletes_them(api: Server) -> None:
    workflow = _workflow(api)
    body = {"name": "hourly", "pattern": "0 * * * *", "remaining_executions": 5}
    body["workflow_id"] = workflow["id"]
    created = api.request("POST", "/cron_triggers", json={**body, "workflow_input": '{"name": "Ada"}'})
    assert created.status_code == 201, created.text
    [row] = api.request("GET", "/cron_triggers").json()["cron_triggers"]
    assert (row["name"], row["workflow_name"], row["remaining_executions"]) == ("hourly", "greet", 5)
    assert API_TIME.match(row["next_execution_time"])
    assert api.request("DELETE", f"/cron_triggers/{row['id']}").status_code == 204
    assert api.request("GET", "/cron_triggers").json()["cron_triggers"] == []


def test_event_triggers_as_the_triggers_view_creates_lists_and_deletes_them(api: Server) -> None:
    workflow = _workflow(api)
    body = {
        "name": "on-create",
        "workflow_id": workflow["id"],
        "exchange": "nova",
        "topic": "notifications",
        "event": "compute.instance.create.end",
        "workflow_input": '{"name": "Ada"}',
    }
    created = api.request("POST", "/event_triggers", json=body)
    assert created.status_code == 201, created.text
    [row] = api.request("GET", "/event_triggers").json()["event_triggers"]
    assert (row["workflow_id"], row["exchange"], row["topic"]) == (workflow["id"], "nova", "notifications")
    assert api.request("DELETE", f"/event_triggers/{row['id']}").status_code == 204
    assert api.request("GET", "/event_triggers").json()["event_triggers"] == []
