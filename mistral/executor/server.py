"""The executor's RPC server: takes ``run_actions`` and ``run_action_sync`` from engines."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Sequence
from typing import Any

import oslo_messaging

from mistral import context
from mistral.config import CONF
from mistral.executor.executor import Executor
from mistral.rpc import clients, transport
from mistral.rpc.payloads import ActionRequest
from mistral.utils.redact import masked

LOG = logging.getLogger(__name__)

#: ``take(action_ex_ids, executor)``: the ids this executor may run (DESIGN rule 7).
Take = Callable[[list[str], str], list[str]]


def _take_from_engine(action_ex_ids: list[str], executor: str) -> list[str]:
    return clients.engine().take_actions(
        action_ex_ids, executor, timeout=CONF.executor.engine_confirm_timeout
    )


class ExecutorEndpoint:
    """The RPC methods of an executor; every public method here is callable remotely."""

    def __init__(self, executor: Executor, host: str, take: Take = _take_from_engine) -> None:
        self._executor = executor
        self._host = host
        self._take = take

    def run_actions(self, ctxt: dict[str, Any], requests: Sequence[dict[str, Any]]) -> None:
        LOG.debug("RPC run_actions %s", masked(requests))
        taken = self._taken([ActionRequest.from_dict(r) for r in requests])
        # NOTE: the workers copy the context current here, so restoring it once covers every action.
        with context.using(context.Context.from_dict(ctxt or {})):
            self._executor.run_actions([r.to_dict() for r in taken])

    def _taken(self, requests: list[ActionRequest]) -> list[ActionRequest]:
        """The requests the engine lets this executor run: taken here, and by nobody before."""
        requests = list({r.action_ex_id: r for r in reversed(requests)}.values())[::-1]  # one copy of each
        try:
            ids = set(self._take([r.action_ex_id for r in requests], self._host))
        except Exception as error:  # noqa: BLE001 - untaken actions are sent again; none may run untaken
            LOG.warning(
                "Could not take %d actions (%s); the engine will send them again", len(requests), error
            )
            return []
        refused = [r.action_ex_id for r in requests if r.action_ex_id not in ids]
        if refused:
            LOG.info("Not running %d actions taken before or no longer running: %s", len(refused), refused)
        return [r for r in requests if r.action_ex_id in ids]

    def run_action_sync(self, ctxt: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
        LOG.debug("RPC run_action_sync %s", masked(request))
        with context.using(context.Context.from_dict(ctxt or {})):
            result = clients.wrap_outcome(self._executor.run_action_sync, request)
        LOG.debug("RPC run_action_sync answers %s", masked(result))
        return result


class ExecutorServer:
    """An executor listening on the executor topic; owns the executor's start and stop."""

    def __init__(self, executor: Executor, host: str | None = None, take: Take = _take_from_engine) -> None:
        self.executor = executor
        # The server name is what 'target: <name>' in a task addresses.
        self.host = host or CONF.executor.host or socket.gethostname()
        target = oslo_messaging.Target(topic=transport.EXECUTOR_TOPIC, server=self.host)
        self._server = oslo_messaging.get_rpc_server(
            transport.get_transport(),
            target,
            [ExecutorEndpoint(executor, self.host, take)],
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
