"""The webhook publisher against a real local HTTP server, and the egress guard it shares with std.http."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mistral.notifier import publishers
from tests.conftest import Override
from tests.functional.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    got = Receiver()
    yield got
    got.stop()


def test_a_webhook_posts_the_payload_with_its_headers_and_the_event_id(receiver: Receiver) -> None:
    hook = {"type": "webhook", "url": receiver.url, "headers": {"X-Auth": "t"}}
    publishers.publish(hook, "ev-1", {"event": "TASK_LAUNCHED", "name": "t"}, timeout=5)
    assert receiver.events == [{"event": "TASK_LAUNCHED", "name": "t"}]
    (headers,) = receiver.headers
    assert headers["X-Auth"] == "t" and headers["X-Mistral-Event-Id"] == "ev-1"
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("status", [500, 404, 302])
def test_an_answer_other_than_2xx_is_a_failed_delivery(receiver: Receiver, status: int) -> None:
    receiver.status = status
    with pytest.raises(publishers.DeliveryError, match=f"HTTP {status}"):
        publishers.publish({"type": "webhook", "url": receiver.url}, "ev", {}, timeout=5)


def test_a_receiver_that_is_down_is_a_failed_delivery(receiver: Receiver) -> None:
    receiver.stop()
    with pytest.raises(publishers.DeliveryError, match="ConnectionError"):
        publishers.publish({"type": "webhook", "url": receiver.url}, "ev", {}, timeout=5)


def test_a_denied_network_is_refused(receiver: Receiver, override_conf: Override) -> None:
    override_conf("action_http", "denied_networks", ["127.0.0.0/8"])
    with pytest.raises(publishers.DeliveryError, match="denied_networks"):
        publishers.publish({"type": "webhook", "url": receiver.url}, "ev", {}, timeout=5)
    assert receiver.events == [] and receiver.refused == 0


def test_noop_sends_nothing() -> None:
    publishers.publish({"type": "noop"}, "ev", {}, timeout=5)


def test_a_publisher_is_described_without_query_or_credentials() -> None:
    hook = {"type": "webhook", "url": "https://u:pw@hooks.example:8443/in?token=abc", "headers": {"A": "b"}}
    assert publishers.describe(hook) == "webhook https://hooks.example:8443/in"
