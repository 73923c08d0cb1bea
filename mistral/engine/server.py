"""The engine's RPC server: every method of the engine's table (``mistral.rpc.methods.ENGINE``) is remote."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from typing import Any

import oslo_messaging

from mistral import context
from mistral.config import CONF
from mistral.db import session as db_session
from mistral.engine import handover, sender
from mistral.engine.applier import BatchApplier
from mistral.engine.engine import Engine, Take
from mistral.exceptions import EngineError
from mistral.metrics import series
from mistral.rpc import direct, methods, transport
from mistral.rpc.methods import RpcMethod
from mistral.rpc.outcomes import CallOutcome
from mistral.utils import uuids
from mistral.utils.redact import masked

LOG = logging.getLogger(__name__)


def _handler(rpc: RpcMethod, method: Callable[..., Any]) -> Callable[..., Any]:
    name, is_call = rpc.name, rpc.kind is methods.CALL

    def handle(ctxt: dict[str, Any], **kwargs: Any) -> Any:
        LOG.debug("RPC %s %s", name, masked(kwargs))
        with context.using(context.Context.from_dict(ctxt or {})):
            if is_call:
                return CallOutcome.of_call(method, **kwargs).to_wire()
            try:
                method(**kwargs)
            except Exception:  # noqa: BLE001 - a cast has nobody to answer; log and go on
                LOG.exception("Engine cast %s failed", name)
            return None

    handle.__name__ = name
    return handle


class QueuedHandlers:
    """The handlers of the table's queued methods: they hand a flood of messages to the appliers, which
    apply them together (a batch per transaction) with the engine method of the same purpose."""

    def __init__(
        self, results_applier: BatchApplier, heartbeats_applier: BatchApplier, takes_applier: BatchApplier
    ) -> None:
        self._results, self._heartbeats, self._takes = results_applier, heartbeats_applier, takes_applier

    def on_action_results(self, results: list[dict[str, Any]]) -> dict[str, Any] | None:
        # NOTE: answered only once the results' transaction has committed: until
        # then the executor keeps them, so an engine that dies here loses none.
        # The answer hands the executor the next actions taken for it (``handover``).
        timeout = CONF.engine.results_apply_timeout
        offer = handover.offer_of(results)
        if not self._results.apply(handover.attach(offer, results), timeout).wait(0):
            raise EngineError(f"{len(results)} results not applied yet; send them again")
        return offer.answer() if offer is not None else None

    def take_actions(
        self, action_ex_ids: list[str], executor: str, again_ids: list[str] | None = None
    ) -> list[str]:
        # NOTE: takes arriving together share one transaction, as results do.
        request_id = uuids.generate()
        again = set(again_ids or ())
        takes = [Take(executor, i, request_id, i in again) for i in action_ex_ids]
        ticket = self._takes.apply(takes, CONF.engine.results_apply_timeout)
        if not ticket.wait(0):
            raise EngineError(f"Could not take {len(action_ex_ids)} actions now; they will be sent again")
        return [take.action_ex_id for take in ticket.accepted]

    def report_running_actions(self, action_ex_ids: list[str], executor: str | None = None) -> None:
        self._heartbeats.submit([(executor, action_ex_id) for action_ex_id in action_ex_ids])


class EngineEndpoint:
    """oslo.messaging finds the remote methods as attributes of this object."""

    def __init__(
        self,
        engine: Engine,
        results_applier: BatchApplier,
        heartbeats_applier: BatchApplier,
        takes_applier: BatchApplier,
    ) -> None:
        queued = QueuedHandlers(results_applier, heartbeats_applier, takes_applier)
        for rpc in methods.ENGINE.values():
            setattr(self, rpc.name, _handler(rpc, getattr(queued if rpc.queued else engine, rpc.name)))


def _workflow_of(result: dict[str, Any]) -> str:
    """The applier lane of an action result: its workflow execution, as the executor says."""
    return result.get("workflow_execution_id") or result.get("action_ex_id") or ""


class EngineServer:
    def __init__(self, engine: Engine, host: str | None = None) -> None:
        # NOTE: SQLite has one writer, so one applier; a server database takes several at once.
        threads = 1 if db_session.get_engine().dialect.name == "sqlite" else 4
        self._appliers = [
            BatchApplier(
                "action results",
                engine.on_action_results,
                threads=threads,
                key=_workflow_of,
                timed=series.APPLY_LATENCY.observe,
            ),
            BatchApplier("heartbeats", engine.on_heartbeats),
            BatchApplier("takes", engine.take_actions, threads=threads),
        ]
        self._engine = engine
        self._name = host or f"{socket.gethostname()}-{os.getpid()}"
        target = oslo_messaging.Target(topic=transport.ENGINE_TOPIC, server=self._name)
        self._endpoint = EngineEndpoint(engine, *self._appliers)
        self._server = oslo_messaging.get_rpc_server(
            transport.get_transport(),
            target,
            [self._endpoint],
            executor="threading",
            serializer=transport.serializer(),
        )

    def start(self) -> None:
        for applier in self._appliers:
            applier.start()
        # NOTE: external workers' results (through the API) share the executors' result batches.
        self._engine.apply_results_through(self._appliers[0].apply)
        self._server.start()
        if transport.is_local():
            quick = methods.quick_casts(methods.ENGINE)
            direct.serve(transport.ENGINE_TOPIC, self._name, self._endpoint, quick)
        else:
            sender.reply_here(self._name)

    def stop(self) -> None:
        sender.reply_here(None)
        direct.withdraw(transport.ENGINE_TOPIC, self._name)
        self._server.stop()
        self._server.wait()
        self._engine.apply_results_through(None)
        for applier in self._appliers:
            applier.stop()
