"""The in-process transport: what a stopping server does with the messages already queued for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import oslo_messaging
import pytest

from mistral.rpc import transport


@pytest.fixture
def local() -> Iterator[Any]:
    transport.reset()
    yield transport.get_transport()
    transport.reset()


def test_a_stopped_listener_still_hands_over_what_is_queued(local: Any) -> None:
    # NOTE: nothing but this process would ever read these messages (a broker
    # would keep them for another consumer), so stopping must not drop them.
    target = oslo_messaging.Target(topic="t_drain", server="s1")
    adapter = local._driver.listen(target, 1, None)
    listener = adapter._poll_style_listener
    client = oslo_messaging.get_rpc_client(local, oslo_messaging.Target(topic="t_drain"))
    for i in range(3):
        client.cast({}, "record", i=i)
    listener.stop()
    drained = []
    while batch := listener.poll(timeout=0.1):
        drained.extend(batch)
    assert [m.message["args"]["i"] for m in drained] == [0, 1, 2]


def test_a_stopped_listener_with_nothing_queued_returns_at_once(local: Any) -> None:
    adapter = local._driver.listen(oslo_messaging.Target(topic="t_empty", server="s1"), 1, None)
    listener = adapter._poll_style_listener
    listener.stop()
    assert listener.poll(timeout=5) == []
