"""Gathering finished action results into few messages to the engine.

Results are the executor's until an engine confirms it has committed them:
a batch whose delivery fails (no engine answered, or the engine died before
committing) is kept and sent again, with a growing pause, and its action ids
go on being reported as running so no engine takes them for lost.

NOTE: waiting to batch only pays when more results are on their way. The
batcher counts the results it still expects (``expect()`` when an action is
accepted, ``add()``/``forget()`` when it ends); with none outstanding it sends
at once, from the thread that adds it, so a lone result in a long sequential
chain is not delayed at all,
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

#: Results in one message: as many as an engine applies in one transaction ([engine] results_batch_size).
MAX_BATCH = 500

Sink = Callable[[list[dict[str, Any]]], None]


class ResultBatcher:
    def __init__(
        self, send: Sink, interval: float, max_batch: int = MAX_BATCH, *, max_retry_delay: float = 5.0
    ) -> None:
        self._send = send
        self._interval = max(float(interval), 0.0)
        self._max_batch = max(int(max_batch), 1)
        self._max_retry_delay = max(float(max_retry_delay), 0.01)
        self._cond = threading.Condition()
        self._buffer: list[dict[str, Any]] = []
        #: batches no engine has confirmed, sent again once ``_retry_at`` (monotonic) has passed
        self._unconfirmed: list[list[dict[str, Any]]] = []
        #: batches on their way now: still ours until an engine answers
        self._in_flight: list[list[dict[str, Any]]] = []
        self._retry_delay = 0.0
        self._retry_at = 0.0
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

    @property
    def unconfirmed_ids(self) -> list[str]:
        """Ids of finished actions whose results no engine has confirmed yet (buffered ones too)."""
        with self._cond:
            held = [r for batch in self._unconfirmed + self._in_flight for r in batch] + self._buffer
            return [r["action_ex_id"] for r in held if r.get("action_ex_id")]

    def expect(self, count: int = 1) -> None:
        """``count`` more results are on their way."""
        with self._cond:
            self._outstanding += count

    def forget(self, count: int = 1) -> None:
        """``count`` expected results will not come (an async action, jobs dropped before they ran)."""
        with self._cond:
            self._outstanding = max(self._outstanding - count, 0)
            self._cond.notify_all()

    def add(self, result: dict[str, Any]) -> None:
        """Buffer an expected result for the next flush, or deliver it now when nothing would join it."""
        with self._cond:
            self._outstanding = max(self._outstanding - 1, 0)
            running = self._thread is not None
            # NOTE: a lone result (nothing buffered or expected, no retry due to go first) is
            # delivered by the thread that finished it: waking the flusher to send it alone only
            # adds a thread hand-off to every hop of a chain.
            alone = running and not self._outstanding and not self._buffer and not self._unconfirmed
            if not alone:
                self._buffer.append(result)
                # NOTE: the flusher waits for a first result, then for a full batch or for nothing
                # more to be expected: waking it for every other result of a with-items task only
                # cost a thread switch per item.
                if len(self._buffer) == 1 or len(self._buffer) >= self._max_batch or not self._outstanding:
                    self._cond.notify_all()
        if alone:
            self._deliver([result])
        elif not running:
            # Stopped (or never started): nobody would flush it, so never hold it back.
            self._drain()

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            self._deliver(batch)
            del batch  # NOTE: not held, with its results' data, while the thread waits for the next

    def _next_batch(self) -> list[dict[str, Any]] | None:
        """The next batch to send, once it is due; None once stopped and empty."""
        with self._cond:
            while True:
                # NOTE: a retry that is due goes first, or a steady stream of new results starves it.
                if self._unconfirmed and time.monotonic() >= self._retry_at:
                    return self._unconfirmed.pop(0)
                if self._buffer:
                    break
                if self._stopping:
                    return None
                self._cond.wait(max(self._retry_at - time.monotonic(), 0.0) if self._unconfirmed else None)
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
        """Send what is buffered, and once more what is unconfirmed (stopping: nobody retries later)."""
        with self._cond:
            retries, self._unconfirmed = self._unconfirmed, []
        for batch in retries:
            self._deliver(batch)
        while True:
            with self._cond:
                batch = self._buffer[: self._max_batch]
                del self._buffer[: self._max_batch]
            if not batch:
                return
            self._deliver(batch)

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        with self._cond:
            self._in_flight.append(batch)
        try:
            self._send(batch)
        except Exception as error:  # noqa: BLE001 - kept and sent again; see _keep
            self._keep(batch, error)
            return
        finally:
            with self._cond:
                self._in_flight.remove(batch)
        with self._cond:
            self._retry_delay = 0.0

    def _keep(self, batch: list[dict[str, Any]], error: Exception) -> None:
        with self._cond:
            self._retry_delay = min(max(self._retry_delay * 2, 0.25), self._max_retry_delay)
            self._retry_at = time.monotonic() + self._retry_delay
            self._unconfirmed.append(batch)
            self._cond.notify_all()
            delay = self._retry_delay
        LOG.warning(
            "No engine confirmed %d action results (%s); sending them again in %.2f s: %s",
            len(batch), error, delay, [r.get("action_ex_id") for r in batch],
        )  # fmt: skip
