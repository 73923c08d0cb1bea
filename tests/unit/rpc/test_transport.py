"""The process's RabbitMQ listeners look again when a message wakes them, not every millisecond."""

from __future__ import annotations

import pytest
from oslo_messaging._drivers import amqpdriver

from mistral import config
from mistral.rpc import transport


@pytest.fixture
def first_look(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(amqpdriver, "ACK_REQUEUE_EVERY_SECONDS_MIN", 0.001)


@pytest.mark.usefixtures("first_look")
def test_idle_listeners_wait_at_least_the_minimum() -> None:
    transport.calm_idle_listeners()
    assert amqpdriver.ACK_REQUEUE_EVERY_SECONDS_MIN == transport.IDLE_POLL_MIN


def test_a_longer_wait_set_elsewhere_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(amqpdriver, "ACK_REQUEUE_EVERY_SECONDS_MIN", 1.0)
    transport.calm_idle_listeners()
    assert amqpdriver.ACK_REQUEUE_EVERY_SECONDS_MIN == 1.0


@pytest.mark.usefixtures("first_look")
def test_a_rabbit_transport_calms_its_listeners_and_the_local_one_leaves_them() -> None:
    try:
        transport.reset()
        transport.get_transport()  # the in-process transport of the tests
        assert amqpdriver.ACK_REQUEUE_EVERY_SECONDS_MIN == 0.001
        transport.reset()
        config.CONF.set_override("transport_url", "rabbit://guest:guest@127.0.0.1:1/none")
        transport.get_transport()  # connects only on first use
        assert amqpdriver.ACK_REQUEUE_EVERY_SECONDS_MIN == transport.IDLE_POLL_MIN
    finally:
        config.CONF.clear_override("transport_url")
        transport.reset()
