"""Gathering finished action results into few messages to the engine.

NOTE: waiting to batch only pays when more results are on their way. The
batcher counts the results it still expects (``expect()`` when an action is
accepted, ``add()``/``forget()`` when it ends); with none outstanding it sends
at once, so a lone result in a long sequential chain is not delayed at all,
while a burst from a wide fan-out shares one message per ``interval`` or per
``max_batch`` results, whichever comes first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

LOG = logging.getLogger(__name__)

MAX_BATCH = 100

Sink = Callable[[list[dict[str, Any]]], None]


class ResultBatcher:
    def __init__(self, send: Sink, interval: float, max_batch: int = MAX_BATCH) -> None:
        self._send = send
        self._interval = max(float(interval), 0.0)
        self._max_batch = max(int(max_batch), 1)
        self._cond = threading.Condition()
        self._buffer: list[dict[str, Any]] = []
        self._outstanding = 0
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="executor-results", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Send everything buffered and stop; later results are sent one by one."""
        with self._cond:
            thread, self._thread = self._thread, None
            self._stopping = True
            self._cond.notify_all()
        if thread is not None:
            thread.join()
        self._drain()  # what arrived while the flusher was finishing

    def expect(self) -> None:
        """One more result is on its way."""
        with self._cond:
            self._outstanding += 1

    def forget(self) -> None:
        """An expected result will not come (an async action)."""
        with self._cond:
            self._outstanding = max(self._outstanding - 1, 0)
            self._cond.notify_all()

    def add(self, result: dict[str, Any]) -> None:
        """Buffer an expected result for the next flush."""
        with self._cond:
            self._outstanding = max(self._outstanding - 1, 0)
            self._buffer.append(result)
            running = self._thread is not None
            self._cond.notify_all()
        if not running:
            # Stopped (or never started): nobody would flush it, so never hold it back.
            self._drain()

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            self._deliver(batch)

    def _next_batch(self) -> list[dict[str, Any]] | None:
        """The next batch to send, once it is due; None once stopped and empty."""
        with self._cond:
            while not self._buffer:
                if self._stopping:
                    return None
                self._cond.wait()
            deadline = time.monotonic() + self._interval
            while len(self._buffer) < self._max_batch and self._outstanding and not self._stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            batch = self._buffer[: self._max_batch]
            del self._buffer[: self._max_batch]
            return batch

    def _drain(self) -> None:
        while True:
            with self._cond:
                batch = self._buffer[: self._max_batch]
                del self._buffer[: self._max_batch]
            if not batch:
                return
            self._deliver(batch)

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        try:
            self._send(batch)
        except Exception:
            # NOTE: no retry here: the transport already retries, and the engine's
            # heartbeat check fails (or safely reruns) actions whose result never arrives.
            LOG.exception(
                "Could not report %d action results: %s", len(batch), [r.get("action_ex_id") for r in batch]
            )
