"""Lost work is found again: unsent actions are resent, silent executors' actions fail."""

from __future__ import annotations

import datetime
import time
from typing import Any

import pytest

from mistral.db import api as db_api
from mistral.db.types import utcnow
from mistral.engine import recovery, sender
from tests.functional.conftest import Server

TEXT = {"Content-Type": "text/plain"}


def _start(api: Server, wf: str) -> str:
    assert api.request("POST", "/workflows", data=wf, headers=TEXT).status_code == 201
    created = api.request("POST", "/executions", json={"workflow_name": "wf"})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def _wait(api: Server, ex_id: str, state: str, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ex = api.request("GET", f"/executions/{ex_id}").json()
        if ex["state"] == state:
            return ex
        time.sleep(0.05)
    raise AssertionError(f"execution {ex_id} is {ex['state']}, not {state}")


def _age(action_ex_id: str, **values: Any) -> None:
    with db_api.transaction():
        db_api.update_action_execution(action_ex_id, values)


def test_an_action_lost_between_commit_and_send_is_sent_again(
    api: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sender, "_send_actions", lambda box: None)
    ex_id = _start(api, "version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.echo output=done\n")
    time.sleep(0.2)
    monkeypatch.undo()
    (task,) = db_api.find_task_executions(ex_id)
    (action,) = db_api.find_action_executions(task.id)
    assert (action.state, action.accepted) == ("RUNNING", False)
    _age(action.id, created_at=utcnow() - datetime.timedelta(minutes=5))
    recovery.resend_unsent_actions()
    assert _wait(api, ex_id, "SUCCESS")["state"] == "SUCCESS"


def test_an_action_whose_executor_went_silent_fails_its_task(api: Server) -> None:
    ex_id = _start(api, "version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.async_noop\n")
    time.sleep(0.2)
    (task,) = db_api.find_task_executions(ex_id)
    (action,) = db_api.find_action_executions(task.id)
    _age(action.id, accepted=True, is_sync=True, last_heartbeat=utcnow() - datetime.timedelta(hours=2))
    recovery.fail_silent_actions()
    ex = _wait(api, ex_id, "ERROR")
    assert "Heartbeat lost" in ex["state_info"]


def test_recovery_leaves_healthy_work_alone(api: Server) -> None:
    ex_id = _start(api, "version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.async_noop\n")
    time.sleep(0.2)
    recovery.resend_unsent_actions()
    recovery.fail_silent_actions()
    recovery.redeliver_subworkflow_results()
    assert api.request("GET", f"/executions/{ex_id}").json()["state"] == "RUNNING"
