"""Starting a workflow through the REST API and waiting for its execution to reach a state."""

from __future__ import annotations

import time
from typing import Any

from tests.functional.conftest import Server

TEXT = {"Content-Type": "text/plain"}


def start(api: Server, definition: str, name: str = "wf") -> str:
    """Upload ``definition`` and start workflow ``name`` of it; the execution id."""
    assert api.request("POST", "/workflows", data=definition, headers=TEXT).status_code == 201
    created = api.request("POST", "/executions", json={"workflow_name": name})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def wait(api: Server, ex_id: str, state: str, timeout: float = 10) -> dict[str, Any]:
    """The execution once it is in ``state``; fails the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ex = api.request("GET", f"/executions/{ex_id}").json()
        if ex["state"] == state:
            return ex
        time.sleep(0.05)
    raise AssertionError(f"execution {ex_id} is {ex['state']}, not {state}: {ex.get('state_info')}")


def start_with(api: Server, definition: str, workflow_input: dict[str, Any], name: str = "wf") -> str:
    """``start`` with an input for the execution."""
    assert api.request("POST", "/workflows", data=definition, headers=TEXT).status_code == 201
    created = api.request("POST", "/executions", json={"workflow_name": name, "input": workflow_input})
    assert created.status_code == 201, created.text
    return created.json()["id"]
