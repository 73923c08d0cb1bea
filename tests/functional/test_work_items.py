"""External workers' queues through plain HTTP on a live server (the client has no call for them).

A task with ``queue:`` or the action ``std.external`` waits for a worker: claimed with
``POST /v2/work_items/claim``, kept with ``PUT .../lease``, answered with the action execution's PUT.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from mistral import config
from mistral.engine import recovery
from tests import polling
from tests.functional import runs
from tests.functional.conftest import Server

FLOW = """
version: '2.0'
wf:
  input:
    - size: 1
  tasks:
    resize:
      action: std.external
      input:
        size: <% $.size %>
      tags: [gpu, large]
      publish:
        area: <% task().result.w * task().result.h %>
      on-success: report
    report:
      queue: reports
      action: std.echo output=<% $.area %>
"""

RETRIED = """
version: '2.0'
wf:
  tasks:
    flaky:
      action: std.external
      queue: flaky
      retry:
        count: 1
        delay: 0
"""

ITEMS = """
version: '2.0'
wf:
  tasks:
    each:
      with-items: n in <% range(0, 6) %>
      action: std.external n=<% $.n %>
      queue: many
      publish:
        total: <% task().result.select($.n).sum() %>
"""

LEASE = "X-Mistral-Lease-Token"


def claim(api: Server, queue: str, **body: Any) -> list[dict[str, Any]]:
    answer = api.request("POST", "/work_items/claim", json={"queue": queue, **body})
    assert answer.status_code == 200, answer.text
    return answer.json()["work_items"]


def report(
    api: Server, item: dict[str, Any], output: Any, *, token: bool = True, state: str = "SUCCESS"
) -> Any:
    headers = {LEASE: item["lease_token"]} if token else {}
    body = {"state": state, "output": output}
    return api.request("PUT", f"/action_executions/{item['action_execution_id']}", json=body, headers=headers)


def claim_one(api: Server, queue: str, **body: Any) -> dict[str, Any]:
    return polling.wait_for(f"an item of {queue}", lambda: claim(api, queue, **body), timeout=10)[0]


def test_a_queued_task_runs_on_the_worker_that_claims_it_and_the_workflow_goes_on(api: Server) -> None:
    ex_id = runs.start(api, FLOW)
    started = api.request("POST", "/executions", json={"workflow_name": "wf", "input": {"size": 3}}).json()
    # The first execution takes the default size (1), the second 3.
    assert claim(api, "default", tags=["missing"]) == []
    items = polling.wait_for("two items", lambda: claim(api, "default", tags=["gpu"], max=5, lease=5) or None)
    while len(items) < 2:
        items += claim(api, "default", tags=["large", "gpu"], max=5, lease=5, wait=2)
    by_ex = {i["workflow_execution_id"]: i for i in items}
    item = by_ex[started["id"]]
    assert item["task_name"] == "resize" and item["queue"] == "default"
    assert sorted(item["tags"]) == ["gpu", "large"] and item["input"] == {"size": 3}
    assert item["attempt"] == 1 and item["lease_expires_at"] and item["lease_token"]
    assert claim(api, "default") == []  # NOTE: held items are nobody else's

    renewed = api.request(
        "PUT", f"/work_items/{item['id']}/lease", json={"lease": 30}, headers={LEASE: item["lease_token"]}
    )
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["lease_expires_at"] > item["lease_expires_at"]

    assert report(api, item, {"w": 2, "h": 3}).status_code == 200
    # The second task goes to the queue "reports" (std.echo, run by a worker, not an executor).
    echo = claim_one(api, "reports")
    assert echo["input"] == {"output": 6} and echo["task_name"] == "report"
    assert report(api, echo, {"printed": True}).status_code == 200
    done = runs.wait(api, started["id"], "SUCCESS")
    assert '"area": 6' in done["output"]

    shown = api.request("GET", f"/work_items/{item['id']}").json()
    assert shown["state"] == "done" and "lease_token" not in shown
    listed = api.request("GET", "/work_items", params={"queue": "default", "state": "claimed"}).json()
    assert [i["workflow_execution_id"] for i in listed["work_items"]] == [ex_id]
    assert report(api, by_ex[ex_id], {"w": 1, "h": 1}).status_code == 200
    assert report(api, claim_one(api, "reports"), {}).status_code == 200
    runs.wait(api, ex_id, "SUCCESS")


def test_a_result_from_a_lease_claimed_again_is_refused_and_the_action_completes_once(api: Server) -> None:
    ex_id = runs.start(api, RETRIED)
    first = claim_one(api, "flaky", lease=0.2, worker="slow")
    time.sleep(0.3)
    second = claim_one(api, "flaky", lease=30, worker="fast")
    assert second["id"] == first["id"] and second["attempt"] == 2 and second["worker"] == "fast"

    refused = report(api, first, {"from": "slow"})
    assert refused.status_code == 409 and "no longer held" in refused.json()["faultstring"]
    heartbeat = api.request(
        "PUT", f"/work_items/{first['id']}/lease", json={"lease": 5}, headers={LEASE: first["lease_token"]}
    )
    assert heartbeat.status_code == 409
    assert report(api, second, {"from": "fast"}).status_code == 200
    assert report(api, second, {"again": True}).status_code == 409
    runs.wait(api, ex_id, "SUCCESS")
    actions = api.request("GET", "/action_executions", params={"task_name": "flaky"}).json()[
        "action_executions"
    ]
    assert (
        len(actions) == 1
        and '"from": "fast"' in api.request("GET", f"/action_executions/{actions[0]['id']}").json()["output"]
    )


def test_a_lease_that_expires_too_often_fails_the_action_and_a_release_gives_the_item_back(
    api: Server,
) -> None:
    ex_id = runs.start(api, RETRIED.replace("count: 1", "count: 0"))
    item = claim_one(api, "flaky", lease=5)
    released = api.request("DELETE", f"/work_items/{item['id']}/lease", headers={LEASE: item["lease_token"]})
    assert released.status_code == 204
    again = claim_one(api, "flaky", lease=0.1)
    assert again["attempt"] == 1  # NOTE: a release does not count as an attempt
    time.sleep(0.2)
    recovery.expire_work_leases()
    failed = runs.wait(api, ex_id, "ERROR")
    assert "lease expired 1 times" in failed["state_info"]
    assert api.request("GET", f"/work_items/{item['id']}").json()["state"] == "failed"


def test_with_items_spread_over_workers_and_cancel_withdraws_the_rest(api: Server) -> None:
    ex_id = runs.start(api, ITEMS)
    items: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while len(items) < 6 and time.monotonic() < deadline:
        items += claim(api, "many", max=4, wait=1)
    assert len(items) == 6 and len({i["id"] for i in items}) == 6
    for item in items:
        assert report(api, item, {"n": item["input"]["n"]}).status_code == 200
    done = runs.wait(api, ex_id, "SUCCESS")
    assert '"total": 15' in done["output"]

    ex_id = runs.start(api, ITEMS.replace("many", "withdrawn").replace("wf:", "withdrawn:"), "withdrawn")
    held = claim_one(api, "withdrawn", max=2)
    paused = api.request("PUT", f"/executions/{ex_id}", json={"state": "PAUSED"})
    assert paused.status_code == 200
    assert claim(api, "withdrawn", max=10) == []
    states = {
        i["state"]
        for i in api.request("GET", "/work_items", params={"workflow_execution_id": ex_id}).json()[
            "work_items"
        ]
    }
    assert states == {"claimed", "paused"}
    assert api.request("PUT", f"/executions/{ex_id}", json={"state": "CANCELLED"}).status_code == 200
    assert report(api, held, {"n": 0}).status_code == 409
    states = {
        i["state"]
        for i in api.request("GET", "/work_items", params={"workflow_execution_id": ex_id}).json()[
            "work_items"
        ]
    }
    assert states == {"cancelled"}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({}, "'queue' must be"),
        ({"queue": "q", "max": 0}, "'max' must be between"),
        ({"queue": "q", "max": 1.5}, "'max' must be a whole number"),
        ({"queue": "q", "lease": "long"}, "'lease' must be a number"),
        ({"queue": "q", "wait": 3600}, "'wait' must be between"),
        ({"queue": "q", "tags": "gpu"}, "'tags' must be a list"),
        ({"queue": "q", "tags": ["a,b"]}, "without commas"),
        ({"queue": "q", "colour": "red"}, "Unknown attribute for the request body: colour"),
    ],
)
def test_a_bad_claim_is_a_400_naming_the_problem(api: Server, body: dict[str, Any], problem: str) -> None:
    answer = api.request("POST", "/work_items/claim", json=body)
    assert answer.status_code == 400 and problem in answer.json()["faultstring"], answer.text


def test_unknown_items_are_404_and_queue_depth_is_in_metrics(api: Server, server: Server) -> None:
    assert api.request("GET", "/work_items/nope").status_code == 404
    assert api.request("PUT", "/work_items/nope/lease", json={"lease": 1}).status_code == 404
    runs.start(api, RETRIED.replace("flaky", "metered"))
    polling.wait_for(
        "a queued item",
        lambda: api.request("GET", "/work_items", params={"queue": "metered"}).json()["work_items"],
    )
    text = polling.wait_for("the metrics", lambda: _metrics(server))
    samples = {
        (s.labels["queue"], s.labels["state"]): s.value
        for family in text_string_to_metric_families(text)
        if family.name == "mistral_work_items"
        for s in family.samples
    }
    assert samples[("metered", "queued")] == 1


def _metrics(server: Server) -> str:
    import requests

    answer = requests.get(f"{server.url}/metrics", timeout=10)
    return answer.text if answer.status_code == 200 else ""


def test_a_waiting_claim_gets_an_item_queued_meanwhile(api: Server) -> None:
    got: list[dict[str, Any]] = []
    waiter = threading.Thread(target=lambda: got.extend(claim(api, "later", wait=5)))
    waiter.start()
    time.sleep(0.3)
    assert config.CONF.api.api_workers >= 2
    ex_id = runs.start(api, RETRIED.replace("flaky", "later"))
    waiter.join(timeout=10)
    assert len(got) == 1 and got[0]["workflow_execution_id"] == ex_id


def test_std_external_run_through_the_api_waits_in_the_default_queue(api: Server) -> None:
    run = api.request("POST", "/action_executions", json={"name": "std.external", "input": {"a": 1}})
    assert run.status_code == 201 and run.json()["state"] == "RUNNING"
    item = claim_one(api, "default")
    assert item["action_execution_id"] == run.json()["id"] and item["input"] == {"a": 1}
    assert item["workflow_execution_id"] is None and item["task_name"] is None
    assert report(api, item, {"b": 2}).status_code == 200
    done = api.request("GET", f"/action_executions/{item['action_execution_id']}").json()
    assert done["state"] == "SUCCESS" and '"b": 2' in done["output"]


def test_waits_tell_a_queued_item_from_one_a_worker_holds(api: Server) -> None:
    ex_id = runs.start(api, RETRIED.replace("queue: flaky", "queue: watched\n      tags: [gpu]"))

    def reason() -> dict[str, Any] | None:
        waits = api.request("GET", f"/executions/{ex_id}/waits").json()["waits"]
        found = [r for w in waits if w["task_name"] == "flaky" for r in w["reasons"]]
        return found[0] if found and found[0]["kind"] == "worker-queue" else None

    queued = polling.wait_for("the queue's wait", reason)
    assert queued["data"]["queue"] == "watched" and queued["data"]["tags"] == ["gpu"]
    assert "no worker has claimed it" in queued["message"], queued

    item = claim_one(api, "watched", worker="gpu-box", lease=30)
    held = reason()
    assert held is not None and held["data"]["worker"] == "gpu-box" and held["data"]["attempt"] == 1
    assert "held by worker 'gpu-box'" in held["message"], held
    assert report(api, item, {"ok": True}).status_code == 200
    runs.wait(api, ex_id, "SUCCESS")
