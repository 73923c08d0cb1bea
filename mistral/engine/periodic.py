"""Keeping the engine's periodic jobs (recovery, cron, expiration) in the database.

A periodic job reschedules itself, but a job that keeps failing (say, through
a database outage) is eventually dropped by the scheduler; checking again every
minute brings it back without an engine restart.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

LOG = logging.getLogger(__name__)


class PeriodicJobs:
    def __init__(self, ensure: Sequence[Callable[[], None]], interval: float = 60.0) -> None:
        self._ensure = list(ensure)
        self._interval = interval
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> None:
        for ensure in self._ensure:
            try:
                ensure()
            except Exception:  # noqa: BLE001 - try the others, and this one again next time
                LOG.exception("Could not make sure the periodic job of %s exists", ensure.__module__)

    def start(self) -> None:
        self.check()
        self._thread = threading.Thread(target=self._loop, name="periodic-jobs", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stopped.wait(self._interval):
            self.check()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
