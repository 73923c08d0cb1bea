"""``/v2/cron_triggers`` over HTTP, the real python-mistralclient and its CLI, and a real-time firing."""

from __future__ import annotations

import datetime
import json
import time
from typing import Any

import pytest
from mistralclient.api import base as client_base

from mistral import context
from mistral.db import api as db_api
from mistral.db.types import utcnow
from mistral.engine import cron
from tests.functional.conftest import Server, cli_json

WORKFLOW = """
version: '2.0'
ticked:
  input:
    - greeting
    - who: world
  tasks:
    echo:
      action: std.echo output=<% $.greeting %>
"""
PATTERN = "*/5 * * * *"


def _future(minutes: int = 60) -> str:
    return (utcnow() + datetime.timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def wf_id(api: Server) -> str:
    answer = api.request("POST", "/workflows", data=WORKFLOW, headers={"Content-Type": "text/plain"})
    assert answer.status_code == 201, answer.text
    return answer.json()["workflows"][0]["id"]


def _post(api: Server, **body: Any) -> Any:
    return api.request("POST", "/cron_triggers", json=body)


def _body(**extra: Any) -> dict[str, Any]:
    return {"name": "tick", "workflow_name": "ticked", "workflow_input": '{"greeting": "hi"}', **extra}


def test_create_get_list_delete(api: Server, wf_id: str) -> None:
    first = _future()
    created = _post(api, **_body(pattern=PATTERN, first_execution_time=first, remaining_executions=3,
                                 workflow_params={"env": {"a": 1}}))  # fmt: skip
    assert created.status_code == 201, created.text
    trigger = created.json()
    assert set(trigger) == {
        "id", "name", "workflow_name", "workflow_id", "workflow_input", "workflow_params", "scope", "pattern",
        "remaining_executions", "first_execution_time", "next_execution_time", "project_id", "created_at",
        "updated_at",
    }  # fmt: skip
    assert (trigger["workflow_id"], trigger["workflow_name"], trigger["scope"]) == (
        wf_id,
        "ticked",
        "private",
    )
    assert json.loads(trigger["workflow_input"]) == {"greeting": "hi"}
    assert json.loads(trigger["workflow_params"]) == {"env": {"a": 1}}
    assert trigger["first_execution_time"] == trigger["next_execution_time"] == f"{first}:00"
    assert (trigger["pattern"], trigger["remaining_executions"]) == (PATTERN, 3)

    for key in ("tick", trigger["id"]):
        got = api.request("GET", f"/cron_triggers/{key}")
        assert got.status_code == 200 and got.json() == trigger
    assert api.request("GET", "/cron_triggers/tick?fields=name").json() == {
        "id": trigger["id"],
        "name": "tick",
    }

    assert _post(api, **_body(name="other", pattern="0 * * * *")).status_code == 201
    listed = api.request("GET", "/cron_triggers?sort_keys=name").json()["cron_triggers"]
    assert [t["name"] for t in listed] == ["other", "tick"]
    assert [
        t["name"] for t in api.request("GET", f"/cron_triggers?pattern={PATTERN}").json()["cron_triggers"]
    ] == ["tick"]
    assert len(api.request("GET", "/cron_triggers?remaining_executions=gte:2").json()["cron_triggers"]) == 1
    page = api.request("GET", "/cron_triggers?limit=1&sort_keys=name&fields=name,pattern").json()
    assert [t["name"] for t in page["cron_triggers"]] == ["other"] and "marker=" in page["next"]
    assert set(page["cron_triggers"][0]) == {"id", "name", "pattern"}

    deleted = api.request("DELETE", "/cron_triggers/tick")
    assert deleted.status_code == 204 and deleted.text == ""
    assert api.request("GET", "/cron_triggers/tick").status_code == 404
    assert api.request("DELETE", f"/cron_triggers/{trigger['id']}").status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (_body(pattern="61 * * * *"), 400, "Invalid cron pattern '61 * * * *'"),
        (_body(), 400, "needs a 'pattern' or a 'first_execution_time'"),
        (_body(first_execution_time="2001-01-01 00:00"), 400, "is not in the future"),
        (_body(first_execution_time=_future(), remaining_executions=2), 400, "fires once"),
        (_body(pattern=PATTERN, workflow_input="{}"), 400, "missing=['greeting']"),
        (_body(pattern=PATTERN, workflow_input='{"greeting": 1, "x": 2}'), 400, "unexpected=['x']"),
        (_body(pattern=PATTERN, workflow_input="[1]"), 400, "'workflow_input' must be a JSON object"),
        (_body(pattern=PATTERN, workflow_name="nope"), 404, "Workflow not found [nope]"),
        (_body(pattern=PATTERN, colour="red"), 400, "Unknown attribute for the request body: colour"),
        (_body(pattern=PATTERN, remaining_executions=0), 400, "at least 1"),
    ],
)
def test_bad_requests(api: Server, wf_id: str, body: dict, status: int, message: str) -> None:
    answer = _post(api, **body)
    assert answer.status_code == status, answer.text
    assert message in answer.json()["faultstring"]
    assert api.request("GET", "/cron_triggers").json()["cron_triggers"] == []


def test_a_duplicate_name_is_409(api: Server, wf_id: str) -> None:
    assert _post(api, **_body(pattern=PATTERN)).status_code == 201
    answer = _post(api, **_body(pattern="0 * * * *"))
    assert answer.status_code == 409 and "tick" in answer.json()["faultstring"]


