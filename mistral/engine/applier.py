"""Applying many small messages in as few transactions as the load allows (group commit).

Messages (action results, heartbeats) are queued as they arrive; an applier
thread takes everything queued, up to [engine] results_batch_size items, into
one transaction. Under light load that is one message a transaction; under
heavy load batches grow instead of transactions queueing for the database.

Each message gets a ``Ticket`` that tells, once its transaction has committed
(or failed), whether all of its items were applied: the sender of an action
result is answered only then, so a result is never lost with an engine that
took it off the queue and died before committing it. An apply function may
return the items it accepted (an executor's take of actions someone else took
first is applied but refused); the ticket lists them.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Collection, Hashable
from typing import Any

from mistral import config
from mistral.engine import hop_latency

LOG = logging.getLogger(__name__)

Items = list[Any]
#: Applies items in one transaction; returns those it accepted, or None for all of them.
Apply = Callable[[Items], Collection[Any] | None]


class Ticket:
    """One submitted message: done once its items were applied or failed."""

    def __init__(self, size: int) -> None:
        self._pending = size
        self._failed = 0
        #: when the message reached this engine (``time.monotonic()``)
        self.arrived = time.monotonic()
        #: the items applied and accepted, in the order they settled
        self.accepted: list[Any] = []
        self._lock = threading.Lock()
        self._done = threading.Event()
        if size == 0:
            self._done.set()

    def settle(self, item: Any, applied: bool, accepted: bool = True) -> None:
        with self._lock:
            self._pending -= 1
            self._failed += 0 if applied else 1
            if applied and accepted:
                self.accepted.append(item)
            if self._pending <= 0:
                self._done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """True once every item was applied; False if one failed or ``timeout`` passed first."""
        return self._done.wait(timeout) and not self._failed


#: Which of an applier's lanes an item belongs to: items with the same key share one lane.
Key = Callable[[Any], Hashable]


class _Lane:
    """One queue and the threads that apply it; ``busy`` is held while a batch of it is applied."""

    def __init__(self, name: str, threads: int, loop: Callable[[_Lane], None]) -> None:
        self.queue: queue.Queue[tuple[Items, Ticket] | None] = queue.Queue()
        self.busy = threading.Lock()
        self.threads = [
            threading.Thread(target=loop, args=(self,), name=f"{name}-applier-{i}", daemon=True)
            for i in range(threads)
        ]


class BatchApplier:
    """Applies queued messages in batches, in ``threads`` threads.

    With a ``key``, each thread has a lane of its own and every item goes to the
    lane of its key, so items with one key are never applied in two transactions
    at once. NOTE: the engine keys action results by workflow execution: every
    result of a workflow locks that workflow's row, so two threads applying
    results of one workflow only wait for each other, each holding a database
    connection, while the results queued behind them could have joined one batch.
    """

    def __init__(
        self,
        name: str,
        apply: Apply,
        threads: int = 1,
        key: Key | None = None,
        timed: Callable[[float], object] | None = None,
    ) -> None:
        """``timed`` is told, after each batch, the seconds since its oldest message arrived."""
        self._name = name
        self._apply = apply
        self._key = key
        self._timed = timed
        count = max(threads, 1)
        if key is None:
            self._lanes = [_Lane(name, count, self._loop)]
        else:
            self._lanes = [_Lane(f"{name}-{i}", 1, self._loop) for i in range(count)]

    def start(self) -> None:
        for lane in self._lanes:
            for thread in lane.threads:
                thread.start()

    def _split(self, items: Items) -> dict[int, Items]:
        if self._key is None or len(self._lanes) == 1:
            return {0: items}
        by_lane: dict[int, Items] = {}
        for item in items:
            by_lane.setdefault(hash(self._key(item)) % len(self._lanes), []).append(item)
        return by_lane

    def submit(self, items: Items) -> Ticket:
        items = list(items)
        ticket = Ticket(len(items))
        for lane, part in self._split(items).items():
            self._lanes[lane].queue.put((part, ticket))
        return ticket

    def apply(self, items: Items, timeout: float) -> Ticket:
        """Apply ``items`` and wait until done or ``timeout``: the caller's answer depends on it.

        NOTE: when nothing is queued in its lane, the caller applies its message itself:
        a hand-over to the applier thread and back costs more than the transaction on a
        quiet engine (a long chain of tasks). Under load, messages queue and share transactions.
        """
        items = list(items)
        parts = self._split(items)
        if len(parts) == 1:
            lane = self._lanes[next(iter(parts))]
            if lane.queue.empty() and lane.busy.acquire(blocking=False):
                try:
                    ticket = Ticket(len(items))
                    self._apply_batch([(item, ticket) for item in items])
                    return ticket
                finally:
                    lane.busy.release()
        ticket = self.submit(items)
        ticket.wait(timeout)
        return ticket

    @staticmethod
    def _take(lane: _Lane) -> list[tuple[Any, Ticket]] | None:
        """Block for one message, then add whatever else is queued, up to the batch size."""
        first = lane.queue.get()
        if first is None:
            return None
        batch = [(item, first[1]) for item in first[0]]
        limit = config.CONF.engine.results_batch_size
        while len(batch) < limit:
            try:
                more = lane.queue.get_nowait()
            except queue.Empty:
                break
            if more is None:
                lane.queue.put(None)  # NOTE: leave the stop signal for this loop's next turn
                break
            batch += [(item, more[1]) for item in more[0]]
        return batch

    def _loop(self, lane: _Lane) -> None:
        # NOTE: in a keyed lane ``busy`` keeps the lane's thread and a caller applying inline
        # (``apply``) from applying one key's items at once; the threads of a shared lane
        # apply at once, as before (takes and heartbeats do not contend for a row).
        exclusive = self._key is not None
        while True:
            batch = self._take(lane)
            if batch is None:
                return
            if exclusive:
                with lane.busy:
                    self._apply_batch(batch)
            else:
                self._apply_batch(batch)
            # NOTE: not kept while the thread waits for the next message: an idle engine held the last
            # batch (up to tens of thousands of results of a with-items, with their data) until then.
            del batch

    def _apply_batch(self, batch: list[tuple[Any, Ticket]]) -> None:
        if not batch:
            return
        # NOTE: the oldest message of the batch is the one whose hop it delays most.
        arrived = min(ticket.arrived for _, ticket in batch)
        with hop_latency.arrived_at(arrived):
            self._apply_timed(batch)
        if self._timed is not None:
            self._timed(time.monotonic() - arrived)

    def _apply_timed(self, batch: list[tuple[Any, Ticket]]) -> None:
        try:
            accepted = self._apply([item for item, _ in batch])
        except Exception:  # noqa: BLE001 - the applier thread must live on; see below
            if len(batch) == 1:
                LOG.exception("Applying one of %s failed", self._name)
                batch[0][1].settle(batch[0][0], False)
                return
            LOG.warning(
                "Applying %d %s at once failed; one by one now", len(batch), self._name, exc_info=True
            )
        else:
            for item, ticket in batch:
                ticket.settle(item, True, accepted is None or item in accepted)
            return
        # NOTE: the failed transaction changed nothing, so each message is applied
        # again on its own: one bad message (or a passing database error) must not
        # lose the others, which would end as failed actions that in fact succeeded.
        for item, ticket in batch:
            try:
                accepted = self._apply([item])
            except Exception:  # noqa: BLE001 - its sender hears of it and sends it again
                LOG.exception("Applying one of %s failed", self._name)
                ticket.settle(item, False)
            else:
                ticket.settle(item, True, accepted is None or item in accepted)

    def stop(self) -> None:
        """Apply what is queued, then end the threads."""
        for lane in self._lanes:
            for _ in lane.threads:
                lane.queue.put(None)
        for lane in self._lanes:
            for thread in lane.threads:
                thread.join(timeout=30)
