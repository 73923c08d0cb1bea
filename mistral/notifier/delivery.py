"""The delivery loop: events from the database to their publishers, each stream in order.

A stream is one execution's events for one publisher. Only its first event is
ever taken, by an atomic claim, so with any number of notifiers its events
leave one at a time, in the order they were committed. A failed attempt leaves
the event first in its stream, to be tried again after a growing delay; after
``[notifier] give_up_after`` it is dropped with an error in the log and the
stream goes on.

The guarantee is at-least-once: an event is removed only after its receiver
took it, so a notifier that dies between the two (or whose claim times out
while it waits for a slow receiver) makes it be sent again. Every copy
carries the same ``X-Mistral-Event-Id`` for the receiver to deduplicate by.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import logging
import socket
import threading
from collections.abc import Callable

from mistral import config, notifier
from mistral.db import api as db_api
from mistral.db import models
from mistral.db.types import utcnow
from mistral.exceptions import InputError
from mistral.notifier import events, publishers
from mistral.utils import uuids

LOG = logging.getLogger(__name__)


def retry_delay(attempts: int, initial: float, most: float) -> float:
    """Seconds before the next try of an event that failed ``attempts`` times before this one."""
    return min(initial * 2 ** min(attempts, 30), most)


class Notifier:
    """The loop of one notifier: looks for due stream heads and delivers them in a worker pool."""

    def __init__(self, name: str | None = None, *, clock: Callable[[], datetime.datetime] = utcnow) -> None:
        conf = config.CONF.notifier
        if conf.claim_timeout <= conf.request_timeout:
            raise ValueError(
                f"[notifier] claim_timeout ({conf.claim_timeout}) must exceed request_timeout "
                f"({conf.request_timeout}), or an event still being sent would be sent again"
            )
        try:
            events.parse_configured(conf.notify)
        except InputError as error:
            raise ValueError(str(error)) from error
        self.name = name or conf.host or socket.gethostname()
        self._clock = clock
        self._stopped = threading.Event()
        self._busy: set[str] = set()
        self._lock = threading.Lock()
        self._pool = concurrent.futures.ThreadPoolExecutor(conf.workers, thread_name_prefix="notifier")
        self._thread: threading.Thread | None = None

    # -- life cycle -------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="notifier", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Take nothing new; an attempt under way finishes (at most [notifier] request_timeout)."""
        self._stopped.set()
        notifier.wake()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stopped.is_set():
            try:
                self.dispatch()
            except Exception:  # noqa: BLE001 - a database outage: look again later, the rows wait
                LOG.exception("Looking for notification events failed; trying again")
            notifier.wait_for_events(config.CONF.notifier.poll_interval)

    # -- one look ---------------------------------------------------------------------------------

    def dispatch(self) -> list[concurrent.futures.Future[None]]:
        """Hand every due stream nobody delivers to a worker; the futures of those handed out."""
        conf = config.CONF.notifier
        with self._lock:
            busy = tuple(self._busy)
        now = self._clock()
        heads = db_api.find_notification_heads(now, conf.claim_timeout, conf.batch_size, exclude=busy)
        futures = []
        for head in heads:
            with self._lock:
                if head.stream in self._busy:
                    continue
                self._busy.add(head.stream)
            futures.append(self._pool.submit(self._drain, head))
        return futures

    def _drain(self, head: models.NotificationEvent) -> None:
        """Deliver ``head``, then the stream's next events, until it is empty, waits, or is taken."""
        try:
            event: models.NotificationEvent | None = head
            while event is not None and not self._stopped.is_set():
                if not self._deliver(event):
                    return
                event = db_api.load_notification_head(event.stream)
        except Exception:  # noqa: BLE001 - the claim times out and the event is tried again
            LOG.exception("Delivering the events of stream %s failed", head.stream)
        finally:
            with self._lock:
                self._busy.discard(head.stream)

    def _deliver(self, event: models.NotificationEvent) -> bool:
        """One attempt; True when the stream may go on (delivered or dropped)."""
        conf = config.CONF.notifier
        token = f"{self.name} {uuids.generate()}"
        if not db_api.claim_notification_event(event.seq, token, self._clock(), conf.claim_timeout):
            return False  # not due yet, or another notifier has it
        try:
            publishers.publish(event.publisher, event.id, event.payload, conf.request_timeout)
        except publishers.DeliveryError as error:
            return self._failed(event, token, str(error))
        if not db_api.delete_notification_event(event.seq, token=token):
            LOG.warning("Notification event %s was delivered after its claim timed out", event.id)
            return False
        LOG.debug("Delivered %s of execution %s (event %s)", event.event, event.execution_id, event.id)
        return True

    def _failed(self, event: models.NotificationEvent, token: str, error: str) -> bool:
        conf = config.CONF.notifier
        now = self._clock()
        target = publishers.describe(event.publisher)
        age = (now - event.created_at).total_seconds()
        if conf.give_up_after and age >= conf.give_up_after:
            LOG.error(
                "Dropping notification event %s (%s of execution %s, project %s) for %s: not delivered "
                "in %d attempts over %.0f s ([notifier] give_up_after); last error: %s",
                event.id, event.event, event.execution_id, event.project_id, target,
                event.attempts + 1, age, error,
            )  # fmt: skip
            db_api.delete_notification_event(event.seq, token=token)
            return True
        delay = retry_delay(event.attempts, conf.retry_initial_delay, conf.retry_max_delay)
        LOG.warning(
            "Notification event %s (%s of execution %s) for %s failed (attempt %d): %s; retrying in %.1f s",
            event.id, event.event, event.execution_id, target, event.attempts + 1, error, delay,
        )  # fmt: skip
        db_api.release_notification_event(
            event.seq,
            token=token,
            next_attempt_at=now + datetime.timedelta(seconds=delay),
            error=error,
        )
        return False
