"""Definition history over plain HTTP: ``/v2/workflows/{id}/versions`` and ``params.workflow_version``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.functional.conftest import Server
from tests.polling import wait_execution, wait_rest_execution

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)

TEXT = {"Content-Type": "text/plain"}


def _flow(said: str) -> str:
    return f"""
version: '2.0'
flow:
  output:
    said: {said}
  tasks:
    t:
      action: std.noop
"""


def _ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json() if resp.content else None


def test_updates_keep_versions_and_an_execution_runs_the_one_it_asks_for(api: Server, client: Any) -> None:
    created = _ok(api.request("POST", "/workflows", data=_flow("one"), headers=TEXT), 201)["workflows"][0]
    wf_id = created["id"]
    assert created["version"] == 1
    _ok(api.request("PUT", "/workflows", data=_flow("two"), headers=TEXT))
    assert _ok(api.request("PUT", f"/workflows/{wf_id}", data=_flow("three"), headers=TEXT))["version"] == 3

    versions = _ok(api.request("GET", f"/workflows/{wf_id}/versions"))["versions"]
    assert [(v["version"], v["current"]) for v in versions] == [(3, True), (2, False), (1, False)]
    assert {v["workflow_id"] for v in versions} == {wf_id} and versions[2]["definition"] == _flow("one")
    one = _ok(api.request("GET", "/workflows/flow/versions/1"))
    assert (one["version"], one["definition"], one["workflow_name"]) == (1, _flow("one"), "flow")
    missing = api.request("GET", "/workflows/flow/versions/7")
    assert missing.status_code == 404 and "flow version 7" in missing.json()["faultstring"]
    assert api.request("GET", "/workflows/flow/versions/first").status_code == 400

    body = {"workflow_name": "flow", "params": json.dumps({"workflow_version": 1})}
    old = _ok(api.request("POST", "/executions", json=body), 201)
    assert old["workflow_version"] == 1 and old["test_run"] is False
    assert json.loads(wait_rest_execution(api, old["id"])["output"]) == {"said": "one"}
    # the real client parses the new fields; an execution without the param runs the current version
    current = client.executions.create("flow")
    assert json.loads(wait_execution(client, current.id).output) == {"said": "three"}
    assert client.executions.get(current.id).workflow_version == 3
    assert [e.id for e in client.executions.list(workflow_version=1)] == [old["id"]]

    unknown = api.request("POST", "/executions", json={**body, "params": {"workflow_version": 9}})
    assert unknown.status_code == 404 and "flow version 9" in unknown.json()["faultstring"]
    bad = api.request("POST", "/executions", json={**body, "params": {"workflow_version": "latest"}})
    assert bad.status_code == 400 and "'workflow_version' must be a whole number" in bad.json()["faultstring"]

    _ok(api.request("DELETE", f"/workflows/{wf_id}"), 204)
    assert api.request("GET", f"/workflows/{wf_id}/versions").status_code == 404
