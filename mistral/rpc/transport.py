"""The oslo.messaging transport every RPC client and server of this process shares."""

from __future__ import annotations

import threading
from typing import Any

import oslo_messaging

from mistral import config
from mistral.rpc import direct

ENGINE_TOPIC = "mistral_engine"
EXECUTOR_TOPIC = "mistral_executor"
#: In-process transport of the embedded mode (see mistral.rpc.local_driver).
LOCAL_URL = "local://"

#: Least seconds an idle RabbitMQ listener of this process waits for a message before it looks again.
IDLE_POLL_MIN = 0.1

_lock = threading.Lock()
_transport: Any = None


def calm_idle_listeners(minimum: float = IDLE_POLL_MIN) -> None:
    """Let oslo.messaging's RabbitMQ listeners wait at least ``minimum`` seconds per idle look.

    NOTE: after every message its listeners (the RPC server's, the reply waiter's) look again
    after 1 ms, then 2, 4... up to 5 s, so that acks and requeues queued for their thread go out
    soon. Those of RPC messages are done as the message arrives and nothing is queued, so each
    look only wakes a thread that takes the GIL from the ones doing the work: about four looks per
    message in a chain of tasks, 20 per hop (measured: a hop's CPU fell by about a fifth without
    them). A message still wakes a listener at once, whatever its timeout; a notification's ack
    (event engine, notifier) may now leave up to ``minimum`` later, as it may after 5 s idle today.
    """
    try:
        from oslo_messaging._drivers import amqpdriver
    except ImportError:  # pragma: no cover - a release without the module has its own polling
        return
    current = getattr(amqpdriver, "ACK_REQUEUE_EVERY_SECONDS_MIN", None)
    if isinstance(current, int | float) and current < minimum:
        amqpdriver.ACK_REQUEUE_EVERY_SECONDS_MIN = minimum


def transport_url() -> str:
    """``[DEFAULT] transport_url``; its default is the in-process transport."""
    return config.CONF.transport_url or LOCAL_URL


def notification_transport_url() -> str:
    """``[oslo_messaging_notifications] transport_url``, else the RPC transport's.

    NOTE: oslo.messaging falls back to ``[DEFAULT] transport_url`` as written, and a
    ``transport_url =`` left empty in a configuration file stopped the event engine with
    "No scheme specified" while RPC ran in-process: both now read empty as unset.
    """
    return config.CONF.oslo_messaging_notifications.transport_url or transport_url()


def get_notification_transport() -> Any:
    """A new transport for notifications (the event engine's listeners), as configured."""
    return oslo_messaging.get_notification_transport(config.CONF, url=notification_transport_url())


def is_local() -> bool:
    return transport_url().startswith("local:")


def get_transport() -> Any:
    global _transport
    with _lock:
        if _transport is None:
            if not is_local():
                calm_idle_listeners()
            _transport = oslo_messaging.get_rpc_transport(config.CONF, url=transport_url())
        return _transport


def reset() -> None:
    """Forget the transport (tests switch between transports)."""
    global _transport
    with _lock:
        if _transport is not None:
            _transport.cleanup()
        _transport = None
    direct.reset()


def serializer() -> oslo_messaging.Serializer:
    return oslo_messaging.NoOpSerializer()
