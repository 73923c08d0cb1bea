"""RPC clients: how the API talks to engines and engines talk to executors.

Every payload is plain JSON data; the caller's security context travels as the
RPC context and is restored on the other side.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

import oslo_messaging

from mistral import context, exceptions
from mistral.rpc import direct, transport
from mistral.utils.redact import masked

LOG = logging.getLogger(__name__)


def wrap_outcome(func: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Run an RPC call's handler on the server side; errors travel as data, not pickles."""
    try:
        return {"result": func(*args, **kwargs)}
    except exceptions.MistralError as error:
        return {"error": {"type": type(error).__name__, "message": str(error)}}
    except exceptions.ServiceStopping as error:
        # NOTE: nothing was applied (the transaction rolled back): the caller may send it again.
        message = f"{error}; nothing was applied, try again"
        return {"error": {"type": exceptions.ServiceUnavailable.__name__, "message": message}}
    except Exception as error:
        LOG.exception("RPC handler %s failed", getattr(func, "__name__", func))
        return {"error": {"type": "EngineError", "message": f"{type(error).__name__}: {error}"}}


def unwrap(outcome: Any) -> Any:
    """The result of a ``wrap_outcome`` answer, or its error raised again as the same MistralError class."""
    if not isinstance(outcome, dict) or len(outcome) != 1:
        return outcome
    if isinstance(outcome.get("error"), dict) and "type" in outcome["error"]:
        raise exceptions.rebuild(outcome["error"]["type"], outcome["error"].get("message", ""))
    return outcome.get("result", outcome)


class _Client:
    topic = ""

    def __init__(self) -> None:
        target = oslo_messaging.Target(topic=self.topic)
        self._client = oslo_messaging.get_rpc_client(
            transport.get_transport(), target, serializer=transport.serializer()
        )

    def _call(
        self, method: str, *, timeout: float | None = None, server: str | None = None, **kwargs: Any
    ) -> Any:
        LOG.debug("RPC call %s.%s %s", self.topic, method, masked(kwargs))
        ctxt = context.current().to_dict()
        answer = direct.call(self.topic, server, method, ctxt, kwargs)
        if answer is not direct.ABSENT:
            return unwrap(answer)
        # NOTE: only what is given: prepare(timeout=None) would mean "wait forever".
        options = {k: v for k, v in (("timeout", timeout), ("server", server)) if v}
        client = self._client.prepare(**options) if options else self._client
        return unwrap(client.call(ctxt, method, **kwargs))

    def _cast(self, method: str, *, server: str | None = None, **kwargs: Any) -> None:
        ctxt = context.current().to_dict()
        if direct.cast(self.topic, server, method, ctxt, kwargs):
            return
        client = self._client.prepare(server=server) if server else self._client
        client.cast(ctxt, method, **kwargs)


