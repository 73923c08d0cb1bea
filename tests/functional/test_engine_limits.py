"""Limits inside a running workflow: each hostile workflow ends its task in ERROR naming the limit.

Field sizes of action input and output and of task results, the number of with-items items and the
depth of sub-workflows; nothing oversized is stored and nothing past a limit is started.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Override
from tests.functional import runs
from tests.functional.conftest import Server

BIG = "{{ 'x' * 3000 }}"  # 3 KB, over a 1 KB limit
SIZE_OPTION = "[engine] execution_field_size_limit_kb"


def _tasks(api: Server, ex_id: str) -> list[dict[str, Any]]:
    return api.request("GET", f"/executions/{ex_id}/tasks").json()["tasks"]


def _actions(api: Server, task_id: str) -> list[dict[str, Any]]:
    return api.request("GET", f"/tasks/{task_id}/action_executions").json()["action_executions"]


def _failed_task(api: Server, definition: str, option: str, name: str = "wf") -> dict[str, Any]:
    ex_id = runs.start(api, definition, name)
    runs.wait(api, ex_id, "ERROR")
    (task,) = _tasks(api, ex_id)
    assert task["state"] == "ERROR"
    assert option in task["state_info"], task["state_info"]
    return task


@pytest.fixture
def small_fields(override_conf: Override) -> None:
    override_conf("engine", "execution_field_size_limit_kb", 1)


def test_an_oversized_action_result_fails_the_task_and_is_not_stored(api: Server, small_fields: None) -> None:
    definition = (
        "version: '2.0'\nbig:\n  base: std.echo\n  base-input: {output: small}\n  output: \"" + BIG + '"\n'
        "wf:\n  tasks:\n    t:\n      action: big\n"
    )
    assert api.request("POST", "/actions", data=definition.split("wf:")[0], headers=runs.TEXT).ok
    task = _failed_task(api, "version: '2.0'\nwf:" + definition.split("wf:")[1], SIZE_OPTION)
    assert "action result" in task["state_info"]
    (action,) = _actions(api, task["id"])
    action = api.request("GET", f"/action_executions/{action['id']}").json()
    assert action["state"] == "ERROR"
    assert "xxxx" not in action["output"] and "xxxx" not in (task.get("result") or "")
    # Run directly (synchronously, not saved), the same action answers its error, not its blob.
    direct = api.request("POST", "/action_executions", json={"name": "big"})
    assert direct.status_code == 201, direct.text
    assert direct.json()["state"] == "ERROR"
    assert SIZE_OPTION in direct.json()["output"] and "xxxx" not in direct.json()["output"]


def test_an_oversized_action_input_fails_the_task_before_any_action(api: Server, small_fields: None) -> None:
    definition = f"version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.echo output=\"{BIG}\"\n"
    task = _failed_task(api, definition, SIZE_OPTION)
    assert "action std.echo input" in task["state_info"]
    assert _actions(api, task["id"]) == []


def test_an_oversized_action_input_through_the_api_is_400(api: Server, small_fields: None) -> None:
    response = api.request(
        "POST", "/action_executions", json={"name": "std.echo", "input": {"output": "x" * 3000}}
    )
    assert response.status_code == 400, response.text
    assert SIZE_OPTION in response.json()["faultstring"]
    assert api.request("GET", "/action_executions").json()["action_executions"] == []


@pytest.mark.parametrize("as_text", [True, False])
def test_an_oversized_workflow_input_is_400_and_one_within_the_limit_is_stored_as_given(
    api: Server, small_fields: None, as_text: bool
) -> None:
    definition = (
        "version: '2.0'\nbig_in:\n  input: [text, {n: 1}]\n  tasks:\n    t:\n      action: std.noop\n"
    )
    assert api.request("POST", "/workflows", data=definition, headers={"Content-Type": "text/plain"}).ok

    def start(wf_input: dict[str, Any]) -> Any:
        body = {"workflow_name": "big_in", "input": json.dumps(wf_input) if as_text else wf_input}
        return api.request("POST", "/executions", json=body)

    response = start({"text": "x" * 3000})
    assert response.status_code == 400, response.text
    assert f"Field size limit exceeded [field=input, size=2KB, limit=1KB] ({SIZE_OPTION})" in response.text
    assert api.request("GET", "/executions").json()["executions"] == []
    started = start({"text": "é ✓ \u2028"})
    assert started.status_code == 201, started.text
    shown = api.request("GET", f"/executions/{started.json()['id']}").json()
    assert json.loads(shown["input"]) == json.loads(started.json()["input"]) == {"text": "é ✓ \u2028", "n": 1}


def test_an_oversized_with_items_result_fails_the_task(api: Server, small_fields: None) -> None:
    definition = (
        "version: '2.0'\nwf:\n  tasks:\n    t:\n      with-items: i in <% range(40) %>\n"
        "      action: std.echo output=\"{{ 'y' * 40 }}\"\n"
    )
    task = _failed_task(api, definition, SIZE_OPTION)
    assert "task t result" in task["state_info"]
    assert len(_actions(api, task["id"])) == 40


def test_too_many_with_items_fails_the_task_before_any_action(api: Server, override_conf: Override) -> None:
    override_conf("engine", "max_with_items", 5)
    ok = "version: '2.0'\nwf:\n  tasks:\n    t:\n      with-items: i in <% range(5) %>\n"
    ok += "      action: std.noop\n"
    runs.wait(api, runs.start(api, ok), "SUCCESS")
    task = _failed_task(
        api, ok.replace("range(5)", "range(6)").replace("wf:", "wf2:"), "[engine] max_with_items", "wf2"
    )
    assert "6 items" in task["state_info"]
    assert _actions(api, task["id"]) == []


def test_a_self_recursive_workflow_stops_at_the_depth_limit(api: Server, override_conf: Override) -> None:
    override_conf("engine", "max_subworkflow_depth", 3)
    definition = "version: '2.0'\nwf:\n  tasks:\n    again:\n      workflow: wf\n"
    ex_id = runs.start(api, definition)
    runs.wait(api, ex_id, "ERROR")
    executions = api.request("GET", "/executions").json()["executions"]
    assert len(executions) == 4  # the root and three levels below it
    deepest = [
        e for e in executions if e["state_info"] and "[engine] max_subworkflow_depth" in e["state_info"]
    ]
    assert deepest, [e["state_info"] for e in executions]
    (task,) = _tasks(api, deepest[-1]["id"])
    assert "more than 3 levels" in task["state_info"]
    root = api.request("GET", f"/executions/{ex_id}").json()
    assert root["state_info"].endswith("would nest more than 3 levels deep ([engine] max_subworkflow_depth)")
