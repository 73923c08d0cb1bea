"""The executor's RPC server: answers the methods of the executor's table (mistral/rpc/methods.py)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Sequence
from typing import Any

import oslo_messaging

from mistral import context
from mistral.actions import async_results
from mistral.config import CONF
from mistral.executor.executor import Executor
from mistral.executor.taker import TakeCall, Taker
from mistral.rpc import clients, direct, methods, transport
from mistral.rpc.outcomes import CallOutcome
from mistral.utils.redact import masked

LOG = logging.getLogger(__name__)


def _take_from_engine(
    action_ex_ids: list[str], executor: str, engine: str | None, again: list[str]
) -> list[str]:
    return clients.engine().take_actions(
        action_ex_ids, executor, timeout=CONF.executor.engine_confirm_timeout, server=engine, again_ids=again
    )


def _has_id(request: Any) -> bool:
    if isinstance(request, dict) and isinstance(request.get("action_ex_id"), str):
        return True
    LOG.warning("Request without an action execution id dropped: %s", masked(request))
    return False


class ExecutorEndpoint:
    """The RPC methods of an executor, one per entry of ``methods.EXECUTOR``.

    ``run_actions`` is quick: it only hands the requests to the taker's thread.
    """

    def __init__(self, executor: Executor, taker: Taker) -> None:
        self._executor = executor
        self._taker = taker

    def run_actions(self, ctxt: dict[str, Any], requests: Sequence[dict[str, Any]]) -> None:
        LOG.debug("RPC run_actions %s", masked(requests))
        # NOTE: a request without its id cannot be taken; the others still are.
        self._taker.offer(ctxt or {}, [r for r in requests if _has_id(r)])

    def run_action_sync(self, ctxt: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
        LOG.debug("RPC run_action_sync %s", masked(request))
        with context.using(context.Context.from_dict(ctxt or {})):
            result = CallOutcome.of_call(self._executor.run_action_sync, request).to_wire()
        LOG.debug("RPC run_action_sync answers %s", masked(result))
        return result

    def abandon_actions(self, ctxt: dict[str, Any], action_ex_ids: Sequence[str]) -> None:
        LOG.debug("RPC abandon_actions %s", action_ex_ids)
        async_results.abandon(action_ex_ids)


class ExecutorServer:
    """An executor listening on the executor topic; owns the executor's start and stop."""

    def __init__(
        self, executor: Executor, host: str | None = None, take: TakeCall = _take_from_engine
    ) -> None:
        self.executor = executor
        # The server name is what 'target: <name>' in a task addresses.
        self.host = host or CONF.executor.host or socket.gethostname()
        target = oslo_messaging.Target(topic=transport.EXECUTOR_TOPIC, server=self.host)
        self._taker = Taker(executor, self.host, take)
        self._endpoint = ExecutorEndpoint(executor, self._taker)
        self._server = oslo_messaging.get_rpc_server(
            transport.get_transport(),
            target,
            [self._endpoint],
            executor="threading",
            serializer=transport.serializer(),
        )
        self._consuming = False

    def start(self) -> None:
        self.executor.start()
        self._taker.start()
        self._server.start()
        if transport.is_local():
            quick = methods.quick_casts(methods.EXECUTOR)
            direct.serve(transport.EXECUTOR_TOPIC, self.host, self._endpoint, quick)
        self._consuming = True
        LOG.info("Executor %s listening on topic %s", self.host, transport.EXECUTOR_TOPIC)

    def stop_consuming(self) -> None:
        """Take no more requests; the executor goes on with those it has."""
        if not self._consuming:
            return
        self._consuming = False
        direct.withdraw(transport.EXECUTOR_TOPIC, self.host)
        self._server.stop()
        self._server.wait()
        self._taker.stop()

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
