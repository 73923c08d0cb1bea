"""The oslo.messaging transport every RPC client and server of this process shares."""

from __future__ import annotations

import threading
from typing import Any

import oslo_messaging

from mistral import config

ENGINE_TOPIC = "mistral_engine"
EXECUTOR_TOPIC = "mistral_executor"
#: In-process transport of the embedded mode (see mistral.rpc.local_driver).
LOCAL_URL = "local://"

_lock = threading.Lock()
_transport: Any = None


def transport_url() -> str:
    """``[DEFAULT] transport_url``; its default is the in-process transport."""
    return config.CONF.transport_url or LOCAL_URL


def is_local() -> bool:
    return transport_url().startswith("local:")


def get_transport() -> Any:
    global _transport
    with _lock:
        if _transport is None:
            _transport = oslo_messaging.get_rpc_transport(config.CONF, url=transport_url())
        return _transport


def reset() -> None:
    """Forget the transport (tests switch between transports)."""
    global _transport
    with _lock:
        if _transport is not None:
            _transport.cleanup()
        _transport = None


def serializer() -> oslo_messaging.Serializer:
    return oslo_messaging.NoOpSerializer()
