"""Test actions, a collecting sink and request building for the executor tests."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import oslo_messaging
import pytest
from mistral_lib import actions, utils

from mistral.executor.executor import Executor
from mistral.executor.server import ExecutorServer, start_executor_server
from mistral.rpc import clients, transport

WAIT = 2.0  # upper bound for anything the tests wait for; never reached when green


class BoomAction(actions.Action):
    """Raise ValueError."""

    def run(self, context: Any) -> None:
        raise ValueError("boom")


class OddResultAction(actions.Action):
    """Return values JSON cannot encode as they are."""

    def __init__(self, kind: str = "object") -> None:
        self.kind = kind

    def run(self, context: Any) -> Any:
        if self.kind == "object":
            return object()
        if self.kind == "nested":
            return {"items": {1, 2}, "raw": b"abc", "thing": object(), "tuple": (1, 2)}
        circular: dict[str, Any] = {}
        circular["self"] = circular
        return circular


class ResultAction(actions.Action):
    """Return a mistral-lib Result; optionally asynchronous."""

    def __init__(
        self, data: Any = None, error: Any = None, cancel: bool = False, is_async: bool = False
    ) -> None:
        self.data, self.error, self.cancel, self.is_async = data, error, cancel, is_async

    def is_sync(self) -> bool:
        return not self.is_async

    def run(self, context: Any) -> actions.Result:
        return actions.Result(data=self.data, error=self.error, cancel=self.cancel)


class AppContextAction(actions.Action):
    """Return what OpenStack actions read from the thread's application context."""

    def run(self, context: Any) -> dict[str, Any]:
        ctx = utils.get_thread_local("MISTRAL_APP_CTX_THREAD_LOCAL")
        return {k: getattr(ctx, k) for k in ("auth_token", "project_id", "user_id", "user_name")}


class ContextAction(actions.Action):
    """Return what the action context says about who runs it and where."""

    def run(self, context: Any) -> dict[str, Any]:
        return {
            "security": vars(context.security),
            "execution": vars(context.execution),
            "thread": threading.get_ident(),
        }


class Collector:
    """A result or heartbeat sink that remembers every call."""

    def __init__(self) -> None:
        self.calls: list[list[Any]] = []
        self._cond = threading.Condition()

    def __call__(self, items: list[Any]) -> None:
        with self._cond:
            self.calls.append(list(items))
            self._cond.notify_all()

    @property
    def items(self) -> list[Any]:
        with self._cond:
            return [item for call in self.calls for item in call]

    def by_id(self) -> dict[str, dict[str, Any]]:
        return {r["action_ex_id"]: r for r in self.items}

    def wait_for(self, count: int, timeout: float = WAIT) -> list[Any]:
        """The items once at least ``count`` arrived; fails the test after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while sum(map(len, self.calls)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(f"only {sum(map(len, self.calls))} of {count} items arrived: {self.calls}")
                self._cond.wait(remaining)
        return self.items


def request(
    action_ex_id: str, action_name: str, action_input: dict[str, Any] | None = None, **extra: Any
) -> dict:
    return {
        "action_ex_id": action_ex_id,
        "action_name": action_name,
        "input": action_input or {},
        "context": {},
        "safe_rerun": False,
        "timeout": None,
        "redelivered": False,
        **extra,
    }


@contextlib.contextmanager
def serving(fake_engine: object, executor: Executor) -> Iterator[ExecutorServer]:
    """``fake_engine`` serves the engine topic, ``executor`` its own, over the in-process transport."""
    transport.reset()
    clients.reset()
    engine_server = oslo_messaging.get_rpc_server(
        transport.get_transport(),
        oslo_messaging.Target(topic=transport.ENGINE_TOPIC, server="fake-engine"),
        [fake_engine],
        executor="threading",
        serializer=transport.serializer(),
    )
    engine_server.start()
    executor_server = start_executor_server(executor)
    try:
        yield executor_server
    finally:
        executor_server.stop(graceful=False)
        engine_server.stop()
        engine_server.wait()
        clients.reset()
        transport.reset()
