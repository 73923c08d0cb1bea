"""The engine's RPC server: every public method of the endpoint is callable remotely."""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

import oslo_messaging

from mistral import context
from mistral.engine.engine import Engine
from mistral.rpc import clients, transport
from mistral.utils.redact import redact

LOG = logging.getLogger(__name__)

#: Calls answered with ``wrap_outcome`` (errors travel as data); the others are casts.
CALLS = (
    "start_workflow", "start_action", "complete_action", "update_action", "pause_workflow",
    "resume_workflow", "stop_workflow", "rerun_task", "skip_task",
)  # fmt: skip
CASTS = ("on_action_results", "report_running_actions", "on_subworkflows_finished", "cascade")


class EngineEndpoint:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __getattr__(self, name: str) -> Any:
        if name not in CALLS + CASTS:
            raise AttributeError(name)
        method = getattr(self._engine, name)

        def handler(ctxt: dict[str, Any], **kwargs: Any) -> Any:
            LOG.debug("RPC %s %s", name, redact(kwargs))
            with context.using(context.Context.from_dict(ctxt or {})):
                if name in CALLS:
                    return clients.wrap_outcome(method, **kwargs)
                try:
                    method(**kwargs)
                except Exception:  # noqa: BLE001 - a cast has nobody to answer; log and go on
                    LOG.exception("Engine cast %s failed", name)
                return None

        return handler


class EngineServer:
    def __init__(self, engine: Engine, host: str | None = None) -> None:
        target = oslo_messaging.Target(
            topic=transport.ENGINE_TOPIC, server=host or f"{socket.gethostname()}-{os.getpid()}"
        )
        endpoint = EngineEndpoint(engine)
        # NOTE: oslo.messaging finds endpoint methods with getattr, so expose them as attributes.
        for name in CALLS + CASTS:
            setattr(endpoint, name, getattr(endpoint, name))
        self._server = oslo_messaging.get_rpc_server(
            transport.get_transport(),
            target,
            [endpoint],
            executor="threading",
            serializer=transport.serializer(),
        )

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()
        self._server.wait()
