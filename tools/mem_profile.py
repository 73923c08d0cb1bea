"""Where the memory of the embedded engine goes: RSS and tracemalloc growth around big with-items runs.

    python tools/mem_profile.py --items 10000 --runs 2 [--census] [--trace] [--db /tmp/x.sqlite]

The engine and executor run here on the in-process transport and SQLite (no API), as in
``mistral-server --server all``; the workflow is bench/run.py's ``with_items_input`` (one
``std.echo`` task over the input list ``nums``). After each run the process collects its
garbage and trims the heap, as the server does, then prints its RSS, glibc's heap (in use,
free) and pymalloc's arenas (in use, free in pools, unused pools): RSS that stays while
little is in use is fragmentation, not a leak. It also samples the count of Python blocks
and prints the busy threads at the highest one. ``--census`` counts the objects left after
the runs by type (start-up objects are frozen, so they are not counted); ``--trace``
compares tracemalloc snapshots (slow: tens of times; use a few thousand items).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import inspect
import linecache
import os
import re
import sys
import tempfile
import threading
import time
import traceback
import tracemalloc

import inprocess

from mistral import config, context
from mistral.db import api as db_api
from mistral.db import session
from mistral.rpc import clients
from mistral.utils import memory

WORKFLOW = """\
version: '2.0'
with_items_input:
  input:
    - nums
  output:
    n: <% $.r.len() %>
  tasks:
    echo_all:
      with-items: x in <% $.nums %>
      action: std.echo
      input:
        output: <% $.x * 3 %>
      publish:
        r: <% task().result %>
"""


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def settle() -> str:
    """Collect and trim as the server's trimming thread would; describe the RSS left and the heap."""
    linecache.clearcache()  # filled by this tool's own stack sampling
    gc.collect()
    memory.trim()
    return f"{rss_mb():.1f} MB ({heap()})"


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def heap() -> str:
    """glibc's view: bytes in use and free in its heaps (sbrk and arenas), and in mmap'ed blocks."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        info = libc.mallinfo2()
    except (OSError, AttributeError):
        return "no mallinfo2"
    mb = 2**20
    return (
        f"malloc in use {info.uordblks / mb:.1f} MB, free {info.fordblks / mb:.1f} MB, "
        f"mmap {info.hblkhd / mb:.1f} MB; {sqlite()}; {pymalloc()}"
    )


def sqlite() -> str:
    """SQLite's own allocations (page caches of every open connection, statements) and the pool."""
    try:
        lib = ctypes.CDLL("libsqlite3.so.0")
        lib.sqlite3_memory_used.restype = ctypes.c_int64
        used = f"sqlite {lib.sqlite3_memory_used() / 2**20:.1f} MB"
    except (OSError, AttributeError):
        used = "sqlite ?"
    pool = session.get_engine().pool
    return f"{used} in {pool.checkedin() + pool.checkedout()} connections"


