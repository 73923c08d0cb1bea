"""Keeping Python's garbage collector off the objects that live as long as the process.

A full (generation 2) collection walks every tracked object. After start-up
that is mostly modules, configuration, SQLAlchemy metadata and the action
registry, which never become garbage; with them in the walk each full
collection took 110-160 ms here, and a 10000-item with-items run triggered
five of them. Frozen, they are skipped, and a full collection walks only
what the work in flight allocated.

In a process that runs the engine or an executor, the youngest generation is
collected after YOUNG_COLLECTION_AFTER new objects, not Python's 700: their
work makes almost no reference cycles (a 10000-item with-items run, 3 times
over, made 1300 young collections that freed 47 objects, and promoted enough
survivors for 120 middle and 10 full ones: 0.35 s of its 6.5 s; after 10000,
44 young and 3 middle ones, 0.11 s). What is freed without the collector
(nearly everything) is freed at once as before; only cycles wait longer. An
API process keeps Python's thresholds: its requests do make cycles, and with
10000 the API reader process of the benchmark grew from 105 to 126-137 MB.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import threading
import time
from collections.abc import Callable, Collection

LOG = logging.getLogger(__name__)


#: New objects (net of those freed) after which an engine's or executor's youngest generation is collected.
YOUNG_COLLECTION_AFTER = 10_000
#: The services whose processes collect their youngest generation that late.
FEW_CYCLES_SERVICES = frozenset({"engine", "executor"})


def freeze_startup_objects(services: Collection[str] = ()) -> None:
    """Call once the process has loaded everything it keeps (after start-up, before serving).

    ``services``: those the process runs (``mistral.launcher``'s names); empty for an API process.
    """
    gc.collect()
    gc.freeze()
    if FEW_CYCLES_SERVICES & set(services):
        gc.set_threshold(YOUNG_COLLECTION_AFTER, *gc.get_threshold()[1:])


# NOTE on glibc: memory freed after a large transaction (a 10000-item with-items
# holds its rows, requests and JSON at once) stays in the process unless the heap
# is trimmed, and every thread that allocates may get an arena of its own (up to
# eight per core), each keeping its own freed memory. Fewer arenas and a trim give
# most of it back (6-8 MB after a 10000-item with-items); elsewhere than glibc both
# are no-ops. A trim holds the heap's lock for about 1 ms when there is much to give
# back, so it waits for a quiet moment after work rather than cutting into it.
_M_ARENA_MAX = -8
#: Seconds between looks at the process's CPU time.
CHECK_INTERVAL_S = 1.0
#: Seconds after which the heap is trimmed however busy the process is.
TRIM_INTERVAL_S = 30.0
#: A look that found less CPU than this share of its interval spent is a quiet moment.
QUIET_SHARE = 0.2


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def limit_malloc_arenas(count: int = 2) -> None:
    """Call before the process starts its threads: arenas made later are capped at ``count``."""
    libc = _glibc()
    if libc is not None:
        libc.mallopt(_M_ARENA_MAX, count)


def trim() -> None:
    """Give the heap's free memory back to the operating system."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def trim_due(cpu_last_look: float, cpu_since_trim: float, since_trim: float, interval: float) -> bool:
    """Whether to trim now: quiet after some work, or the longest wait is over.

    ``cpu_last_look``: CPU seconds spent since the last look, ``interval`` seconds ago;
    ``cpu_since_trim``: since the last trim, ``since_trim`` seconds ago.
    """
    if since_trim >= TRIM_INTERVAL_S:
        return True
    quiet = cpu_last_look < interval * QUIET_SHARE
    worked = cpu_since_trim - cpu_last_look >= interval * QUIET_SHARE
    return quiet and worked


def start_trimming(
    interval: float = CHECK_INTERVAL_S, release: Callable[[], None] | None = None
) -> threading.Event:
    """Every ``interval`` seconds, a daemon thread trims when due; set the event returned to stop it.

    ``release``, called before each trim, lets go of what the process keeps only to go faster
    (idle database connections), so that the trim gives that memory back too.
    NOTE: a quiet second is when an idle process gives its freed heap back, not 30 s later.
    """
    stop = threading.Event()

    def loop() -> None:
        last_cpu = trimmed_cpu = time.process_time()
        trimmed_at = time.monotonic()
        while not stop.wait(interval):
            cpu = time.process_time()
            if trim_due(cpu - last_cpu, cpu - trimmed_cpu, time.monotonic() - trimmed_at, interval):
                if release is not None:
                    try:
                        release()
                    except Exception:  # noqa: BLE001 - the trimming goes on; memory is not a reason to stop
                        LOG.exception("Releasing idle resources before a trim failed")
                trim()
                trimmed_cpu, trimmed_at = cpu, time.monotonic()
            last_cpu = cpu

    threading.Thread(target=loop, name="memory-trim", daemon=True).start()
    return stop
