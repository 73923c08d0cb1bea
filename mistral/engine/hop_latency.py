"""How long an action result waits at the engine before the actions it caused leave (issue 14).

The time runs from the moment a message (a batch of action results) reaches the
engine's applier to the moment the outbox of its transaction has sent the next
actions: the lock, the decision, the commit and the send, the engine's whole
share of a hop. Only transactions that send actions count; a result that ends
a workflow causes nothing to send.

NOTE: kept cheap: one ``time.monotonic()`` at arrival, one append to a bounded
window after the send; percentiles are computed only when someone asks.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

from mistral.metrics import series

LOG = logging.getLogger(__name__)

#: The most recent hops the percentiles are taken over.
WINDOW = 4096
#: Least seconds between two log lines of the figures.
LOG_EVERY = 60.0

_arrived: contextvars.ContextVar[float | None] = contextvars.ContextVar("mistral_hop_arrived", default=None)


class Window:
    """The latest ``size`` latencies (seconds) and how many were ever recorded."""

    def __init__(self, size: int = WINDOW) -> None:
        #: (the hop's number, counted from 1, and its latency)
        self._samples: deque[tuple[int, float]] = deque(maxlen=size)
        self._count = 0
        self._lock = threading.Lock()
        self._logged_at = time.monotonic()

    def record(self, seconds: float) -> None:
        with self._lock:
            self._count += 1
            self._samples.append((self._count, seconds))
            due = time.monotonic() - self._logged_at >= LOG_EVERY
            if due:
                self._logged_at = time.monotonic()
        if due:
            LOG.info("Result to next send: %s", self.summary())

    def summary(self, since: int = 0) -> dict[str, Any]:
        """``{"count", "window", "p50_ms", "p95_ms", "max_ms"}`` over the hops in the window numbered
        above ``since`` (a ``count`` read before a workload: then the figures are that workload's);
        the times are None without such hops."""
        with self._lock:
            samples, count = sorted(s for n, s in self._samples if n > since), self._count
        if not samples:
            return {"count": count, "window": 0, "p50_ms": None, "p95_ms": None, "max_ms": None}

        def ms(q: float) -> float:
            return round(1000 * samples[min(int(q * len(samples)), len(samples) - 1)], 3)

        return {
            "count": count,
            "window": len(samples),
            "p50_ms": ms(0.5),
            "p95_ms": ms(0.95),
            "max_ms": ms(1),
        }

    def clear(self) -> None:
        with self._lock:
            self._samples.clear()
            self._count = 0


RESULT_TO_SEND = Window()


@contextlib.contextmanager
def arrived_at(moment: float) -> Iterator[None]:
    """What is applied inside arrived (``time.monotonic()``) at ``moment``."""
    token = _arrived.set(moment)
    try:
        yield
    finally:
        _arrived.reset(token)


def actions_sent() -> None:
    """The outbox of the current transaction has sent its actions: count the hop, if one is timed.

    NOTE: also into a Prometheus histogram: the window answers for one engine (the one an RPC call
    reaches), the histograms of every engine's [metrics] port add up to the whole deployment's hops.
    """
    moment = _arrived.get()
    if moment is not None:
        seconds = time.monotonic() - moment
        RESULT_TO_SEND.record(seconds)
        series.HOP_LATENCY.observe(seconds)
