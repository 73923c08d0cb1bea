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


@pytest.mark.parametrize("rpc_url", [None, ""])
def test_notifications_are_in_process_when_no_transport_is_set(rpc_url: str | None) -> None:
    """``transport_url =`` left empty in a configuration file means in-process, for RPC and events alike."""
    try:
        if rpc_url is not None:
            config.CONF.set_override("transport_url", rpc_url)
        assert transport.notification_transport_url() == transport.LOCAL_URL
        notifications = transport.get_notification_transport()
        assert notifications.conf is config.CONF
        notifications.cleanup()
    finally:
        config.CONF.clear_override("transport_url")


def test_notifications_take_their_own_url_else_the_rpc_one() -> None:
    try:
        config.CONF.set_override("transport_url", "rabbit://guest:guest@127.0.0.1:1/rpc")
        assert transport.notification_transport_url() == "rabbit://guest:guest@127.0.0.1:1/rpc"
        config.CONF.set_override(
            "transport_url", "rabbit://guest:guest@127.0.0.1:1/events", group="oslo_messaging_notifications"
        )
        assert transport.notification_transport_url() == "rabbit://guest:guest@127.0.0.1:1/events"
    finally:
        config.CONF.clear_override("transport_url")
        config.CONF.clear_override("transport_url", group="oslo_messaging_notifications")
