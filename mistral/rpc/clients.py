"""RPC clients: how the API talks to engines and engines talk to executors.

Every payload is plain JSON data; the caller's security context travels as the
RPC context and is restored on the other side.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import oslo_messaging

from mistral import context
from mistral.metrics import series
from mistral.rpc import bridge, direct, methods, transport
from mistral.rpc.methods import RpcMethod
from mistral.rpc.outcomes import CallOutcome
from mistral.utils.redact import masked

LOG = logging.getLogger(__name__)


class _Client:
    topic = ""
    #: The remote methods of ``topic``: each is sent as its entry says, a call or a cast.
    table: Mapping[str, RpcMethod] = {}

    def __init__(self) -> None:
        target = oslo_messaging.Target(topic=self.topic)
        self._client = oslo_messaging.get_rpc_client(
            transport.get_transport(), target, serializer=transport.serializer()
        )

    def _send(
        self, method: str, *, timeout: float | None = None, server: str | None = None, **kwargs: Any
    ) -> Any:
        """Send ``method`` as the table declares it; a name missing from the table is a KeyError here."""
        if self.table[method].kind is methods.CALL:
            return self._call(method, timeout=timeout, server=server, **kwargs)
        self._cast(method, server=server, **kwargs)
        return None

    def _call(self, method: str, *, timeout: float | None, server: str | None, **kwargs: Any) -> Any:
        LOG.debug("RPC call %s.%s %s", self.topic, method, masked(kwargs))
        answer = self._call_wire(context.current().to_dict(), method, kwargs, timeout=timeout, server=server)
        return CallOutcome.from_wire(answer).value()

    def _call_wire(
        self,
        ctxt: dict[str, Any],
        method: str,
        kwargs: dict[str, Any],
        *,
        timeout: float | None,
        server: str | None,
        fresh: bool = False,
    ) -> Any:
        """The answer of ``method`` called as ``ctxt``, in its wire form (``CallOutcome.to_wire``).

        ``fresh``: see ``direct.call``.
        """
        bridged = bridge.client()
        if bridged is not None:
            return bridged.call(self.topic, server, method, ctxt, kwargs, timeout)
        answer = direct.call(self.topic, server, method, ctxt, kwargs, fresh=fresh)
        if answer is not direct.ABSENT:
            return answer
        # NOTE: only what is given: prepare(timeout=None) would mean "wait forever".
        options = {k: v for k, v in (("timeout", timeout), ("server", server)) if v}
        client = self._client.prepare(**options) if options else self._client
        try:
            return client.call(ctxt, method, **kwargs)
        except oslo_messaging.MessagingTimeout:
            series.RPC_TIMEOUTS.labels(self.topic, method).inc()
            raise

    def _cast(self, method: str, *, server: str | None, **kwargs: Any) -> None:
        self._cast_wire(context.current().to_dict(), method, kwargs, server=server)

    def _cast_wire(
        self, ctxt: dict[str, Any], method: str, kwargs: dict[str, Any], *, server: str | None
    ) -> None:
        """Send ``method`` as a cast as ``ctxt``."""
        bridged = bridge.client()
        if bridged is not None:
            bridged.cast(self.topic, server, method, ctxt, kwargs)
            return
        if direct.cast(self.topic, server, method, ctxt, kwargs):
            return
        client = self._client.prepare(server=server) if server else self._client
        client.cast(ctxt, method, **kwargs)


class EngineClient(_Client):
    """What the API and the executors ask of an engine."""

    topic = transport.ENGINE_TOPIC
    table = methods.ENGINE

    def start_workflow(
        self,
        wf_identifier: str,
        wf_namespace: str = "",
        wf_ex_id: str | None = None,
        wf_input: dict[str, Any] | None = None,
        description: str = "",
        params: dict[str, Any] | None = None,
        send_first_step: bool = True,
        wf_input_json: str | None = None,
    ) -> dict[str, Any]:
        """Start an execution; ``send_first_step`` False leaves a first step that fans out to the caller.

        The answer then says ``first_step_pending``, and the caller sends ``run_first_steps``.
        ``wf_input_json``: the input as JSON text, which the engine reads (then ``wf_input`` is not used).
        """
        # NOTE: sent only when given: a start without it is the same message as before.
        text: dict[str, Any] = {} if wf_input_json is None else {"wf_input_json": wf_input_json}
        return self._send(
            "start_workflow",
            wf_identifier=wf_identifier,
            wf_namespace=wf_namespace,
            wf_ex_id=wf_ex_id,
            wf_input=wf_input or {},
            description=description,
            params=params or {},
            send_first_step=send_first_step,
            **text,
        )

    def start_action(
        self,
        action_name: str,
        action_input: dict[str, Any],
        description: str = "",
        namespace: str = "",
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self._send(
            "start_action",
            action_name=action_name,
            action_input=action_input,
            description=description,
            namespace=namespace,
            params=params or {},
        )

    def complete_action(
        self, action_ex_id: str, result: dict[str, Any], lease_token: str | None = None
    ) -> dict[str, Any]:
        """Deliver an async action's result (``{"data"|"error"|"cancel": ...}``) and answer its new state.

        ``lease_token``: the claim of the external worker reporting it (sent only when given).
        """
        extra: dict[str, Any] = {"lease_token": lease_token} if lease_token is not None else {}
        return self._send("complete_action", action_ex_id=action_ex_id, result=result, **extra)

    def update_action(self, action_ex_id: str, state: str) -> dict[str, Any]:
        return self._send("update_action", action_ex_id=action_ex_id, state=state)

    def on_action_results(
        self, results: Sequence[dict[str, Any]], timeout: float | None = None, server: str | None = None
    ) -> dict[str, Any] | None:
        """Executors report finished actions in batches: ``[{"action_ex_id", "data"|"error"|"cancel"}]``.

        Returns once an engine (``server``, or any) has committed them; raises if it could not (send
        them again). The answer may hand the executor actions taken for it: ``{"handed": [{"context",
        "requests"}]}`` (``mistral.engine.handover``), when its results said it accepts them.
        """
        answer: dict[str, Any] | None = self._send(
            "on_action_results", timeout=timeout, server=server, results=list(results)
        )
        return answer

    def take_actions(
        self,
        action_ex_ids: Sequence[str],
        executor: str,
        again_ids: Sequence[str] = (),
        timeout: float | None = None,
        server: str | None = None,
    ) -> list[str]:
        """Take actions before running them: answers the ids this executor may run.

        ``server`` (an engine's RPC server name, or None for any engine) records the take.
        ``again_ids``: those of the ids whose earlier take got no answer (it may have been recorded).
        """
        ids = list(action_ex_ids)
        # NOTE: sent only when there are some, so that an engine of an earlier release still
        # answers the usual take.
        extra = {"again_ids": list(again_ids)} if again_ids else {}
        return self._send(
            "take_actions", timeout=timeout, server=server, action_ex_ids=ids, executor=executor, **extra
        )

    def release_actions(
        self, action_ex_ids: Sequence[str], executor: str, timeout: float | None = None
    ) -> list[str]:
        """Give back actions taken and never started (the executor is stopping): they are sent again."""
        ids = list(action_ex_ids)
        return self._send("release_actions", timeout=timeout, action_ex_ids=ids, executor=executor)

    def report_running_actions(self, action_ex_ids: Sequence[str], executor: str | None = None) -> None:
        """Heartbeats of the actions ``executor`` took and has not reported finished yet."""
        self._send("report_running_actions", action_ex_ids=list(action_ex_ids), executor=executor)

    def apply_results(self, results: Sequence[dict[str, Any]]) -> None:
        """Results of actions that ran nowhere (a test run's mocked ones), in ``on_action_results``' shape."""
        self._send("apply_results", results=list(results))

    def on_subworkflows_finished(self, wf_ex_ids: Sequence[str]) -> None:
        self._send("on_subworkflows_finished", wf_ex_ids=list(wf_ex_ids))

    def run_first_steps(self, wf_ex_ids: Sequence[str]) -> None:
        """Start executions created a moment ago (their tasks, with-items and actions)."""
        self._send("run_first_steps", wf_ex_ids=list(wf_ex_ids))

    def pause_workflow(self, wf_ex_id: str) -> dict[str, Any]:
        return self._send("pause_workflow", wf_ex_id=wf_ex_id)

    def resume_workflow(self, wf_ex_id: str, env: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._send("resume_workflow", wf_ex_id=wf_ex_id, env=env)

    def stop_workflow(self, wf_ex_id: str, state: str, message: str | None = None) -> dict[str, Any]:
        return self._send("stop_workflow", wf_ex_id=wf_ex_id, state=state, message=message)

    def rerun_task(
        self, task_ex_id: str, reset: bool = True, env: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return self._send("rerun_task", task_ex_id=task_ex_id, reset=reset, env=env)

    def skip_task(self, task_ex_id: str) -> dict[str, Any]:
        return self._send("skip_task", task_ex_id=task_ex_id)

    def engine_stats(self, since: int = 0) -> dict[str, Any]:
        """The figures of whichever engine answers (one of them when several run), of hops after ``since``."""
        return self._send("engine_stats", since=since)


class ExecutorClient(_Client):
    """What an engine asks of the executors."""

    topic = transport.EXECUTOR_TOPIC
    table = methods.EXECUTOR

    def run_actions(self, requests: Sequence[dict[str, Any]], target: str | None = None) -> None:
        """Run actions: ``[{"action_ex_id", "action_name", "input", "context", "safe_rerun", "timeout"}]``."""
        self._send("run_actions", server=target, requests=list(requests))

    def run_action_sync(
        self, request: dict[str, Any], target: str | None = None, timeout: float | None = None
    ) -> Any:
        return self._send("run_action_sync", timeout=timeout, server=target, request=request)

    def abandon_actions(self, action_ex_ids: Sequence[str], target: str | None = None) -> None:
        """Asynchronous actions of executor ``target`` that were cancelled: it stops waiting for them."""
        self._send("abandon_actions", server=target, action_ex_ids=list(action_ex_ids))


_clients: dict[type, _Client] = {}
_clients_lock = threading.Lock()


def _get(cls: type[_Client]) -> Any:
    with _clients_lock:
        if cls not in _clients:
            _clients[cls] = cls()
        return _clients[cls]


def engine() -> EngineClient:
    return _get(EngineClient)


def executor() -> ExecutorClient:
    return _get(ExecutorClient)


def _of_topic(topic: str, method: str, kind: methods.Kind) -> _Client:
    """The client of ``topic``, which must declare ``method`` as ``kind``."""
    client: _Client = {transport.ENGINE_TOPIC: engine, transport.EXECUTOR_TOPIC: executor}[topic]()
    if client.table[method].kind is not kind:
        raise ValueError(f"{topic}.{method} is not a {kind.value}")
    return client


def call_wire(
    topic: str,
    server: str | None,
    method: str,
    ctxt: dict[str, Any],
    kwargs: dict[str, Any],
    timeout: float | None,
) -> Any:
    """Send a call another process asked for (``bridge``): as its caller's ``ctxt``, answered in wire form.

    The payload was decoded from the bridge's message, and the answer is encoded into one.
    """
    return _of_topic(topic, method, methods.CALL)._call_wire(
        ctxt, method, kwargs, timeout=timeout, server=server, fresh=True
    )


def cast_wire(
    topic: str, server: str | None, method: str, ctxt: dict[str, Any], kwargs: dict[str, Any]
) -> None:
    """Send a cast another process asked for (``bridge``), as its caller's ``ctxt``."""
    _of_topic(topic, method, methods.CAST)._cast_wire(ctxt, method, kwargs, server=server)


def reset() -> None:
    with _clients_lock:
        _clients.clear()
