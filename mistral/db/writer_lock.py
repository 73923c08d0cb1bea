"""SQLite's single writer slot, shared fairly by the threads of one process, urgent ones first.

NOTE: SQLite has one writer at a time and its busy handler waits by sleeping
(up to 100 ms a try); threads of one process queue on this lock instead and
take their turn the moment it is free. A short transaction that others wait
on (an executor taking actions before it may run them) goes before the long
ones queued behind the current writer, or a with-items of 10 000 items would
keep its executors idle behind result batches. So do the starts of executions,
whose callers wait for the answer (issue 14). Urgent ones go first only
URGENT_STREAK times in a row while others wait: a flood of them (clients
starting executions without pause) slows the running executions but never stops them.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

#: Urgent holders in a row, while a regular one waits, before that one gets its turn.
URGENT_STREAK = 8


class WriterLock:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._owner: int | None = None
        self._depth = 0
        self._urgent_waiting = 0
        self._regular_waiting = 0
        #: urgent holders since the last regular one
        self._streak = 0

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
                    while self._owner is not None or (
                        self._regular_waiting and self._streak >= URGENT_STREAK
                    ):
                        self._cond.wait()
                finally:
                    self._urgent_waiting -= 1
                self._streak += 1
            else:
                self._regular_waiting += 1
                try:
                    while self._owner is not None or (self._urgent_waiting and self._streak < URGENT_STREAK):
                        self._cond.wait()
                finally:
                    self._regular_waiting -= 1
                self._streak = 0
            self._owner, self._depth = me, 1

    def _release(self) -> None:
        with self._cond:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._cond.notify_all()
