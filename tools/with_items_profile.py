"""Time one with-items task on the embedded engine in this process: s, CPU and SQL statements per item.

    python tools/with_items_profile.py --items 10000 [--shape input|published|dicts] [--runs 1]
        [--profile out.pstats] [--db /tmp/x.sqlite]

The engine and executor run here on the in-process transport and SQLite (no API), as in
``mistral-server --server all``; the workflows are bench/run.py's. Statements are counted with
an SQLAlchemy cursor event; the peak RSS of this process is printed at the end.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import functools
import importlib
import pstats
import resource
import sys
import threading
import time

import inprocess
from sqlalchemy import event

from mistral import config, context
from mistral.db import api as db_api
from mistral.db import session
from mistral.rpc import clients

WORKFLOWS = {
    "input": """
version: '2.0'
wi_input:
  input: [nums]
  output: {n: <% $.r.len() %>}
  tasks:
    items:
      with-items: x in <% $.nums %>
      action: std.echo
      input: {output: <% $.x * 3 %>}
      publish: {r: <% task().result %>}
""",
    "published": """
version: '2.0'
wi_published:
  input: [n]
  output: {n: <% $.r.len() %>}
  tasks:
    make:
      action: std.noop
      publish: {nums: <% range($.n).toList() %>}
      on-success: [items]
    items:
      with-items: x in <% $.nums %>
      action: std.echo
      input: {output: <% $.x * 3 %>}
      publish: {r: <% task().result %>}
""",
    "dicts": """
version: '2.0'
wi_dicts:
  input: [records]
  output: {n: <% $.r.len() %>}
  tasks:
    items:
      with-items: x in <% $.records %>
      action: std.echo
      input: {output: "<% $.x.name + ':' + str($.x.size * 2) %>"}
      publish: {r: <% task().result %>}
""",
}


def workflow_input(shape: str, n: int) -> dict:
    if shape == "input":
        return {"nums": list(range(n))}
    if shape == "published":
        return {"n": n}
    return {"records": [{"id": i, "name": f"item-{i}", "size": (i * 37) % 1000} for i in range(n)]}


#: The functions a with-items run spends its CPU in, each the top of a call in some thread.
ENTRIES: list[tuple[str, str, str]] = [
    ("mistral.engine.engine", "Engine", "start_workflow"),
    ("mistral.engine.engine", "Engine", "run_first_steps"),
    ("mistral.engine.engine", "Engine", "on_action_results"),
    ("mistral.engine.engine", "Engine", "take_actions"),
    ("mistral.executor.server", "ExecutorEndpoint", "run_actions"),
    ("mistral.executor.taker", "Taker", "_take_and_run"),
    ("mistral.executor.executor", "Executor", "_run_pooled"),
    ("mistral.executor.batcher", "ResultBatcher", "_deliver"),
]


class EntryProfiler:
    """Thread CPU per entry point, and (``profile``) a cProfile of each thread's calls of them.

    NOTE: cProfile sees the thread that enables it only, and yappi slows a with-items run a hundredfold.
    Its clock is the thread's CPU time: with wall time, a thread waiting for the GIL or a lock is
    charged for the others' work.
    """

    def __init__(self, profile: bool) -> None:
        self.cpu: collections.Counter[str] = collections.Counter()
        self.calls: collections.Counter[str] = collections.Counter()
        self._profile = profile
        self._local = threading.local()
        self._profilers: list[cProfile.Profile] = []
        self._lock = threading.Lock()
        self.active = False

    def install(self) -> None:
        for module_name, cls_name, name in ENTRIES:
            owner = getattr(importlib.import_module(module_name), cls_name)
            setattr(owner, name, self._wrap(getattr(owner, name), f"{cls_name}.{name}"))

    def _wrap(self, func, label: str):  # noqa: ANN001, ANN202
        @functools.wraps(func)
        def wrapped(*a, **k):  # noqa: ANN002, ANN003, ANN202
            if not self.active or getattr(self._local, "depth", 0):
                return func(*a, **k)
            self._local.depth = 1
            profiler = self._thread_profiler() if self._profile else None
            cpu = time.thread_time()
            if profiler is not None:
                profiler.enable()
            try:
                return func(*a, **k)
            finally:
                if profiler is not None:
                    profiler.disable()
                self.cpu[label] += time.thread_time() - cpu
                self.calls[label] += 1
                self._local.depth = 0

        return wrapped

    def _thread_profiler(self) -> cProfile.Profile:
        profiler = getattr(self._local, "profiler", None)
        if profiler is None:
            profiler = self._local.profiler = cProfile.Profile(time.thread_time)
            with self._lock:
                self._profilers.append(profiler)
        return profiler

    def save(self, path: str) -> None:
        stats = None
        for profiler in self._profilers:
            profiler.create_stats()
            stats = pstats.Stats(profiler) if stats is None else stats.add(profiler)
        if stats is not None:
            stats.dump_stats(path)


def wait_done(ex_id: str, timeout: float) -> tuple[str, float, dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db_api.transaction(read_only=True):
            wf_ex = db_api.get_workflow_execution(ex_id)
            if wf_ex.state in ("SUCCESS", "ERROR", "CANCELLED"):
                took = (wf_ex.updated_at - wf_ex.created_at).total_seconds()
                return wf_ex.state, took, dict(wf_ex.output or {})
        time.sleep(0.05)
    raise TimeoutError(ex_id)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10000)
    parser.add_argument("--shape", choices=sorted(WORKFLOWS), default="input")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--db", default="/tmp/perf-wi/wi.sqlite")
    parser.add_argument("--profile", help="write pstats of the measured runs' engine and executor calls")
    args = parser.parse_args()

    inprocess.fresh_database(args.db, WORKFLOWS[args.shape])
    config.CONF.set_override("max_with_items", max(args.items, 1000), group="engine")
    name = f"wi_{args.shape}"

    statements: collections.Counter[str] = collections.Counter()

    @event.listens_for(session.get_engine(), "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, ctx, executemany):  # noqa: ANN001
        if threading.current_thread() is threading.main_thread():
            return  # this script's polling
        statements[statement.split(None, 1)[0].upper()] += 1

    entries = EntryProfiler(bool(args.profile))
    entries.install()
    services = inprocess.start_services()
    try:
        context.set_current(context.Context())
        wait_done(clients.engine().start_workflow(name, wf_input=workflow_input(args.shape, 10))["id"], 60)
        wf_input = workflow_input(args.shape, args.items)
        statements.clear()
        entries.active = True
        for _ in range(args.runs):
            cpu0, wall0 = time.process_time(), time.monotonic()
            ex_id = clients.engine().start_workflow(name, wf_input=wf_input)["id"]
            started = time.monotonic() - wall0
            state, took, output = wait_done(ex_id, args.timeout)
            wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
            assert state == "SUCCESS" and output.get("n") == args.items, (state, output)
            print(
                f"{args.shape} {args.items} items: wall {wall:.3f} s (start call {1000 * started:.1f} ms, "
                f"server {took:.3f} s), CPU {cpu:.3f} s, {1e6 * cpu / args.items:.0f} us CPU/item"
            )
        total = sum(statements.values())
        items = args.items * args.runs
        print(
            f"SQL statements per item: {total / items:.3f} "
            + ", ".join(f"{k} {v / items:.3f}" for k, v in statements.most_common())
        )
        print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        entries.active = False
        for label, cpu in entries.cpu.most_common():
            print(f"  {label}: {cpu:.3f} s CPU in {entries.calls[label]} calls")
        if args.profile:
            entries.save(args.profile)
    finally:
        services.stop(grace=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