class EngineClient(_Client):
    """What the API and the executors ask of an engine."""

    topic = transport.ENGINE_TOPIC

    def start_workflow(
        self,
        wf_identifier: str,
        wf_namespace: str = "",
        wf_ex_id: str | None = None,
        wf_input: dict[str, Any] | None = None,
        description: str = "",
        params: dict[str, Any] | None = None,
        send_first_step: bool = True,
    ) -> dict[str, Any]:
        """Start an execution; ``send_first_step`` False leaves a first step that fans out to the caller.

        The answer then says ``first_step_pending``, and the caller sends ``run_first_steps``.
        """
        return self._call(
            "start_workflow",
            wf_identifier=wf_identifier,
            wf_namespace=wf_namespace,
            wf_ex_id=wf_ex_id,
            wf_input=wf_input or {},
            description=description,
            params=params or {},
            send_first_step=send_first_step,
        )

    def start_action(
        self,
        action_name: str,
        action_input: dict[str, Any],
        description: str = "",
        namespace: str = "",
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self._call(
            "start_action",
            action_name=action_name,
            action_input=action_input,
            description=description,
            namespace=namespace,
            params=params or {},
        )

    def complete_action(self, action_ex_id: str, result: dict[str, Any]) -> dict[str, Any]:
        """Deliver an async action's result (``{"data"|"error"|"cancel": ...}``) and answer its new state."""
        return self._call("complete_action", action_ex_id=action_ex_id, result=result)

    def update_action(self, action_ex_id: str, state: str) -> dict[str, Any]:
        return self._call("update_action", action_ex_id=action_ex_id, state=state)

    def on_action_results(
        self, results: Sequence[dict[str, Any]], timeout: float | None = None, server: str | None = None
    ) -> None:
        """Executors report finished actions in batches: ``[{"action_ex_id", "data"|"error"|"cancel"}]``.

        Returns once an engine (``server``, or any) has committed them; raises if it could not (send
        them again).
        """
        self._call("on_action_results", timeout=timeout, server=server, results=list(results))

    def take_actions(
        self,
        action_ex_ids: Sequence[str],
        executor: str,
        timeout: float | None = None,
        server: str | None = None,
    ) -> list[str]:
        """Take actions before running them: answers the ids this executor may run.

        ``server`` (an engine's RPC server name, or None for any engine) records the take.
        """
        ids = list(action_ex_ids)
        return self._call(
            "take_actions", timeout=timeout, server=server, action_ex_ids=ids, executor=executor
        )

    def release_actions(
        self, action_ex_ids: Sequence[str], executor: str, timeout: float | None = None
    ) -> list[str]:
        """Give back actions taken and never started (the executor is stopping): they are sent again."""
        ids = list(action_ex_ids)
        return self._call("release_actions", timeout=timeout, action_ex_ids=ids, executor=executor)

    def report_running_actions(self, action_ex_ids: Sequence[str], executor: str | None = None) -> None:
        """Heartbeats of the actions ``executor`` took and has not reported finished yet."""
        self._cast("report_running_actions", action_ex_ids=list(action_ex_ids), executor=executor)

    def on_subworkflows_finished(self, wf_ex_ids: Sequence[str]) -> None:
        self._cast("on_subworkflows_finished", wf_ex_ids=list(wf_ex_ids))

    def run_first_steps(self, wf_ex_ids: Sequence[str]) -> None:
        """Start executions created a moment ago (their tasks, with-items and actions)."""
        self._cast("run_first_steps", wf_ex_ids=list(wf_ex_ids))

    def pause_workflow(self, wf_ex_id: str) -> dict[str, Any]:
        return self._call("pause_workflow", wf_ex_id=wf_ex_id)

    def resume_workflow(self, wf_ex_id: str, env: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._call("resume_workflow", wf_ex_id=wf_ex_id, env=env)

    def stop_workflow(self, wf_ex_id: str, state: str, message: str | None = None) -> dict[str, Any]:
        return self._call("stop_workflow", wf_ex_id=wf_ex_id, state=state, message=message)

    def rerun_task(
        self, task_ex_id: str, reset: bool = True, env: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return self._call("rerun_task", task_ex_id=task_ex_id, reset=reset, env=env)

    def skip_task(self, task_ex_id: str) -> dict[str, Any]:
        return self._call("skip_task", task_ex_id=task_ex_id)

    def engine_stats(self, since: int = 0) -> dict[str, Any]:
        """The figures of whichever engine answers (one of them when several run), of hops after ``since``."""
        return self._call("engine_stats", since=since)


class ExecutorClient(_Client):
    """What an engine asks of the executors."""

    topic = transport.EXECUTOR_TOPIC

    def run_actions(self, requests: Sequence[dict[str, Any]], target: str | None = None) -> None:
        """Run actions: ``[{"action_ex_id", "action_name", "input", "context", "safe_rerun", "timeout"}]``."""
        self._cast("run_actions", server=target, requests=list(requests))

    def run_action_sync(
        self, request: dict[str, Any], target: str | None = None, timeout: float | None = None
    ) -> Any:
        ctxt = context.current().to_dict()
        answer = direct.call(self.topic, target, "run_action_sync", ctxt, {"request": request})
        if answer is not direct.ABSENT:
            return unwrap(answer)
        client = self._client.prepare(server=target, timeout=timeout) if (target or timeout) else self._client
        return unwrap(client.call(ctxt, "run_action_sync", request=request))


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


def reset() -> None:
    with _clients_lock:
        _clients.clear()
