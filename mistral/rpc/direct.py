"""Calls between the services of one process on the in-process transport, in the caller's thread.

NOTE: over oslo.messaging even the in-process transport hands every message to
the server's listener thread, which hands it to a worker of the server's pool,
whose answer goes back through a reply queue to the caller: three thread
hand-offs per call, each a wake-up and a fight for the GIL. A chain task pays
for two calls (the executor's take, its result) and one cast (the engine's
request to run): about 1.4 ms of a hop's wall time went to those hand-offs
alone. A server of this process registers its endpoint here, and a client that
finds it calls the endpoint in its own thread: it would only have waited for
the answer anyway.

The payload and the answer are still copied as a JSON round trip through a
broker would give them (``copied``), so neither side ever shares an object with
the other (unless the payload was just decoded from another process's message,
and the answer goes back into one: ``fresh``), and the call runs in a fresh
``contextvars`` context, so the caller's security context, database session and
outbox cannot leak into the handler. A cast runs here only when the server
lists it as quick (it only hands the message to a thread of its own); any other
cast keeps going through the transport, so that a caller is never held up by
work it did not wait for. Only the in-process transport uses this: with a
broker every message goes through it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import threading
import traceback
from collections.abc import Collection
from typing import Any

import oslo_messaging
from oslo_serialization import jsonutils

LOG = logging.getLogger(__name__)

#: Seconds ``withdraw`` waits for the calls under way (an engine bounds its own by its apply timeout).
WITHDRAW_WAIT = 30.0


#: Types whose values JSON gives back equal and of the same type; immutable, so never copied.
_AS_IS = frozenset({str, int, float, bool, type(None)})


def copied(value: Any) -> Any:
    """A copy of ``value`` as another process would receive it (JSON, odd objects as oslo encodes them).

    NOTE: dicts with text keys, lists and tuples are rebuilt here, and their plain values kept,
    which gives what the JSON round trip would in about half its time (each of a with-items
    task's items is copied twice: its request, its result); anything else takes the round trip.
    """
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is dict:
        if all(type(key) is str for key in value):
            return {key: item if type(item) in _AS_IS else copied(item) for key, item in value.items()}
    elif kind is list or kind is tuple:
        return [item if type(item) in _AS_IS else copied(item) for item in value]
    return json.loads(json.dumps(value, default=jsonutils.to_primitive))


#: What ``call`` answers when no server of this process takes the message: send it over the transport.
ABSENT = object()


class Endpoint:
    """One server's endpoint, and how many messages it is handling now."""

    def __init__(self, endpoint: object, quick_casts: Collection[str]) -> None:
        self._endpoint = endpoint
        self.quick_casts = frozenset(quick_casts)
        self._cond = threading.Condition()
        self._in_flight = 0
        self._withdrawn = False

    def run(self, method: str, ctxt: dict[str, Any], kwargs: dict[str, Any], *, fresh: bool = False) -> Any:
        """The handler's answer, or ABSENT once withdrawn; ``fresh``: see ``call``."""
        handler = getattr(self._endpoint, method)
        if not fresh:
            ctxt, kwargs = copied(ctxt), copied(kwargs)
        with self._cond:
            if self._withdrawn:
                return ABSENT
            self._in_flight += 1
        try:
            return contextvars.Context().run(handler, ctxt, **kwargs)
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify_all()

    def withdraw(self, timeout: float) -> None:
        with self._cond:
            self._withdrawn = True
            if not self._cond.wait_for(lambda: self._in_flight == 0, timeout):
                LOG.warning("%d in-process calls still running after %.0f s", self._in_flight, timeout)


_lock = threading.Lock()
#: topic -> server name -> endpoint
_servers: dict[str, dict[str, Endpoint]] = {}


def serve(topic: str, server: str, endpoint: object, quick_casts: Collection[str] = ()) -> None:
    """Let clients of this process call ``endpoint`` directly as ``server`` on ``topic``."""
    with _lock:
        _servers.setdefault(topic, {})[server] = Endpoint(endpoint, quick_casts)


def withdraw(topic: str, server: str, timeout: float = WITHDRAW_WAIT) -> None:
    """Take no more direct calls and wait for those under way; later messages go through the transport."""
    with _lock:
        entry = _servers.get(topic, {}).pop(server, None)
    if entry is not None:
        entry.withdraw(timeout)


def find(topic: str, server: str | None = None) -> Endpoint | None:
    """The endpoint that answers ``topic`` (``server``'s when named) in this process, if any."""
    with _lock:
        named = _servers.get(topic)
        if not named:
            return None
        if server is not None:
            return named.get(server)
        # NOTE: one engine and one executor per process: any of them is the one the transport picks.
        return next(iter(named.values()))


def call(
    topic: str,
    server: str | None,
    method: str,
    ctxt: dict[str, Any],
    kwargs: dict[str, Any],
    *,
    fresh: bool = False,
) -> Any:
    """The answer of this process's server, or ABSENT when none takes it.

    A handler's exception reaches the caller as oslo.messaging's RemoteError would.
    ``fresh``: the payload was decoded from another process's message a moment ago, and the
    answer goes back encoded: neither is shared, so neither is copied. NOTE: a 550 KB input
    bridged from the reader process took 3.9 ms to copy in the engine's process.
    NOTE: no timeout: the caller's thread runs the handler, whose own waits are bounded.
    """
    entry = find(topic, server)
    if entry is None:
        return ABSENT
    try:
        answer = entry.run(method, ctxt, kwargs, fresh=fresh)
    except Exception as error:  # noqa: BLE001 - the caller sees what a remote server's failure shows
        raise oslo_messaging.RemoteError(
            type(error).__name__, str(error), "".join(traceback.format_exception(error))
        ) from error
    return answer if answer is ABSENT or fresh else copied(answer)


def cast(topic: str, server: str | None, method: str, ctxt: dict[str, Any], kwargs: dict[str, Any]) -> bool:
    """Hand a quick cast to this process's server; False when it must go over the transport."""
    entry = find(topic, server)
    if entry is None or method not in entry.quick_casts:
        return False
    try:
        return entry.run(method, ctxt, kwargs) is not ABSENT
    except Exception:  # noqa: BLE001 - a cast has nobody to answer, as over the transport
        LOG.exception("In-process cast %s failed", method)
        return True


def reset() -> None:
    """Forget every endpoint (tests switch between transports)."""
    with _lock:
        _servers.clear()
