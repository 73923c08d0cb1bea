"""Checkpointing SQLite's write-ahead log in a thread of its own, not in the commit that fills it.

NOTE (issue 14): by default the commit that takes the log past 1000 pages copies
the log back into the database and syncs both files before it returns: 5-20 ms
on this disk, once every few dozen transactions of a chain, paid by whichever
hop made that commit. A thread that checkpoints a few times a second takes
that off the transactions: a passive checkpoint neither waits for nor blocks
readers and writers, and the driver releases the GIL while it runs. Writers
still checkpoint themselves past ``AUTOCHECKPOINT_PAGES``, so the log stays
bounded if this thread falls behind or is not running. A checkpoint moves
committed pages from one file to the other: what a crash keeps is the same.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

LOG = logging.getLogger(__name__)

#: Seconds between two checkpoints (one finds nothing to do on an idle database: a few µs).
INTERVAL_S = 0.2
#: Log pages past which a committing writer checkpoints after all (SQLite's default is 1000).
AUTOCHECKPOINT_PAGES = 10000


class Checkpointer:
    """A daemon thread that checkpoints the SQLite file ``path`` every ``interval`` seconds."""

    def __init__(self, path: str, interval: float = INTERVAL_S) -> None:
        self._path = path
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sqlite-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop.wait(self._interval):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as error:  # NOTE: the writers' own checkpoints remain
                    LOG.debug("Checkpoint of %s failed: %s", self._path, error)
        finally:
            conn.close()
