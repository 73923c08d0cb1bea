"""SQLite's single writer slot, shared fairly by the threads of one process, urgent ones first.

NOTE: SQLite has one writer at a time and its busy handler waits by sleeping
(up to 100 ms a try); threads of one process queue on this lock instead and
take their turn the moment it is free. A short transaction that others wait
on (an executor taking actions before it may run them) goes before the long
ones queued behind the current writer, or a with-items of 10 000 items would
keep its executors idle behind result batches.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator


class WriterLock:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._owner: int | None = None
        self._depth = 0
        self._urgent_waiting = 0

    @contextlib.contextmanager
    def held(self, *, urgent: bool = False) -> Iterator[None]:
        self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    def _acquire(self, urgent: bool) -> None:
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:  # reentrant, as the RLock it replaces
                self._depth += 1
                return
            if urgent:
                self._urgent_waiting += 1
                try:
                    while self._owner is not None:
                        self._cond.wait()
                finally:
                    self._urgent_waiting -= 1
            else:
                while self._owner is not None or self._urgent_waiting:
                    self._cond.wait()
            self._owner, self._depth = me, 1

    def _release(self) -> None:
        with self._cond:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._cond.notify_all()
