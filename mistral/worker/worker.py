"""An external worker's loop: claim an item, keep its lease alive while handling it, report the result.

Stopping (SIGTERM) stops the claims; the item in hand is finished if it finishes within
``grace`` seconds, else its handler is told to give up (``abandon``) and the item is given
back, so another worker takes it at once rather than after its lease runs out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import requests

from mistral.worker.client import Client, WorkItem

LOG = logging.getLogger(__name__)

#: Seconds to wait after the API could not be reached, growing to ``MAX_BACKOFF``.
BACKOFF, MAX_BACKOFF = 0.5, 10.0
#: Heartbeats per lease: a lost heartbeat or two leaves time for the next.
BEATS_PER_LEASE = 3


class Abandoned(Exception):  # noqa: N818 - a request to give the item back, not an error
    """The handler gave up on the item because the worker is stopping: the item is given back."""


class WorkFailed(Exception):
    """The handler's work failed; ``error`` (a JSON value) is reported as the action's error."""

    def __init__(self, error: Any) -> None:
        super().__init__(str(error))
        self.error = error


#: Does the work of an item: its input in, its result out. ``abandon`` is set when it should give up.
Handler = Callable[[WorkItem, threading.Event], Any]


class _Heartbeat(threading.Thread):
    """Renews one item's lease every lease/3 seconds until stopped, or until the lease is lost."""

    def __init__(self, client: Client, item: WorkItem, lease: float) -> None:
        super().__init__(name=f"heartbeat-{item.id}", daemon=True)
        self.client, self.item, self.lease = client, item, lease
        self.lost = threading.Event()
        self._stop_beating = threading.Event()

    def run(self) -> None:
        while not self._stop_beating.wait(self.lease / BEATS_PER_LEASE):
            try:
                if not self.client.heartbeat(self.item, self.lease):
                    LOG.warning("Work item %s: the lease was lost (claimed again or cancelled)", self.item.id)
                    self.lost.set()
                    return
            except (requests.RequestException, OSError) as error:
                LOG.warning("Work item %s: heartbeat failed (%s); trying again", self.item.id, error)

    def stop(self) -> None:
        self._stop_beating.set()
        self.join(timeout=5)


class Worker:
    """Claims items of ``queue`` having every tag in ``tags``, one at a time, for ``handler``."""

    def __init__(
        self,
        client: Client,
        queue: str,
        handler: Handler,
        *,
        tags: Sequence[str] = (),
        lease: float = 30.0,
        wait: float = 10.0,
        grace: float = 30.0,
        name: str | None = None,
        max_items: int | None = None,
    ) -> None:
        self.client, self.queue, self.handler = client, queue, handler
        self.tags, self.lease, self.wait, self.grace = list(tags), lease, wait, grace
        self.name, self.max_items = name, max_items
        self.handled = 0
        self._stopping = threading.Event()
        self._abandon = threading.Event()

    def stop(self) -> None:
        """Stop claiming; the item in hand has ``grace`` seconds to finish before it is given back."""
        if self._stopping.is_set():
            return
        LOG.info("Stopping: no more claims; the item in hand has %s s to finish", self.grace)
        self._stopping.set()
        timer = threading.Timer(self.grace, self._abandon.set)
        timer.daemon = True
        timer.start()

    def run(self) -> int:
        """Work until stopped (or ``max_items`` are handled); answers how many items were handled."""
        backoff = BACKOFF
        while not self._stopping.is_set() and (self.max_items is None or self.handled < self.max_items):
            asked = time.monotonic()
            try:
                items = self.client.claim(
                    self.queue, self.tags, max=1, lease=self.lease, wait=self.wait, worker=self.name
                )
            except (requests.ConnectionError, requests.Timeout) as error:
                LOG.warning("Could not claim (%s); trying again in %.1f s", error, backoff)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            backoff = BACKOFF
            if not items:
                # NOTE: an empty answer well before ``wait``: the server had no thread to spare for
                # one more waiting claim; pause rather than ask again at once.
                if time.monotonic() - asked < self.wait / 2:
                    self._stopping.wait(min(1.0, self.wait))
                continue
            for item in items:
                if self._stopping.is_set():
                    self.client.release(item)
                    continue
                self._handle(item)
        return self.handled

    def _handle(self, item: WorkItem) -> None:
        LOG.info("Work item %s (task %s, attempt %s) claimed", item.id, item.task_name, item.attempt)
        heartbeat = _Heartbeat(self.client, item, self.lease)
        heartbeat.start()
        try:
            try:
                output = self.handler(item, self._abandon)
            except Abandoned:
                LOG.info("Work item %s given back unfinished: the worker is stopping", item.id)
                self.client.release(item)
                return
            except WorkFailed as failure:
                accepted = self.client.fail(item, failure.error)
            except Exception as error:  # noqa: BLE001 - the handler's failure is the action's error
                accepted = self.client.fail(item, {"error": str(error), "type": type(error).__name__})
            else:
                accepted = self.client.succeed(item, output)
        finally:
            heartbeat.stop()
        self.handled += 1
        if not accepted:
            LOG.warning(
                "Work item %s: the result was refused (the lease was lost or it was cancelled)", item.id
            )