def test_unknown_list_argument_is_400(api: Server) -> None:
    answer = api.request("GET", "/cron_triggers?colour=red")
    assert answer.status_code == 400 and "colour" in answer.json()["faultstring"]


def test_python_client(client: Any, wf_id: str) -> None:
    first = _future(30)
    trigger = client.cron_triggers.create(
        "tick", "ticked", {"greeting": "hi"}, {"notify": []}, PATTERN, first, 2
    )
    assert (trigger.name, trigger.workflow_id, trigger.pattern, trigger.remaining_executions) == (
        "tick", wf_id, PATTERN, 2
    )  # fmt: skip
    assert trigger.next_execution_time == f"{first}:00"
    once = client.cron_triggers.create("once", wf_id, {"greeting": "yo"}, first_time=first)
    assert (once.workflow_name, once.pattern, once.remaining_executions) == ("ticked", None, 1)
    assert client.cron_triggers.get("tick").id == trigger.id
    assert client.cron_triggers.get(once.id).name == "once"
    assert sorted(t.name for t in client.cron_triggers.list()) == ["once", "tick"]
    assert [t.name for t in client.cron_triggers.list(name="once")] == ["once"]
    with pytest.raises(client_base.APIException) as err:
        client.cron_triggers.create("bad", "ticked", {"greeting": "hi"}, pattern="x y z")
    assert err.value.error_code == 400 and "x y z" in err.value.error_message
    client.cron_triggers.delete("tick")
    client.cron_triggers.delete(once.id)
    assert client.cron_triggers.list() == []
    with pytest.raises(client_base.APIException) as err:
        client.cron_triggers.get("tick")
    assert err.value.error_code == 404


def test_cli(cli: Any, wf_id: str) -> None:
    first = _future(30)
    created = cli_json(
        cli("cron-trigger-create", "tick", "ticked", '{"greeting": "hi"}', "--params", '{"env": {"a": 1}}',
            "--pattern", PATTERN, "--first-time", first, "--utc", "--count", "2", "-f", "json")
    )  # fmt: skip
    assert created["Name"] == "tick" and created["Workflow"] == "ticked" and created["Pattern"] == PATTERN
    assert created["Next execution time"] == f"{first}:00" and created["Remaining executions"] == 2
    assert json.loads(created["Params"]) == {"env": {"a": 1}}
    got = cli_json(cli("cron-trigger-get", "tick", "-f", "json"))
    assert got["Name"] == "tick" and got["Remaining executions"] == 2
    listed = cli_json(cli("cron-trigger-list", "-f", "json"))
    assert [row["Name"] for row in listed] == ["tick"]
    failed = cli(
        "cron-trigger-create", "bad", "ticked", '{"greeting": "hi"}', "--pattern", "61 * * * *", check=False
    )
    assert failed.returncode != 0 and "61 * * * *" in failed.stderr + failed.stdout
    assert "has been accepted" in cli("cron-trigger-delete", "tick").stdout
    # NOTE: the client prints one blank row for an empty list.
    assert [row["Name"] for row in cli_json(cli("cron-trigger-list", "-f", "json"))] in ([], [""])


def test_a_due_trigger_fires_in_real_time(api: Server, wf_id: str) -> None:
    trigger = _post(api, **_body(pattern="* * * * *")).json()
    soon = utcnow().replace(microsecond=0) + datetime.timedelta(seconds=2)
    with context.using(context.Context(is_internal=True)):
        db_api.update_cron_trigger(trigger["id"], {"next_execution_time": soon})
    cron.ensure_scheduled()  # the per-test table cleanup removed the engine's cron job
    deadline = time.monotonic() + 15
    executions: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not executions:
        time.sleep(0.2)
        executions = api.request("GET", "/executions").json()["executions"]
    assert len(executions) == 1, "the trigger did not fire"
    ex = executions[0]
    assert json.loads(ex["description"]) == {
        "description": f"Workflow execution created by cron trigger '({trigger['id']})'.",
        "triggered_by": {"type": "cron_trigger", "id": trigger["id"], "name": "tick"},
    }
    assert json.loads(ex["input"]) == {"greeting": "hi", "who": "world"}
    after = api.request("GET", "/cron_triggers/tick").json()
    next_time = datetime.datetime.strptime(after["next_execution_time"], "%Y-%m-%d %H:%M:%S")
    assert next_time > soon and next_time.second == 0


def test_a_workflow_that_a_trigger_starts_cannot_be_deleted(api: Any) -> None:
    text = "version: '2.0'\nguarded:\n  tasks:\n    t:\n      action: std.noop\n"
    assert (
        api.request("POST", "/workflows", data=text, headers={"Content-Type": "text/plain"}).status_code
        == 201
    )
    body = {"name": "nightly", "workflow_name": "guarded", "pattern": "0 1 * * *"}
    assert api.request("POST", "/cron_triggers", json=body).status_code == 201
    refused = api.request("DELETE", "/workflows/guarded")
    assert refused.status_code == 400
    assert "nightly" in refused.json()["faultstring"]
    assert api.request("GET", "/workflows/guarded").status_code == 200
    assert api.request("DELETE", "/cron_triggers/nightly").status_code == 204
    assert api.request("DELETE", "/workflows/guarded").status_code == 204
