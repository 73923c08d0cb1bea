"""Pause, resume and cancel reach sub-workflows; parent and root ids link the tree."""

from __future__ import annotations

from typing import Any

from tests.functional.conftest import Server
from tests.polling import wait_for

TEXT = {"Content-Type": "text/plain"}
WORKFLOWS = """
version: '2.0'
parent:
  tasks:
    call:
      workflow: child
      on-success: [after]
    after:
      action: std.echo output=done
child:
  tasks:
    wait:
      action: std.async_noop
"""


def _wait_for(api: Server, path: str, check: Any, timeout: float = 10) -> Any:
    return wait_for(
        f"{path} to match", lambda: body if check(body := api.request("GET", path).json()) else None, timeout
    )


def _start(api: Server) -> tuple[str, str]:
    assert api.request("POST", "/workflows", data=WORKFLOWS, headers=TEXT).status_code == 201
    parent = api.request("POST", "/executions", json={"workflow_name": "parent"}).json()["id"]
    subs = _wait_for(api, f"/executions/{parent}/executions", lambda b: len(b["executions"]) == 2)
    (child,) = [e for e in subs["executions"] if e["id"] != parent]
    assert child["root_execution_id"] == parent
    assert child["task_execution_id"]
    return parent, child["id"]


def _state(api: Server, ex_id: str, state: str) -> dict[str, Any]:
    return _wait_for(api, f"/executions/{ex_id}", lambda b: b["state"] == state)


def test_pause_and_resume_cascade_to_the_sub_workflow(api: Server) -> None:
    parent, child = _start(api)
    assert api.request("PUT", f"/executions/{parent}", json={"state": "PAUSED"}).status_code == 200
    _state(api, child, "PAUSED")
    assert api.request("PUT", f"/executions/{parent}", json={"state": "RUNNING"}).status_code == 200
    _state(api, child, "RUNNING")
    # finish the child's async action: the parent carries on to the end
    tasks = api.request("GET", f"/executions/{child}/tasks").json()["tasks"]
    actions = api.request("GET", f"/tasks/{tasks[0]['id']}/action_executions").json()["action_executions"]
    done = api.request(
        "PUT", f"/action_executions/{actions[0]['id']}", json={"state": "SUCCESS", "output": "{}"}
    )
    assert done.status_code == 200, done.text
    _state(api, child, "SUCCESS")
    _state(api, parent, "SUCCESS")


def test_cancel_cascades_to_the_sub_workflow(api: Server) -> None:
    parent, child = _start(api)
    assert api.request("PUT", f"/executions/{parent}", json={"state": "CANCELLED"}).status_code == 200
    _state(api, parent, "CANCELLED")
    _state(api, child, "CANCELLED")
    call = api.request("GET", f"/executions/{parent}/tasks").json()["tasks"][0]
    assert call["state"] == "CANCELLED"
