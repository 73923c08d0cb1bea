"""std.amqp and std.amqp_wait in a workflow run through the real client, against the machine's RabbitMQ."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import kombu
import pytest

from tests import polling

ASK = """
version: '2.0'
ask:
  input: [url, requests, replies]
  output:
    answer: <% $.answer %>
  tasks:
    send:
      action: std.amqp
      input:
        url: <% $.url %>
        queue: <% $.requests %>
        body: {question: deploy}
        headers: {x-origin: mistral}
        correlation_id: <% execution().id %>
        reply_to: <% $.replies %>
      on-success: [receive]
    receive:
      action: std.amqp_wait
      input:
        url: <% $.url %>
        queue: <% $.replies %>
        correlation_id: <% execution().id %>
        timeout: 10
        poll_interval: 0.05
      publish:
        answer: <% task().result %>
"""


@pytest.fixture
def queues(amqp_url: str) -> Iterator[tuple[str, str]]:
    names = (f"mistral-req-{uuid.uuid4().hex[:8]}", f"mistral-rep-{uuid.uuid4().hex[:8]}")
    yield names
    with kombu.Connection(amqp_url) as conn:
        for name in names:
            kombu.Queue(name, channel=conn.default_channel).delete()


def _answer_one(url: str, requests: str, stop: threading.Event) -> None:
    """A service: takes one request and replies to its reply_to with its correlation id."""
    with kombu.Connection(url) as conn:
        queue = kombu.Queue(requests, durable=True, auto_delete=False, channel=conn.default_channel)
        queue.declare()
        while not stop.is_set():
            message = queue.get(no_ack=True)
            if message is None:
                time.sleep(0.05)
                continue
            question = message.decode()["question"]
            conn.Producer().publish(
                {"answer": f"{question}: done", "origin": message.headers.get("x-origin")},
                routing_key=message.properties["reply_to"],
                correlation_id=message.properties["correlation_id"],
                serializer="json",
            )
            return


def test_a_workflow_publishes_and_waits_for_the_reply(
    client: Any, amqp_url: str, queues: tuple[str, str]
) -> None:
    requests, replies = queues
    assert client.workflows.validate(ASK) == {"valid": True}
    client.workflows.create(ASK)
    stop = threading.Event()
    service = threading.Thread(target=_answer_one, args=(amqp_url, requests, stop), daemon=True)
    service.start()
    try:
        ex = client.executions.create(
            "ask", workflow_input={"url": amqp_url, "requests": requests, "replies": replies}
        )
        ex = polling.wait_execution(client, ex.id)
    finally:
        stop.set()
        service.join(5)
    assert ex.state == "SUCCESS", ex.state_info
    assert (
        client.executions.get(ex.id).output == '{"answer": {"answer": "deploy: done", "origin": "mistral"}}'
    )
    tasks = {t.name: t for t in client.tasks.list(ex.id)}
    assert {name: t.state for name, t in tasks.items()} == {"send": "SUCCESS", "receive": "SUCCESS"}
    (wait_action,) = client.action_executions.list(tasks["receive"].id)
    assert (wait_action.name, wait_action.state) == ("std.amqp_wait", "SUCCESS")


def test_an_unreachable_broker_fails_the_task_with_a_reason(client: Any, queues: tuple[str, str]) -> None:
    client.workflows.create(ASK)
    inputs = {"url": "amqp://guest:secret@127.0.0.1:1//", "requests": queues[0], "replies": queues[1]}
    ex = polling.wait_execution(client, client.executions.create("ask", workflow_input=inputs).id)
    assert ex.state == "ERROR"
    (send,) = client.tasks.list(ex.id)
    assert send.state == "ERROR"
    assert "AMQP broker amqp://guest:**@127.0.0.1:1// unreachable" in send.state_info


WAIT_ONLY = """
version: '2.0'
wait_only:
  input: [url, replies]
  tasks:
    receive:
      action: std.amqp_wait
      input:
        url: <% $.url %>
        queue: <% $.replies %>
        correlation_id: <% execution().id %>
        timeout: 60
        poll_interval: 0.05
"""


def test_cancelling_the_execution_ends_the_wait_on_its_executor(
    client: Any, amqp_url: str, queues: tuple[str, str]
) -> None:
    client.workflows.create(WAIT_ONLY)
    ex = client.executions.create("wait_only", workflow_input={"url": amqp_url, "replies": queues[1]})
    (task,) = polling.wait_for("the receive task", lambda: client.tasks.list(ex.id))
    action = polling.wait_for(
        "the wait to be taken",
        lambda: next(iter(a for a in client.action_executions.list(task.id) if a.state == "RUNNING"), None),
    )
    waiter = polling.wait_for(
        "the wait's thread",
        lambda: next((t for t in threading.enumerate() if t.name == f"amqp-wait-{action.id}"), None),
    )
    client.executions.update(ex.id, "CANCELLED")
    waiter.join(10)
    assert not waiter.is_alive(), "the executor still waits for a cancelled action's reply"
    assert client.executions.get(ex.id).state == "CANCELLED"
    assert client.action_executions.get(action.id).state == "CANCELLED"
