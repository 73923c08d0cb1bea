"""with-items over lists in the context (an input, a published list, dicts); the start after POST."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from mistral.engine import workflows
from tests.functional import runs
from tests.functional.conftest import Server

N = 3000

OVER_INPUT = """
version: '2.0'
wf:
  input: [nums]
  output: {r: <% $.r %>}
  tasks:
    t:
      with-items: x in <% $.nums %>
      action: std.echo output=<% $.x * 3 %>
      publish: {r: <% task().result %>}
"""

OVER_PUBLISHED = """
version: '2.0'
wf:
  input: [nums]
  output: {r: <% $.r %>}
  tasks:
    make:
      action: std.echo output=<% $.nums %>
      publish: {items: <% task().result %>}
      on-success: t
    t:
      with-items: x in <% $.items %>
      action: std.echo output=<% $.x * 3 %>
      publish: {r: <% task().result %>}
"""

OVER_DICTS = """
version: '2.0'
wf:
  input: [hosts]
  output: {r: <% $.r %>}
  tasks:
    t:
      with-items: h in <% $.hosts %>
      action: std.echo output="<% $.h.name %>:<% $.h.port * 3 %>"
      publish: {r: <% task().result %>}
"""


def _run(api: Server, definition: str, wf_input: dict[str, Any]) -> dict[str, Any]:
    assert api.request("POST", "/workflows", data=definition, headers=runs.TEXT).status_code == 201
    created = api.request("POST", "/executions", json={"workflow_name": "wf", "input": wf_input})
    assert created.status_code == 201, created.text
    assert created.json()["state"] == "RUNNING"
    ex = runs.wait(api, created.json()["id"], "SUCCESS", timeout=100)
    return json.loads(ex["output"])


@pytest.mark.timeout(240)
@pytest.mark.parametrize("definition", [OVER_INPUT, OVER_PUBLISHED], ids=["input", "published"])
def test_with_items_over_a_list_in_the_context_gives_every_result_in_order(
    api: Server, definition: str
) -> None:
    output = _run(api, definition, {"nums": list(range(N))})
    assert output["r"] == [3 * i for i in range(N)]


@pytest.mark.timeout(240)
def test_with_items_over_dicts_gives_every_result_in_order(api: Server) -> None:
    hosts = [{"name": f"h{i}", "port": i, "tags": ["a", "b"]} for i in range(N)]
    output = _run(api, OVER_DICTS, {"hosts": hosts})
    assert output["r"] == [f"h{i}:{3 * i}" for i in range(N)]


def test_post_answers_before_the_first_step_runs(api: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    first_step = workflows.run_first_step

    def held_first_step(run: Any) -> None:
        assert release.wait(30)
        first_step(run)

    monkeypatch.setattr(workflows, "run_first_step", held_first_step)
    assert api.request("POST", "/workflows", data=OVER_INPUT, headers=runs.TEXT).status_code == 201
    created = api.request("POST", "/executions", json={"workflow_name": "wf", "input": {"nums": [1, 2]}})
    assert created.status_code == 201, created.text
    ex_id = created.json()["id"]
    assert created.json()["state"] == "RUNNING"
    assert api.request("GET", f"/executions/{ex_id}/tasks").json()["tasks"] == []
    release.set()
    ex = runs.wait(api, ex_id, "SUCCESS")
    assert json.loads(ex["output"]) == {"r": [3, 6]}
    assert len(api.request("GET", f"/executions/{ex_id}/tasks").json()["tasks"]) == 1


def test_a_missing_input_is_still_a_400_from_post(api: Server) -> None:
    assert api.request("POST", "/workflows", data=OVER_INPUT, headers=runs.TEXT).status_code == 201
    created = api.request("POST", "/executions", json={"workflow_name": "wf"})
    assert created.status_code == 400
    assert "nums" in created.json()["faultstring"]


def test_an_unexpected_error_in_the_first_step_fails_the_execution_once(
    api: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def broken_first_step(run: Any) -> None:
        calls.append(run.wf_ex.id)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(workflows, "run_first_step", broken_first_step)
    assert api.request("POST", "/workflows", data=OVER_INPUT, headers=runs.TEXT).status_code == 201
    created = api.request("POST", "/executions", json={"workflow_name": "wf", "input": {"nums": [1]}})
    assert created.status_code == 201, created.text
    ex = runs.wait(api, created.json()["id"], "ERROR")
    assert "Failed to start the workflow" in ex["state_info"]
    assert "disk on fire" in ex["state_info"]
    assert calls == [created.json()["id"]]
