"""What an execution waits for, through the real client and CLI: its report and ``/waits``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.conftest import Server
from tests.polling import wait_execution, wait_for

# NOTE: each CLI call costs a process start; the queries are covered on both backends in tests/unit.
pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)

WORKFLOWS = """
version: '2.0'
three_then_fail:
  tasks:
    a:
      action: std.noop
      on-success: [b, c]
    b:
      action: std.noop
    c:
      action: std.noop
      on-success: d
    d:
      action: std.fail
waiting:
  tasks:
    start:
      action: std.noop
      on-success: [hold, retried, items, delayed, joined]
    hold:
      action: std.async_noop
      on-success: joined
    joined:
      join: all
      action: std.noop
    retried:
      action: std.fail
      retry: {count: 3, delay: 20, backoff: 2.0, max-delay: 60}
    items:
      with-items: i in <% [1, 2, 3] %>
      concurrency: 1
      action: std.async_noop
    delayed:
      wait-before: 30
      action: std.noop
"""


@pytest.fixture
def wfs(client: Any) -> Any:
    client.workflows.create(WORKFLOWS)
    return client


def test_cli_report_counts_every_task_of_the_run(cli: Any, wfs: Any) -> None:
    ex = wfs.executions.create("three_then_fail")
    assert wait_execution(wfs, ex.id).state == "ERROR"
    # NOTE: the CLI asks for errors only by default: the tree shows the failed task alone,
    # the statistics still count the whole run.
    report = cli("execution-get-report", ex.id).stdout
    assert "Number of tasks in SUCCESS state: 3" in report
    assert "Number of tasks in ERROR state: 1" in report
    assert "task 'd' [ERROR]" in report and "task 'a'" not in report


def _by_task(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {w["task_name"]: w["reasons"] for w in body["waits"]}


def _settled(api: Server, ex_id: str) -> dict[str, Any] | None:
    """The waits once every branch has reached its wait (the async actions taken, the retry delayed)."""
    body = api.request("GET", f"/executions/{ex_id}/waits").json()
    waits = _by_task(body)
    kinds = {name: [r["kind"] for r in reasons] for name, reasons in waits.items()}
    wanted = {
        "hold": ["async-result"],
        "joined": ["join"],
        "retried": ["retry"],
        "items": ["with-items", "async-result"],
        "delayed": ["wait-before"],
    }
    return body if kinds == wanted else None


def test_waits_and_the_report_say_what_each_task_waits_for(api: Server, wfs: Any) -> None:
    ex = wfs.executions.create("waiting")
    body = wait_for("every branch waiting", lambda: _settled(api, ex.id))
    assert (body["id"], body["state"]) == (ex.id, "RUNNING")
    waits = _by_task(body)
    (join,) = waits["joined"]
    assert join["data"]["waiting_for"] == ["hold"] and join["data"]["arrived"] == 1
    assert join["data"]["required"] == 2 and "'hold'" in join["message"]
    (retry,) = waits["retried"]
    assert retry["data"]["retry_no"] == 1 and retry["data"]["next_attempt_at"]
    (hold,) = waits["hold"]
    assert hold["data"]["executor"] and hold["data"]["taken_at"]
    items = waits["items"][0]["data"]
    assert (items["count"], items["running"], items["waiting"], items["concurrency"]) == (3, 1, 2, 1)
    assert "wait for a free slot (concurrency 1)" in waits["items"][0]["message"]
    assert waits["delayed"][0]["data"]["until"]

    # The report carries the same waits and the next attempt time; its statistics count every task.
    report = wfs.executions.get_report(ex.id, errors_only=False)
    tasks = {t["name"]: t for t in report["root_workflow_execution"]["task_executions"]}
    assert tasks["retried"]["next_retry_at"] == retry["data"]["next_attempt_at"]
    assert tasks["joined"]["waits"] == waits["joined"] and tasks["start"]["waits"] == []
    assert report["statistics"]["success_tasks_count"] == 1
    assert report["statistics"]["running_tasks_count"] == 4

    # A paused workflow: every task also waits for the resume.
    api.request("PUT", f"/executions/{ex.id}", json={"state": "PAUSED"})
    paused = _by_task(api.request("GET", f"/executions/{ex.id}/waits").json())
    assert all(reasons[-1]["kind"] == "paused" for reasons in paused.values())
    api.request("PUT", f"/executions/{ex.id}", json={"state": "CANCELLED"})
    done = api.request("GET", f"/executions/{ex.id}/waits").json()
    assert (done["state"], done["waits"]) == ("CANCELLED", [])
    missing = api.request("GET", "/executions/00000000-0000-0000-0000-000000000000/waits")
    assert missing.status_code == 404 and "faultstring" in missing.json()
