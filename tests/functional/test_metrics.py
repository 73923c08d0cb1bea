"""``GET /metrics``, ``/healthcheck`` and ``/v2/info`` of a live server, read as an operator's tools do.

Each series the issue names exists, and those a workflow run moves, move: executions started and
finished, task and action durations, actions running, results applied and their apply latency,
the engine's share of a hop, the scheduler's lag. Database retries and RPC timeouts are there (at
rest at zero, or without a sample yet): their tests make them happen (tests/unit/db/test_retry.py,
tests/unit/rpc/test_clients.py).
"""

from __future__ import annotations

from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests import polling
from tests.functional import runs
from tests.functional.conftest import Server

FLOW = """
version: '2.0'
wf:
  tasks:
    fan:
      action: std.echo output=1
      on-success: [items, later]
    items:
      with-items: x in <% [1, 2, 3] %>
      action: std.echo output=<% $.x %>
    later:
      wait-before: 1
      action: std.noop
failing:
  tasks:
    boom:
      action: std.fail
slow:
  tasks:
    nap:
      action: std.sleep seconds=1.5
"""

#: family name -> how it appears in a scrape (prometheus_client drops ``_total`` from a counter's family)
FAMILIES = {
    "mistral_executions_started": "counter",
    "mistral_executions_finished": "counter",
    "mistral_task_duration_seconds": "histogram",
    "mistral_action_duration_seconds": "histogram",
    "mistral_executor_actions_queued": "gauge",
    "mistral_executor_actions_running": "gauge",
    "mistral_engine_results_applied": "counter",
    "mistral_engine_apply_seconds": "histogram",
    "mistral_engine_hop_seconds": "histogram",
    "mistral_work_item_claim_seconds": "histogram",
    "mistral_scheduler_lag_seconds": "histogram",
    "mistral_db_transaction_retries": "counter",
    "mistral_rpc_timeouts": "counter",
}


def _scrape(server: Server) -> dict[str, Any]:
    resp = requests.get(f"{server.url}/metrics", timeout=30)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/plain"), resp.text
    return {family.name: family for family in text_string_to_metric_families(resp.text)}


def _total(families: dict[str, Any], sample: str, **labels: str) -> float:
    """The sum of ``sample`` over the series whose labels include ``labels``."""
    family = families[sample.removesuffix("_total").removesuffix("_count").removesuffix("_sum")]
    return sum(s.value for s in family.samples if s.name == sample and labels.items() <= s.labels.items())


def _scrape_once_counted(server: Server, before: dict[str, Any], finished: int) -> dict[str, Any] | None:
    """A scrape that counts ``finished`` more executions than ``before``, else None."""
    now = _scrape(server)
    name = "mistral_executions_finished_total"
    return now if _total(now, name) - _total(before, name) == finished else None


def _start(api: Server, name: str) -> str:
    created = api.request("POST", "/executions", json={"workflow_name": name})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def test_each_series_exists_and_a_run_moves_them(api: Server) -> None:
    assert api.request("POST", "/workflows", data=FLOW, headers=runs.TEXT).status_code == 201
    before = _scrape(api)
    assert {name: before[name].type for name in FAMILIES} == FAMILIES

    slow = _start(api, "slow")
    running = polling.wait_for(
        "an action running on the executor",
        lambda: _total(_scrape(api), "mistral_executor_actions_running") or None,
    )
    assert running >= 1
    runs.wait(api, _start(api, "wf"), "SUCCESS")
    runs.wait(api, _start(api, "failing"), "ERROR")
    runs.wait(api, slow, "SUCCESS")
    # NOTE: a unit of work is counted right after its commit, which a client may see first.
    after = polling.wait_for("the last executions counted", lambda: _scrape_once_counted(api, before, 3))

    def moved(sample: str, **labels: str) -> float:
        return _total(after, sample, **labels) - _total(before, sample, **labels)

    assert moved("mistral_executions_started_total") == 3
    assert moved("mistral_executions_finished_total", state="SUCCESS") == 2
    assert moved("mistral_executions_finished_total", state="ERROR") == 1
    assert moved("mistral_task_duration_seconds_count", state="SUCCESS") == 4  # fan, items, later, nap
    assert moved("mistral_task_duration_seconds_count", state="ERROR") == 1
    assert moved("mistral_task_duration_seconds_sum", state="SUCCESS") >= 2.5  # later waited, nap slept
    assert moved("mistral_action_duration_seconds_count", state="SUCCESS") == 6  # 1 + 3 items + 1 + 1
    assert moved("mistral_action_duration_seconds_count", state="ERROR") == 1
    assert moved("mistral_engine_results_applied_total") == 7
    assert moved("mistral_engine_apply_seconds_count") >= 1
    assert moved("mistral_engine_hop_seconds_count") >= 1  # fan's result sent items and later
    assert moved("mistral_scheduler_lag_seconds_count") >= 1  # the wait-before's timer
    assert _total(after, "mistral_executor_actions_running") == 0
    assert _total(after, "mistral_executor_actions_queued") == 0
    assert moved("mistral_db_transaction_retries_total") >= 0


def test_healthcheck(server: Server) -> None:
    resp = requests.get(f"{server.url}/healthcheck", timeout=30)
    # NOTE: without backends oslo.middleware gives no reason, only the status.
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/plain")
    head = requests.head(f"{server.url}/healthcheck", timeout=30)
    assert head.status_code in (200, 204)


def test_info_names_the_services_of_the_process(server: Server) -> None:
    info = requests.get(f"{server.v2}/info", timeout=30).json()  # NOTE: on without a setting
    assert set(info) == {"version", "build", "commit", "services"}
    assert info["services"] == ["api", "engine", "executor", "notifier"]
    assert info["build"] == (info["commit"] or info["version"])
