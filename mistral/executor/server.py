"""The executor's RPC server: takes ``run_actions`` and ``run_action_sync`` from engines."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Sequence
from typing import Any

import oslo_messaging

from mistral import context
from mistral.config import CONF
from mistral.executor.executor import Executor
from mistral.rpc import clients, transport
from mistral.utils.redact import masked

LOG = logging.getLogger(__name__)

#: Seconds after which an action still running is reported as taken.
ACCEPT_REPORT_DELAY = 5.0


class ExecutorEndpoint:
    """The RPC methods of an executor; every public method here is callable remotely."""

    def __init__(self, executor: Executor, host: str | None = None) -> None:
        self._executor = executor
        self._host = host

    def run_actions(self, ctxt: dict[str, Any], requests: Sequence[dict[str, Any]]) -> None:
        LOG.debug("RPC run_actions %s", masked(requests))
        # NOTE: the workers copy the context current here, so restoring it once covers every action.
        with context.using(context.Context.from_dict(ctxt or {})):
            self._executor.run_actions(requests)
        # NOTE: telling the engine that the actions arrived lets its recovery loop tell
        # a lost message (resend) from a slow action; most actions finish sooner, and
        # their result says it, so only those still running after a moment are reported.
        ids = [r["action_ex_id"] for r in requests]
        timer = threading.Timer(ACCEPT_REPORT_DELAY, self._report_accepted, [ids])
        timer.daemon = True
        timer.start()

    def _report_accepted(self, ids: list[str]) -> None:
        still = self._executor.still_running(ids)
        if still:
            clients.engine().report_running_actions(still, executor=self._host)

    def run_action_sync(self, ctxt: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
        LOG.debug("RPC run_action_sync %s", masked(request))
        with context.using(context.Context.from_dict(ctxt or {})):
            result = clients.wrap_outcome(self._executor.run_action_sync, request)
        LOG.debug("RPC run_action_sync answers %s", masked(result))
        return result


class ExecutorServer:
    """An executor listening on the executor topic; owns the executor's start and stop."""

    def __init__(self, executor: Executor, host: str | None = None) -> None:
        self.executor = executor
        # The server name is what 'target: <name>' in a task addresses.
        self.host = host or CONF.executor.host or socket.gethostname()
        target = oslo_messaging.Target(topic=transport.EXECUTOR_TOPIC, server=self.host)
        self._server = oslo_messaging.get_rpc_server(
            transport.get_transport(),
            target,
            [ExecutorEndpoint(executor, self.host)],
            executor="threading",
            serializer=transport.serializer(),
        )
        self._consuming = False

    def start(self) -> None:
        self.executor.start()
        self._server.start()
        self._consuming = True
        LOG.info("Executor %s listening on topic %s", self.host, transport.EXECUTOR_TOPIC)

    def stop_consuming(self) -> None:
        """Take no more requests; the executor goes on with those it has."""
        if not self._consuming:
            return
        self._consuming = False
        self._server.stop()
        self._server.wait()

    def stop(self, graceful: bool = True, *, grace: float | None = None) -> None:
        """Stop taking requests, then let the executor finish and flush its results.

        ``grace`` bounds the wait for running actions (see ``Executor.stop``).
        """
        self.stop_consuming()
        self.executor.stop(wait=graceful, grace=grace)


def start_executor_server(executor: Executor | None = None) -> ExecutorServer:
    """Start an RPC server for ``executor`` (a new one when not given) and answer it."""
    server = ExecutorServer(executor or Executor())
    server.start()
    return server
