"""Waiting in tests for what the service does in its own time: one poller for every test suite."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from mistral.workflow import states

T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 15.0, *, interval: float = 0.05,
             check: Callable[[], None] | None = None) -> T:  # fmt: skip
    """Poll ``probe`` until it answers something truthy, and return that.

    An error from ``probe`` counts as "not yet" (a server still starting); the last one, or the last
    answer, is in the message when the time is up. ``check`` may raise to give up early (a process
    that died).
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        if check is not None:
            check()
        try:
            value = probe()
        except Exception as error:  # noqa: BLE001 - keep polling, report it on timeout
            value, last = None, error
        else:
            last = value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {_short(last)})")
        time.sleep(interval)


def wait_execution(client: Any, ex_id: str, *wanted: str, timeout: float = 15.0) -> Any:
    """python-mistralclient's execution once it is in one of ``wanted`` (any completed state by default)."""
    wanted = wanted or tuple(states.COMPLETED)

    def reached() -> Any:
        ex = client.executions.get(ex_id)
        return ex if ex.state in wanted else None

    return wait_for(f"execution {ex_id} to reach {', '.join(wanted)}", reached, timeout)


def wait_rest_execution(api: Any, ex_id: str, *wanted: str, timeout: float = 15.0) -> dict[str, Any]:
    """The REST body of an execution once it is in one of ``wanted`` (any completed state by default).

    ``api`` is anything with ``request(method, path)`` answering a ``requests`` response.
    """
    wanted = wanted or tuple(states.COMPLETED)

    def reached() -> dict[str, Any] | None:
        body = api.request("GET", f"/executions/{ex_id}").json()
        return body if body.get("state") in wanted else None

    return wait_for(f"execution {ex_id} to reach {', '.join(wanted)}", reached, timeout)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 500 else text[:500] + "..."
