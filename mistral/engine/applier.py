"""Applying many small messages in as few transactions as the load allows (group commit).

Messages (action results, heartbeats) are queued as they arrive; an applier
thread takes everything queued, up to [engine] results_batch_size items, into
one transaction. Under light load that is one message a transaction; under
heavy load batches grow instead of transactions queueing for the database.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from mistral import config

LOG = logging.getLogger(__name__)

Items = list[Any]


class BatchApplier:
    def __init__(self, name: str, apply: Callable[[Items], None], threads: int = 1) -> None:
        self._name = name
        self._apply = apply
        self._queue: queue.Queue[Items | None] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._loop, name=f"{name}-applier-{i}", daemon=True)
            for i in range(threads)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def submit(self, items: Items) -> None:
        self._queue.put(list(items))

    def _take(self) -> Items | None:
        """Block for one message, then add whatever else is queued, up to the batch size."""
        first = self._queue.get()
        if first is None:
            return None
        batch, limit = first, config.CONF.engine.results_batch_size
        while len(batch) < limit:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                break
            if more is None:
                self._queue.put(None)  # NOTE: leave the stop signal for this loop's next turn
                break
            batch += more
        return batch

    def _loop(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            self._apply_batch(batch)

    def _apply_batch(self, batch: Items) -> None:
        try:
            self._apply(batch)
            return
        except Exception:  # noqa: BLE001 - the applier thread must live on; see below
            if len(batch) == 1:
                LOG.exception("Applying one of %s failed", self._name)
                return
            LOG.warning(
                "Applying %d %s at once failed; one by one now", len(batch), self._name, exc_info=True
            )
        # NOTE: the failed transaction changed nothing, so each message is applied
        # again on its own: one bad message (or a passing database error) must not
        # lose the others, which would end as failed actions that in fact succeeded.
        for item in batch:
            try:
                self._apply([item])
            except Exception:  # noqa: BLE001 - logged; the recovery loop repairs what stays behind
                LOG.exception("Applying one of %s failed", self._name)

    def stop(self) -> None:
        """Apply what is queued, then end the threads."""
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=30)
