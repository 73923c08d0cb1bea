"""``notify`` webhooks end to end: the real python-mistralclient starts, a local receiver listens.

The embedded server runs the notifier (``--server all`` does too); the receiver
is a stdlib HTTP server in a thread that can answer 500 or be down for a while.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Override
from tests.functional import runs
from tests.functional.conftest import Server
from tests.functional.receiver import Receiver
from tests.polling import wait_execution, wait_for

WORKFLOWS = """
version: '2.0'
hello:
  tasks:
    greet:
      action: std.echo output=hi
      on-success: bye
    bye:
      action: std.echo output=bye
failing:
  tasks:
    boom:
      action: std.fail
outer:
  tasks:
    inner:
      workflow: hello
slow:
  tasks:
    nap:
      action: std.async_noop
      on-success: after
    after:
      action: std.noop
"""

#: The events of one ``hello`` run, in the order its state changes were committed.
HELLO = [
    ("WORKFLOW_LAUNCHED", "hello"),
    ("TASK_LAUNCHED", "greet"),
    ("TASK_SUCCEEDED", "greet"),
    ("TASK_LAUNCHED", "bye"),
    ("TASK_SUCCEEDED", "bye"),
    ("WORKFLOW_SUCCEEDED", "hello"),
]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    got = Receiver()
    yield got
    got.stop()


@pytest.fixture
def fast_retries(override_conf: Override) -> None:
    override_conf("notifier", "retry_initial_delay", 0.1)
    override_conf("notifier", "retry_max_delay", 0.5)


@pytest.fixture
def workflows(client: Any) -> Any:
    client.workflows.create(WORKFLOWS)
    return client


def _wait(client: Any, ex_id: str, state: str, timeout: float = 30.0) -> Any:
    return wait_execution(client, ex_id, state, timeout=timeout)


def _hook(receiver: Receiver, **extra: Any) -> list[dict[str, Any]]:
    return [{"type": "webhook", "url": receiver.url, **extra}]


def test_a_webhook_gets_the_execution_and_task_events_in_order(workflows: Any, receiver: Receiver) -> None:
    ex = workflows.executions.create("hello", notify=_hook(receiver, headers={"X-Auth": "s3cret"}))
    assert json.loads(ex.params)["notify"][0]["url"] == receiver.url
    _wait(workflows, ex.id, "SUCCESS")
    events = receiver.wait_for(len(HELLO))
    assert receiver.names() == HELLO
    tasks = {t.name: t for t in workflows.tasks.list(ex.id)}
    first, succeeded = events[0], events[2]
    assert first["id"] == ex.id and first["state"] == "RUNNING" and first["workflow_name"] == "hello"
    assert set(first) >= {"workflow_id", "root_execution_id", "project_id", "task_execution_id", "created_at"}
    assert succeeded["id"] == tasks["greet"].id and succeeded["state"] == "SUCCESS"
    assert succeeded["workflow_execution_id"] == ex.id and succeeded["type"] == "ACTION"
    assert all(h["X-Auth"] == "s3cret" for h in receiver.headers)
    assert len({h["X-Mistral-Event-Id"] for h in receiver.headers}) == len(HELLO)
    time.sleep(0.5)
    assert len(receiver.events) == len(HELLO), "nothing arrives twice"


def test_event_types_choose_what_is_sent(workflows: Any, receiver: Receiver) -> None:
    ex = workflows.executions.create(
        "failing", notify=_hook(receiver, event_types=["TASK_FAILED", "WORKFLOW_FAILED"])
    )
    _wait(workflows, ex.id, "ERROR")
    receiver.wait_for(2)
    assert receiver.names() == [("TASK_FAILED", "boom"), ("WORKFLOW_FAILED", "failing")]


def test_a_sub_workflow_notifies_the_publishers_of_its_parent(workflows: Any, receiver: Receiver) -> None:
    ex = workflows.executions.create("outer", notify=_hook(receiver))
    _wait(workflows, ex.id, "SUCCESS")
    events = receiver.wait_for(4 + len(HELLO))
    mine = [e["id"] == ex.id or e.get("workflow_execution_id") == ex.id for e in events]
    outer = [(e["event"], e["name"]) for e, m in zip(events, mine, strict=True) if m]
    inner = [(e["event"], e["name"]) for e, m in zip(events, mine, strict=True) if not m]
    assert outer == [
        ("WORKFLOW_LAUNCHED", "outer"),
        ("TASK_LAUNCHED", "inner"),
        ("TASK_SUCCEEDED", "inner"),
        ("WORKFLOW_SUCCEEDED", "outer"),
    ]
    assert inner == HELLO


def _wait_task_state(client: Any, ex_id: str, name: str, state: str) -> Any:
    return wait_for(
        f"task {name} of {ex_id} to reach {state}",
        lambda: next((t for t in client.tasks.list(ex_id) if t.name == name and t.state == state), None),
        30,
    )


def test_pause_resume_and_rerun_make_the_events_mistral_sends(workflows: Any, receiver: Receiver) -> None:
    """The sequences OpenStack Mistral 23.0.0 sends for the same steps (seen black-box)."""
    ex = workflows.executions.create("slow", notify=_hook(receiver))
    nap = _wait_task_state(workflows, ex.id, "nap", "RUNNING")
    (action_ex,) = workflows.action_executions.list(nap.id)
    workflows.executions.update(ex.id, "PAUSED")
    workflows.action_executions.update(action_ex.id, state="SUCCESS", output='{"done": true}')
    _wait_task_state(workflows, ex.id, "nap", "SUCCESS")
    workflows.executions.update(ex.id, "RUNNING")
    _wait(workflows, ex.id, "SUCCESS")
    receiver.wait_for(8)
    assert receiver.names() == [
        ("WORKFLOW_LAUNCHED", "slow"),
        ("TASK_LAUNCHED", "nap"),
        ("WORKFLOW_PAUSED", "slow"),
        ("TASK_SUCCEEDED", "nap"),
        ("WORKFLOW_RESUMED", "slow"),
        ("TASK_LAUNCHED", "after"),
        ("TASK_SUCCEEDED", "after"),
        ("WORKFLOW_SUCCEEDED", "slow"),
    ]
    del receiver.events[:]
    failed = workflows.executions.create("failing", notify=_hook(receiver))
    _wait(workflows, failed.id, "ERROR")
    (boom,) = workflows.tasks.list(failed.id)
    receiver.wait_for(4)
    workflows.tasks.rerun(boom.id)
    _wait_task_state(workflows, failed.id, "boom", "ERROR")
    _wait(workflows, failed.id, "ERROR")
    receiver.wait_for(8)
    assert receiver.names() == [
        ("WORKFLOW_LAUNCHED", "failing"),
        ("TASK_LAUNCHED", "boom"),
        ("TASK_FAILED", "boom"),
        ("WORKFLOW_FAILED", "failing"),
        ("WORKFLOW_RERUN", "failing"),
        ("TASK_RERUN", "boom"),
        ("TASK_FAILED", "boom"),
        ("WORKFLOW_FAILED", "failing"),
    ]


def test_a_receiver_answering_500_for_a_while_gets_every_event_in_order(
    workflows: Any, receiver: Receiver, fast_retries: None
) -> None:
    receiver.status = 500
    ex = workflows.executions.create("hello", notify=_hook(receiver))
    _wait(workflows, ex.id, "SUCCESS")
    deadline = time.monotonic() + 10
    while receiver.refused < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert receiver.refused >= 3 and receiver.events == []
    receiver.status = 200
    receiver.wait_for(len(HELLO))
    time.sleep(0.5)
    assert receiver.names() == HELLO


def test_a_receiver_that_is_down_gets_every_event_once_it_is_back(
    workflows: Any, receiver: Receiver, fast_retries: None
) -> None:
    receiver.stop()
    ex = workflows.executions.create("hello", notify=_hook(receiver))
    _wait(workflows, ex.id, "SUCCESS")
    time.sleep(1.0)  # several attempts fail with "connection refused"
    receiver.start()
    receiver.wait_for(len(HELLO))
    time.sleep(0.5)
    assert receiver.names() == HELLO


@pytest.mark.parametrize(
    ("notify", "message"),
    [
        ('[{"type": "webhook"}]', "params.notify[0].url' must be an http"),
        ('[{"type": "email", "url": "http://x"}]', "params.notify[0].type' must be one of webhook, noop"),
        ('{"type": "noop", "event_types": ["TASK_DONE"]}', "unknown events TASK_DONE"),
        ("42", "'params.notify' must be a list of publishers, got int"),
        ('"everything"', "'params.notify' is not valid JSON"),
    ],
)
def test_a_bad_notify_is_refused_with_400_naming_the_problem(api: Server, notify: str, message: str) -> None:
    assert api.request("POST", "/workflows", data=WORKFLOWS, headers=runs.TEXT).status_code == 201
    params = json.dumps({"notify": json.loads(notify)})
    resp = api.request("POST", "/executions", json={"workflow_name": "hello", "params": params})
    assert resp.status_code == 400, resp.text
    assert message in resp.json()["faultstring"]
    assert api.request("GET", "/executions").json()["executions"] == []