def pymalloc() -> str:
    """pymalloc's arenas (mmap'ed, 1 MiB each): how many are held, and how full their pools are."""
    # NOTE: the statistics go to the C-level stderr, so the file descriptor itself is redirected.
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile("w+") as out:
        os.dup2(out.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        stats = out.read()

    def number(pattern: str) -> int:
        found = re.search(pattern, stats, re.M)
        return int(found.group(1).replace(",", "")) if found else 0

    arenas = number(r"^# arenas allocated current\s+=\s+([\d,]+)")
    used = number(r"^# bytes in allocated blocks\s+=\s+([\d,]+)") / 2**20
    free = number(r"^# bytes in available blocks\s+=\s+([\d,]+)") / 2**20
    unused = number(r"^\d+ unused pools \* \d+ bytes\s+=\s+([\d,]+)") / 2**20
    return (
        f"pymalloc: {arenas} arenas of 1 MiB, {used:.1f} MB in use, {free:.1f} MB free in pools, "
        f"{unused:.1f} MB in unused pools"
    )


def wait_done(ex_id: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db_api.transaction(read_only=True):
            state = db_api.get_workflow_execution(ex_id).state
        if state in ("SUCCESS", "ERROR", "CANCELLED"):
            return state
        time.sleep(0.05)
    raise TimeoutError(ex_id)


class PeakSnapshot(threading.Thread):
    """Takes a tracemalloc snapshot whenever the traced memory passes its last peak by 10%."""

    def __init__(self) -> None:
        super().__init__(name="peak-snapshot", daemon=True)
        self.size = 0
        self.snapshot: tracemalloc.Snapshot | None = None
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(0.25):
            current, _ = tracemalloc.get_traced_memory()
            if current > self.size * 1.1:
                self.snapshot, self.size = tracemalloc.take_snapshot(), current

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


class PeakStacks(threading.Thread):
    """Samples the count of Python's allocated blocks and keeps every thread's stack at its highest.

    NOTE: it must not call gc.get_objects() while the engine runs: the list it returns holds a
    reference to tuples still being built by other threads, and tuple() then fails in those
    threads with SystemError (_PyTuple_Resize needs the only reference); the engine crashed so
    at 60k-100k items. Count the types after the runs instead (--census).
    """

    def __init__(self) -> None:
        super().__init__(name="peak-stacks", daemon=True)
        self.blocks = sys.getallocatedblocks()
        self.stacks: dict[str, list[str]] = {}
        self._stop_event = threading.Event()

    def run(self) -> None:
        names = {}
        while not self._stop_event.wait(0.02):
            blocks = sys.getallocatedblocks()
            if blocks > self.blocks * 1.03:
                names = {t.ident: t.name for t in threading.enumerate()}
                self.blocks = blocks
                self.stacks = {
                    names.get(ident, str(ident)): traceback.format_stack(frame)[-10:]
                    for ident, frame in sys._current_frames().items()
                    if ident != threading.get_ident()
                }

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def report(self, start_blocks: int) -> None:
        print(f"peak: {self.blocks - start_blocks:+d} Python blocks over the start; the threads then:")
        for name, stack in self.stacks.items():
            if not any("/mistral/" in line for line in stack[-4:]):
                continue  # idle (waiting on a queue or a condition)
            print(f"  {name}:")
            print("".join("    " + line for line in "".join(stack).splitlines(keepends=True)))


def print_growth(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, top: int) -> None:
    stats = after.compare_to(before, "traceback")
    total = sum(s.size_diff for s in stats)
    print(f"tracemalloc: {total / 2**20:+.1f} MB more than before the runs")
    for stat in stats[:top]:
        if stat.size_diff <= 0:
            continue
        print(f"{stat.size_diff / 2**20:+8.2f} MB {stat.count_diff:+8d} blocks")
        for line in stat.traceback.format(limit=6, most_recent_first=True):
            print("      " + line)


def census(top: int) -> None:
    """The objects the garbage collector tracks beyond the frozen start-up ones, by type, and the largest
    containers among them: what a run left behind in Python (not what the heap keeps as free space)."""
    gc.collect()
    objects = gc.get_objects()
    by_type: dict[str, int] = {}
    for obj in objects:
        name = type(obj).__qualname__
        by_type[name] = by_type.get(name, 0) + 1
    print(f"census: {len(objects)} tracked objects beyond start-up; most common types:")
    for name, count in sorted(by_type.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {count:9d} {name}")
    sized = [obj for obj in objects if isinstance(obj, dict | list | set | tuple) and len(obj) >= 1000]
    sized.sort(key=len, reverse=True)
    cache = session.get_engine()._compiled_cache
    print(f"SQLAlchemy compiled-statement cache: {len(cache) if cache is not None else 0} entries")
    for compiled in list(cache.values()) if cache is not None else []:
        # NOTE: a cached statement keeps the values bound when it was first compiled.
        pinned = [
            b for b in compiled.binds.values() if isinstance(b.value, list | tuple) and len(b.value) > 100
        ]
        for bind in pinned:
            statement = " ".join(str(compiled).split())[:160]
            print(f"  keeps a bound list of {len(bind.value)} values: {statement}")
    print("largest containers, with who holds them:")
    del sized[top:]
    for obj in sized:
        print(f"  {len(obj):9d} {type(obj).__qualname__} {repr(obj)[:80]}")
        for chain in holders(obj, ignore=[objects, sized]):
            print("      <- " + " <- ".join(chain))


def holders(obj: object, ignore: list[object], depth: int = 5, width: int = 3) -> list[list[str]]:
    """Chains of referrers of ``obj``, up to ``depth`` long: a module, a class or a frame ends one."""
    chains: list[list[str]] = []
    frame = sys._getframe()
    ignored = {id(i) for i in ignore} | {id(frame)}

    def name(holder: object, held: object) -> str:
        if isinstance(holder, dict):
            keys = [repr(k)[:40] for k, v in holder.items() if v is held][:1]
            return f"dict[{keys[0] if keys else '?'}]"
        if inspect.isframe(holder):
            return f"frame {holder.f_code.co_name} ({holder.f_code.co_filename.rsplit('/', 1)[-1]})"
        return type(holder).__qualname__

    def walk(held: object, chain: list[str], seen: set[int]) -> None:
        if len(chains) >= width:
            return
        found = gc.get_referrers(held)
        ignored.add(id(found))  # NOTE: this walk's own lists hold what they list: they are not holders
        referrers = [
            r
            for r in found
            if id(r) not in ignored
            and id(r) not in seen
            and not (inspect.isframe(r) and r.f_code in (walk.__code__, holders.__code__, census.__code__))
        ]
        ignored.add(id(referrers))
        del found
        if not referrers or len(chain) >= depth:
            chains.append(chain or ["(nothing tracked)"])
            return
        for i in range(min(width, len(referrers))):
            holder = referrers[i]
            label = name(holder, held)
            if inspect.ismodule(holder) or isinstance(holder, type) or inspect.isframe(holder):
                chains.append([*chain, label])
                continue
            walk(holder, [*chain, label], seen | {id(held)})

    walk(obj, [], set())
    return chains


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--db", default="/tmp/mem-profile/mem.sqlite")
    parser.add_argument("--trace", action="store_true", help="compare tracemalloc snapshots (slow)")
    parser.add_argument("--census", action="store_true", help="count the objects left after the runs")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--frames", type=int, default=8, help="traceback depth with --trace")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    memory.limit_malloc_arenas()
    inprocess.fresh_database(args.db, WORKFLOW)
    # NOTE: bench/run.py's deployments raise the limit so; over the default one the run fails at once.
    config.CONF.set_override(
        "max_with_items", max(args.items, config.CONF.engine.max_with_items), group="engine"
    )
    services = inprocess.start_services()
    try:
        context.set_current(context.Context())
        # warm-up: imports, caches, connections
        assert wait_done(
            clients.engine().start_workflow("with_items_input", wf_input={"nums": [1]})["id"], 60
        )
        memory.freeze_startup_objects(["engine", "executor"])  # the warm-up's objects too
        print(f"start: RSS {settle()}")
        if args.trace:
            # NOTE: tracing slows everything several times; the recovery would send actions again.
            config.CONF.set_override("execution_integrity_check_delay", 0, group="engine")
            tracemalloc.start(args.frames)
            before = tracemalloc.take_snapshot()
            peak = PeakSnapshot()
            peak.start()
        nums = list(range(args.items))
        start_blocks = sys.getallocatedblocks()
        sampler = PeakStacks()
        sampler.start()
        for run in range(1, args.runs + 1):
            t0, cpu0 = time.monotonic(), time.process_time()
            ex_id = clients.engine().start_workflow("with_items_input", wf_input={"nums": nums})["id"]
            state = wait_done(ex_id, args.timeout)
            wall, cpu = time.monotonic() - t0, time.process_time() - cpu0
            print(
                f"run {run}: {state} in {wall:.2f} s ({cpu:.2f} s CPU); peak RSS so far "
                f"{_peak_mb():.1f} MB, RSS after collect+trim {settle()}"
            )
        sampler.stop()
        sampler.report(start_blocks)
        if args.census:
            census(args.top)
        if args.trace:
            peak.stop()
            print(f"at the peak ({peak.size / 2**20:.1f} MB traced), by allocation site:")
            print_growth(before, peak.snapshot, args.top)
            gc.collect()
            print("after the runs, by allocation site:")
            print_growth(before, tracemalloc.take_snapshot(), args.top)
    finally:
        services.stop(grace=1)
    return 0


def _peak_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    sys.exit(main())
