"""Answers that Mistral's own API tests (mistral-tempest-tests 2.10.0) expect, request for request.

Each case is the request the conformance suite sends and the answer OpenStack Mistral 23 gives:
duplicate sort keys, the ``next`` link's ``id`` tie-breaker, a repeated query parameter, a
numeric string as a cron trigger's count, which error wins for a missing execution, and an
event trigger for a workflow id that is no uuid.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest

from tests.functional.conftest import Server
from tests.polling import wait_rest_execution

TEXT = {"Content-Type": "text/plain"}
WORKFLOWS = """
version: '2.0'
{name}:
  tasks:
    t:
      action: std.noop
"""
ACTIONS = """
version: '2.0'
greeting:
  base: std.echo
  base-input:
    output: hello
farewell:
  base: std.echo
  base-input:
    output: bye
"""
SORT_ERROR = "Length of sort_keys must be equal or greater than sort_dirs"


def _workflow(api: Server, name: str) -> dict[str, Any]:
    resp = api.request("POST", "/workflows", data=WORKFLOWS.format(name=name), headers=TEXT)
    assert resp.status_code == 201, resp.text
    return resp.json()["workflows"][0]


def _wait_done(api: Server, ex_id: str) -> None:
    """Until the execution is over: no engine work left to race the next test's table cleanup."""
    wait_rest_execution(api, ex_id, "SUCCESS", "ERROR")


def _next_query(body: dict[str, Any]) -> dict[str, str]:
    """The ``next`` link's query read as Tempest reads it: split on '&' and '=', nothing unquoted."""
    query = urllib.parse.urlsplit(body["next"]).query
    return dict(pair.split("=", 1) for pair in query.split("&"))


@pytest.mark.parametrize("plural", ["workflows", "actions", "executions", "workbooks", "cron_triggers"])
def test_duplicate_sort_keys_are_one_key(api: Server, plural: str) -> None:
    # Mistral drops repeated sort keys, then finds more directions than keys.
    resp = api.request("GET", f"/{plural}?limit=1&sort_keys=id,id&sort_dirs=asc,asc")
    assert resp.status_code == 400, resp.text
    assert SORT_ERROR in resp.json()["faultstring"]
    resp = api.request("GET", f"/{plural}?limit=1&sort_keys=id,id&sort_dirs=desc")
    assert resp.status_code == 200, resp.text


def test_the_next_link_carries_the_id_tie_breaker(api: Server) -> None:
    _workflow(api, "wf1")
    _workflow(api, "wf2")
    for name in ("wf1", "wf2"):
        ex = api.request("POST", "/executions", json={"workflow_name": name}).json()
        _wait_done(api, ex["id"])

    body = api.request("GET", "/executions?limit=1&sort_keys=workflow_name&sort_dirs=asc").json()
    query = _next_query(body)
    assert (query["limit"], query["sort_keys"], query["sort_dirs"]) == ("1", "workflow_name,id", "asc,asc")
    following = api.request("GET", body["next"].split("/v2", 1)[1]).json()
    assert [e["workflow_name"] for e in body["executions"] + following["executions"]] == ["wf1", "wf2"]

    body = api.request("GET", "/workflows?limit=1&sort_keys=name&sort_dirs=desc").json()
    assert (_next_query(body)["sort_keys"], _next_query(body)["sort_dirs"]) == ("name,id", "desc,asc")
    body = api.request("GET", "/actions?limit=1&sort_keys=name&sort_dirs=desc").json()
    assert _next_query(body)["sort_keys"] == "name,id"
    # No sort asked: the default key, then id.
    body = api.request("GET", "/executions?limit=1").json()
    assert (_next_query(body)["sort_keys"], _next_query(body)["sort_dirs"]) == ("created_at,id", "asc,asc")


def test_a_repeated_query_parameter_takes_its_last_value(api: Server) -> None:
    assert api.request("POST", "/actions", data=ACTIONS, headers=TEXT).status_code == 201
    resp = api.request("GET", "/actions?name=in:greeting,farewell&name=greeting")
    assert resp.status_code == 200, resp.text
    assert [a["name"] for a in resp.json()["actions"]] == ["greeting"]
    resp = api.request("GET", "/actions?name=greeting&name=in:greeting,farewell")
    assert sorted(a["name"] for a in resp.json()["actions"]) == ["farewell", "greeting"]
    resp = api.request("GET", "/workflows?limit=1&limit=2")
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize(("count", "status"), [("42", 201), (42, 201), ("q", 400), (-1, 400), ("0", 400)])
def test_a_cron_triggers_count_may_be_a_numeric_string(api: Server, count: Any, status: int) -> None:
    _workflow(api, "wf")
    body = {
        "name": "trigger", "workflow_name": "wf", "pattern": "5 * * * *",
        "first_execution_time": "4242-12-25 13:37", "remaining_executions": count,
    }  # fmt: skip
    resp = api.request("POST", "/cron_triggers", json=body)
    assert resp.status_code == status, resp.text
    if status == 201:
        assert resp.json()["remaining_executions"] == 42
        # The same trigger again is a duplicate, as in Mistral.
        again = api.request("POST", "/cron_triggers", json={**body, "name": "trigger2"})
        assert again.status_code == 409, again.text
    else:
        assert "remaining_executions" in resp.json()["faultstring"]


@pytest.mark.parametrize(
    "body", [{"state": "STOPPED"}, {"state": "PAUSED", "description": "both"}, {"params": {"x": 1}}]
)
def test_updating_a_missing_execution_is_404_whatever_the_body(api: Server, body: dict[str, Any]) -> None:
    resp = api.request("PUT", "/executions/1a2b3c", json=body)
    assert resp.status_code == 404, resp.text
    assert "1a2b3c" in resp.json()["faultstring"]


def test_an_event_trigger_needs_a_workflow_uuid(api: Server) -> None:
    body = {"workflow_id": "nonexist", "exchange": "openstack", "topic": "notifications", "event": "x.y"}
    resp = api.request("POST", "/event_triggers", json=body)
    assert resp.status_code == 400, resp.text
    assert "Expected a uuid but received nonexist" in resp.json()["faultstring"]
    resp = api.request("POST", "/event_triggers", json={**body, "workflow_id": _workflow(api, "wf")["id"]})
    assert resp.status_code == 201, resp.text
