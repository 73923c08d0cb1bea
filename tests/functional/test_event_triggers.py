"""``/v2/event_triggers`` over HTTP, the real python-mistralclient and its CLI, and a trigger firing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import oslo_messaging
import pytest
from mistralclient.api import base as client_base
from oslo_config import cfg
from oslo_messaging import opts as messaging_opts

from mistral.event_engine.engine import EventEngine
from mistral.workflow import states
from tests.functional.conftest import Server, cli_json
from tests.polling import wait_for

WORKFLOW = """
version: '2.0'
greet:
  input:
    - greeting
  tasks:
    echo:
      action: std.echo
      input:
        output:
          greeting: <% $.greeting %>
          event: <% execution().params.event_params %>
      publish:
        echoed: <% task().result %>
  output:
    echoed: <% $.echoed %>
"""
SOURCE = {"exchange": "nova", "topic": "notifications", "event": "compute.instance.create.end"}


@pytest.fixture
def wf_id(api: Server) -> str:
    answer = api.request("POST", "/workflows", data=WORKFLOW, headers={"Content-Type": "text/plain"})
    assert answer.status_code == 201, answer.text
    return answer.json()["workflows"][0]["id"]


def _post(api: Server, **body: Any) -> Any:
    return api.request("POST", "/event_triggers", json=body)


def _body(wf_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": "on_create",
        "workflow_id": wf_id,
        "workflow_input": '{"greeting": "hi"}',
        **SOURCE,
        **extra,
    }


def test_create_get_update_delete(api: Server, wf_id: str) -> None:
    created = _post(api, **_body(wf_id, workflow_params={"env": {"a": 1}}))
    assert created.status_code == 201, created.text
    trigger = created.json()
    assert set(trigger) == {
        "id", "name", "workflow_id", "workflow_input", "workflow_params", "exchange", "topic", "event",
        "scope", "project_id", "created_at", "updated_at",
    }  # fmt: skip
    assert json.loads(trigger["workflow_input"]) == {"greeting": "hi"}
    assert json.loads(trigger["workflow_params"]) == {"env": {"a": 1}}
    assert (trigger["scope"], trigger["updated_at"]) == ("private", None)
    assert api.request("GET", f"/event_triggers/{trigger['id']}").json() == trigger
    assert api.request("GET", f"/event_triggers/{trigger['id']}?fields=name").json() == {
        "id": trigger["id"],
        "name": "on_create",
    }

    updated = api.request(
        "PUT",
        f"/event_triggers/{trigger['id']}",
        json={"name": "renamed", "workflow_input": {"greeting": "yo"}},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["name"] == "renamed" and updated.json()["updated_at"]
    assert json.loads(updated.json()["workflow_input"]) == {"greeting": "yo"}
    # NOTE: a GET answer edited and sent back is accepted: read-only and unchanged fields pass.
    echoed = {**updated.json(), "scope": "public"}
    assert api.request("PUT", f"/event_triggers/{trigger['id']}", json=echoed).json()["scope"] == "public"

    assert api.request("DELETE", f"/event_triggers/{trigger['id']}").status_code == 204
    gone = api.request("GET", f"/event_triggers/{trigger['id']}")
    assert gone.status_code == 404 and trigger["id"] in gone.json()["faultstring"]


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"exchange": None}, 400, "'exchange' is required"),
        ({"event": ""}, 400, "'event' is required"),
        # Mistral types workflow_id as a uuid: anything else is bad input.
        ({"workflow_id": "nope"}, 400, "Expected a uuid but received nope"),
        ({"workflow_id": "123e4567-e89b-12d3-a456-426655440001"}, 404, "Workflow not found"),
        ({"workflow_input": "{}"}, 400, "missing=['greeting']"),
        ({"workflow_input": "[1]"}, 400, "'workflow_input' must be a JSON object"),
        ({"workflow_params": "{bad"}, 400, "Invalid JSON in 'workflow_params'"),
        ({"pattern": "* * * * *"}, 400, "Unknown attribute for the request body: pattern"),
        ({"scope": "everyone"}, 400, "Scope must be one of"),
    ],
)
def test_create_errors(api: Server, wf_id: str, change: dict, status: int, message: str) -> None:
    body = {k: v for k, v in {**_body(wf_id), **change}.items() if v is not None}
    answer = _post(api, **body)
    assert answer.status_code == status, answer.text
    assert message in answer.json()["faultstring"]


def test_duplicate_and_immutable_fields(api: Server, wf_id: str) -> None:
    trigger = _post(api, **_body(wf_id)).json()
    duplicate = _post(api, **_body(wf_id, name="again"))
    assert duplicate.status_code == 409, duplicate.text
    for field in ("exchange", "topic", "event"):
        answer = api.request("PUT", f"/event_triggers/{trigger['id']}", json={field: "changed"})
        assert answer.status_code == 400 and f"'{field}'" in answer.json()["faultstring"]
    wrong_id = api.request("PUT", f"/event_triggers/{trigger['id']}", json={"id": "x", "name": "n"})
    assert wrong_id.status_code == 400
    unknown = api.request("PUT", "/event_triggers/123e4567-e89b-12d3-a456-426655440000", json={"name": "n"})
    assert unknown.status_code == 404


def test_list_filters_and_pages(api: Server, wf_id: str) -> None:
    ids = [
        _post(api, **_body(wf_id, name=f"t{i}", event=f"compute.instance.{i}")).json()["id"] for i in range(3)
    ]
    listed = api.request("GET", "/event_triggers").json()
    assert [t["id"] for t in listed["event_triggers"]] == ids and "next" not in listed
    assert [t["name"] for t in api.request("GET", "/event_triggers?event=compute.instance.1").json()[
        "event_triggers"
    ]] == ["t1"]  # fmt: skip
    page = api.request("GET", "/event_triggers?limit=2&fields=name").json()
    assert [t for t in page["event_triggers"]] == [{"id": ids[0], "name": "t0"}, {"id": ids[1], "name": "t1"}]
    assert f"marker={ids[1]}" in page["next"]
    rest = api.request("GET", f"/event_triggers?limit=2&marker={ids[1]}").json()
    assert [t["id"] for t in rest["event_triggers"]] == [ids[2]]
    assert api.request("GET", "/event_triggers?pattern=x").status_code == 400
    assert api.request("GET", "/event_triggers?fields=pattern").status_code == 400


def test_python_client(client: Any, wf_id: str) -> None:
    created = client.event_triggers.create(
        "on_create",
        wf_id,
        "nova",
        "notifications",
        "compute.instance.create.end",
        {"greeting": "hi"},
        {"a": 1},
    )
    assert (created.name, created.exchange, created.topic, created.event) == (
        "on_create",
        "nova",
        "notifications",
        "compute.instance.create.end",
    )
    got = client.event_triggers.get(created.id)
    assert json.loads(got.workflow_input) == {"greeting": "hi"} and json.loads(got.workflow_params) == {
        "a": 1
    }
    assert [t.id for t in client.event_triggers.list()] == [created.id]
    assert [t.id for t in client.event_triggers.list(topic="other")] == []
    client.event_triggers.delete(created.id)
    with pytest.raises(client_base.APIException) as err:
        client.event_triggers.get(created.id)
    assert err.value.error_code == 404


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_cli(cli: Any, wf_id: str) -> None:
    created = cli_json(
        cli(
            "event-trigger-create",
            "on_create",
            wf_id,
            "nova",
            "notifications",
            "compute.instance.*",
            '{"greeting": "hi"}',
            "--params",
            '{"env": {"a": 1}}',
            "-f",
            "json",
        )  # fmt: skip
    )
    assert (created["Name"], created["Workflow ID"], created["Event"]) == (
        "on_create",
        wf_id,
        "compute.instance.*",
    )
    assert json.loads(created["Params"]) == {"env": {"a": 1}}
    got = cli_json(cli("event-trigger-get", created["ID"], "-f", "json"))
    assert (got["Exchange"], got["Topic"]) == ("nova", "notifications")
    listed = cli_json(cli("event-trigger-list", "-f", "json"))
    assert [t["ID"] for t in listed] == [created["ID"]]
    failed = cli(
        "event-trigger-create", "x", wf_id, "nova", "notifications", "compute.instance.*", check=False
    )
    assert failed.returncode != 0 and "missing=['greeting']" in failed.stderr
    assert "has been accepted" in cli("event-trigger-delete", created["ID"]).stdout
    assert [t for t in cli_json(cli("event-trigger-list", "-f", "json")) if t.get("ID")] == []


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


def test_a_notification_runs_the_workflow(api: Server, wf_id: str, notifications: Any) -> None:
    """The event engine in this process; the embedded engine and executor run the workflow."""
    trigger = _post(api, **_body(wf_id, event="compute.instance.*")).json()
    event_engine = EventEngine(notifications, definitions=[], pool_name="functional")
    event_engine.start()
    try:
        notifier = oslo_messaging.Notifier(
            notifications, publisher_id="compute.host1", driver="messaging", topics=["notifications"]
        )
        notifier.info({}, "compute.instance.create.end", {"instance_id": "i-42"})
        wf_ex = _wait_for_execution(api, wf_id)
    finally:
        event_engine.stop()
    assert wf_ex["state"] == states.SUCCESS, wf_ex
    echoed = json.loads(wf_ex["output"])["echoed"]
    assert echoed["greeting"] == "hi"
    assert echoed["event"]["instance_id"] == "i-42"
    assert echoed["event"]["event_type"] == "compute.instance.create.end"
    assert echoed["event"]["publisher_id"] == "compute.host1"
    assert json.loads(wf_ex["description"])["triggered_by"]["id"] == trigger["id"]
    assert json.loads(wf_ex["params"])["event_params"]["instance_id"] == "i-42"


def _wait_for_execution(api: Server, wf_id: str, timeout: float = 20) -> dict[str, Any]:
    def finished() -> str | None:
        found = api.request("GET", f"/executions?workflow_id={wf_id}").json()["executions"]
        return found[0]["id"] if found and found[0]["state"] in states.COMPLETED else None

    ex_id = wait_for(f"a finished execution of {wf_id}", finished, timeout, interval=0.1)
    return api.request("GET", f"/executions/{ex_id}").json()
