"""std.amqp and std.amqp_wait against the machine's RabbitMQ, and the broker guard."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import kombu
import pytest
from mistral_lib.exceptions import ActionException

from mistral import exceptions
from mistral.actions import amqp_guard, async_results, registry
from mistral.actions.amqp import AMQPAction, AMQPWaitAction
from mistral.config import CONF
from mistral.executor.executor import Executor


@pytest.fixture
def queue_name(amqp_url: str) -> Iterator[str]:
    """A fresh queue name; the queue is deleted afterwards."""
    name = f"mistral-test-{uuid.uuid4().hex[:8]}"
    yield name
    with kombu.Connection(amqp_url) as conn:
        kombu.Queue(name, channel=conn.default_channel).delete()


def _take_all(url: str, queue: str) -> list[Any]:
    found = []
    with kombu.Connection(url) as conn:
        q = kombu.Queue(queue, channel=conn.default_channel)
        while (message := q.get(no_ack=True)) is not None:
            found.append(message)
    return found


def _reply(url: str, queue: str, body: Any, correlation_id: str) -> None:
    with kombu.Connection(url) as conn:
        conn.Producer().publish(
            body,
            routing_key=queue,
            correlation_id=correlation_id,
            serializer="json",
            declare=[kombu.Queue(queue, durable=True, auto_delete=False)],
        )


class _Completions:
    """A completer standing in for an executor: records outcomes, fails the first ``failures`` calls."""

    def __init__(self, failures: int = 0) -> None:
        self.outcomes: list[tuple[str, dict[str, Any], str | None]] = []
        self.failures = failures
        self.done = threading.Event()

    def __call__(self, action_ex_id: str, outcome: dict[str, Any], wf_ex_id: str | None) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("no engine answered")
        self.outcomes.append((action_ex_id, outcome, wf_ex_id))
        self.done.set()


@pytest.fixture
def completions() -> Iterator[_Completions]:
    completer = _Completions()
    async_results.install(completer)
    yield completer
    async_results.uninstall(completer)


def _context(action_ex_id: str = "act-1") -> Any:
    return SimpleNamespace(
        execution=SimpleNamespace(action_execution_id=action_ex_id, workflow_execution_id="wf-1")
    )


def test_publish_to_a_queue_carries_body_headers_and_properties(amqp_url: str, queue_name: str) -> None:
    result = AMQPAction(
        url=amqp_url,
        queue=queue_name,
        body={"deploy": [1, 2]},
        headers={"x-origin": "mistral"},
        correlation_id="corr-1",
        reply_to=queue_name,  # declared too: here, the same queue
    ).run(_context())
    assert result == {
        "exchange": "",
        "routing_key": queue_name,
        "correlation_id": "corr-1",
        "reply_to": queue_name,
    }
    (message,) = _take_all(amqp_url, queue_name)
    assert message.decode() == {"deploy": [1, 2]}
    assert message.headers == {"x-origin": "mistral"}
    assert (message.content_type, message.properties["correlation_id"], message.properties["reply_to"]) == (
        "application/json",
        "corr-1",
        queue_name,
    )
    assert message.properties["delivery_mode"] == 2


def test_publish_to_an_exchange_with_a_routing_key(amqp_url: str, queue_name: str) -> None:
    exchange = f"{queue_name}-x"
    with kombu.Connection(amqp_url) as conn:
        kombu.Queue(queue_name, kombu.Exchange(exchange, type="topic"), routing_key="deploy.*")(
            conn.default_channel
        ).declare()
    try:
        AMQPAction(
            url=amqp_url,
            exchange=exchange,
            exchange_type="topic",
            routing_key="deploy.web",
            body="plain words",
            content_type="text/plain",
        ).run(_context())
        (message,) = _take_all(amqp_url, queue_name)
        assert (message.decode(), message.content_type) == ("plain words", "text/plain")
    finally:
        with kombu.Connection(amqp_url) as conn:
            kombu.Exchange(exchange, channel=conn.default_channel).delete()


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"url": "http://127.0.0.1/", "queue": "q"}, "url must start with amqp:// or amqps://"),
        ({"url": "amqp://", "queue": "q"}, "url names no broker host"),
        ({"url": "amqp://h//", "queue": "q", "routing_key": "k"}, "give either queue or routing_key"),
        ({"url": "amqp://h//"}, "give either queue or routing_key"),
        (
            {"url": "amqp://h//", "queue": "q", "exchange": "x"},
            "queue publishes through the default exchange",
        ),
        ({"url": "amqp://h//", "queue": "q", "timeout": "soon"}, "timeout must be a number"),
    ],
)
def test_bad_input_is_refused_when_the_action_is_built(given: dict[str, Any], message: str) -> None:
    registry.load_system_actions()
    with pytest.raises(exceptions.InvalidActionError, match=message):
        registry.instantiate(registry.get_system_action("std.amqp"), given)


def test_an_unreachable_broker_fails_fast_with_the_password_masked() -> None:
    started = time.monotonic()
    with pytest.raises(ActionException) as info:
        AMQPAction(url="amqp://guest:s3cret@127.0.0.1:1//", queue="q", timeout=1).run(_context())
    assert "unreachable" in str(info.value) and "s3cret" not in str(info.value)
    assert time.monotonic() - started < 1


def test_a_refused_login_names_the_broker_not_the_password(amqp_url: str) -> None:
    bad = amqp_url.replace("guest:guest@", "guest:wrong-pw@")
    with pytest.raises(ActionException, match="ACCESS_REFUSED") as info:
        AMQPAction(url=bad, queue="q", timeout=2).run(_context())
    assert "wrong-pw" not in str(info.value)


def test_denied_networks_refuse_the_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CONF.action_amqp, "denied_networks", ["127.0.0.0/8"])
    with pytest.raises(ActionException, match=r"in 127\.0\.0\.0/8 of \[action_amqp\] denied_networks"):
        AMQPAction(url="amqp://guest:guest@127.0.0.1:5672//", queue="q", timeout=1).run(_context())


def test_the_virtual_host_of_mistral_s_own_rpc_is_refused_unless_allowed() -> None:
    CONF.set_override("transport_url", "rabbit://guest:guest@localhost:5672/")
    try:
        with pytest.raises(amqp_guard.RefusedError, match="allow_mistral_broker"):
            amqp_guard.check(amqp_guard.parse("amqp://u:p@127.0.0.1:5672//"))
        amqp_guard.check(amqp_guard.parse("amqp://u:p@127.0.0.1:5672/workflows"))  # another vhost
        CONF.set_override("allow_mistral_broker", True, group="action_amqp")
        amqp_guard.check(amqp_guard.parse("amqp://u:p@127.0.0.1:5672//"))
    finally:
        CONF.clear_override("transport_url")
        CONF.clear_override("allow_mistral_broker", group="action_amqp")


def test_wait_completes_with_the_matching_reply_and_leaves_the_others(
    amqp_url: str, queue_name: str, completions: _Completions
) -> None:
    action = AMQPWaitAction(
        url=amqp_url, queue=queue_name, correlation_id="mine", timeout=5, poll_interval=0.05
    )
    assert action.is_sync() is False
    _reply(amqp_url, queue_name, {"for": "someone else"}, "theirs")
    assert action.run(_context("act-1")) is None
    _reply(amqp_url, queue_name, {"status": "deployed"}, "mine")
    assert completions.done.wait(5)
    assert completions.outcomes == [("act-1", {"data": {"status": "deployed"}}, "wf-1")]
    time.sleep(0.1)  # the acknowledgement follows the report
    assert [m.properties["correlation_id"] for m in _take_all(amqp_url, queue_name)] == ["theirs"]


def test_a_reply_no_engine_confirmed_stays_queued_and_is_reported_again(
    amqp_url: str, queue_name: str
) -> None:
    completer = _Completions(failures=1)
    async_results.install(completer)
    try:
        _reply(amqp_url, queue_name, [1, 2, 3], "c-9")
        AMQPWaitAction(
            url=amqp_url, queue=queue_name, correlation_id="c-9", timeout=5, poll_interval=0.05
        ).run(_context("act-9"))
        assert completer.done.wait(5)
        assert completer.outcomes == [("act-9", {"data": [1, 2, 3]}, "wf-1")]
    finally:
        async_results.uninstall(completer)


def test_wait_fails_at_its_timeout(amqp_url: str, queue_name: str, completions: _Completions) -> None:
    AMQPWaitAction(
        url=amqp_url, queue=queue_name, correlation_id="never", timeout=0.3, poll_interval=0.05
    ).run(_context("act-2"))
    assert completions.done.wait(5)
    ((action_ex_id, outcome, _),) = completions.outcomes
    assert action_ex_id == "act-2"
    assert outcome["error"] == (
        f"No message with correlation_id 'never' arrived on queue '{queue_name}' within 0.3 seconds"
    )


def _waiter_of(action_ex_id: str) -> threading.Thread | None:
    return next((t for t in threading.enumerate() if t.name == f"amqp-wait-{action_ex_id}"), None)


def test_a_cancelled_wait_ends_without_a_result_and_leaves_its_reply_queued(
    amqp_url: str, queue_name: str, completions: _Completions
) -> None:
    AMQPWaitAction(url=amqp_url, queue=queue_name, correlation_id="c-5", timeout=30, poll_interval=0.05).run(
        _context("act-5")
    )
    waiter = _waiter_of("act-5")
    assert waiter is not None and waiter.is_alive()
    async_results.abandon(["act-5", "someone-elses"])
    assert not async_results.abandoned("someone-elses"), "only the waits held here are kept"
    waiter.join(5)
    assert not waiter.is_alive()
    assert "act-5" not in async_results.held_ids() and not async_results.abandoned("act-5")
    _reply(amqp_url, queue_name, {"late": True}, "c-5")
    time.sleep(0.2)
    assert completions.outcomes == []
    assert [m.properties["correlation_id"] for m in _take_all(amqp_url, queue_name)] == ["c-5"]


def test_wait_on_an_unreachable_broker_fails_at_once() -> None:
    with pytest.raises(ActionException, match="unreachable"):
        AMQPWaitAction(
            url="amqp://guest:guest@127.0.0.1:1//", queue="q", correlation_id="c", connect_timeout=1
        ).run(_context())


def test_the_executor_carries_async_results_while_it_runs() -> None:
    sent: list[list[dict[str, Any]]] = []
    executor = Executor(
        report=sent.append, heartbeat=lambda ids: None, flush_interval=0, heartbeat_interval=0
    )
    executor.start()
    try:
        async_results.complete("act-3", {"data": {"ok": True}}, "wf-3")
    finally:
        executor.stop()
    assert sent == [[{"action_ex_id": "act-3", "data": {"ok": True}, "workflow_execution_id": "wf-3"}]]
    with pytest.raises(async_results.NoCompleterError):
        async_results.complete("act-4", {"data": None})


def test_the_executor_heartbeats_a_wait_instead_of_reporting_it_started(
    amqp_url: str, queue_name: str
) -> None:
    sent: list[dict[str, Any]] = []
    beats: list[list[str]] = []
    executor = Executor(
        report=sent.extend, heartbeat=beats.append, flush_interval=0, heartbeat_interval=0.02, max_workers=2
    )
    executor.start()
    try:
        wait_input = {"url": amqp_url, "queue": queue_name, "correlation_id": "c-1", "poll_interval": 0.02}
        executor.run_actions(
            [
                {
                    "action_ex_id": "wait-1",
                    "action_name": "std.amqp_wait",
                    "input": wait_input,
                    "context": {"action_execution_id": "wait-1", "workflow_execution_id": "wf-1"},
                }
            ]
        )
        deadline = time.monotonic() + 5
        while not any("wait-1" in ids for ids in beats) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sent == [], "no 'started': the action stays this executor's"
        _reply(amqp_url, queue_name, {"done": True}, "c-1")
        while not sent and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        executor.stop()
    assert sent == [{"action_ex_id": "wait-1", "data": {"done": True}, "workflow_execution_id": "wf-1"}]
    assert any("wait-1" in ids for ids in beats)
    assert "wait-1" not in async_results.held_ids()
