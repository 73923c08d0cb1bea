"""Time a chain of echo tasks on the embedded engine in this process: ms, CPU and SQL statements per hop.

    python tools/hop_profile.py --tasks 200 --runs 5 [--profile out.pstats] [--db /tmp/x.sqlite]

The engine and executor run here on the in-process transport and SQLite (no API), as in
``mistral-server --server all``; the chain is bench/run.py's (each task echoes ``$.v + 1``
and publishes it). Statements are counted with an SQLAlchemy cursor event.
"""

from __future__ import annotations

import argparse
import collections
import sys
import threading
import time

import inprocess
from sqlalchemy import event

from mistral import context
from mistral.db import api as db_api
from mistral.db import session
from mistral.rpc import clients


def chain_yaml(n: int) -> str:
    lines = [
        "version: '2.0'",
        "chain:",
        "  input:",
        "    - v: 0",
        "  output:",
        "    v: <% $.v %>",
        "  tasks:",
    ]
    for i in range(1, n + 1):
        lines += [
            f"    s{i}:",
            "      action: std.echo",
            "      input:",
            "        output: <% $.v + 1 %>",
            "      publish:",
            "        v: <% task().result %>",
        ]
        if i < n:
            lines += ["      on-success:", f"        - s{i + 1}"]
    return "\n".join(lines) + "\n"


def wait_done(ex_id: str, timeout: float = 120.0) -> tuple[str, float]:
    """The final state and the engine's own duration (created_at to updated_at: no poll overshoot)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db_api.transaction(read_only=True):
            wf_ex = db_api.get_workflow_execution(ex_id)
        if wf_ex.state in ("SUCCESS", "ERROR", "CANCELLED"):
            return wf_ex.state, (wf_ex.updated_at - wf_ex.created_at).total_seconds()
        time.sleep(0.02)
    raise TimeoutError(ex_id)


STAGES: list[tuple[str, str, str]] = [
    ("mistral.executor.executor", "Executor", "_finish"),
    ("mistral.executor.batcher", "ResultBatcher", "_deliver"),
    ("mistral.engine.engine", "Engine", "on_action_results"),
    ("mistral.engine.sender", "", "send"),
    ("mistral.executor.server", "ExecutorEndpoint", "run_actions"),
    ("mistral.executor.taker", "Taker", "_take_and_run"),
    ("mistral.engine.engine", "Engine", "take_actions"),
    ("mistral.executor.executor", "Executor", "run_actions"),
    ("mistral.executor.executor", "Executor", "_run_pooled"),
]


def _mark_stages() -> list[tuple[float, str]]:
    """Wrap each stage's function to note when it begins and ends (a chain runs one hop at a time)."""
    import functools
    import importlib

    marks: list[tuple[float, str]] = []
    for module_name, cls_name, name in STAGES:
        owner = importlib.import_module(module_name)
        owner = getattr(owner, cls_name) if cls_name else owner
        func = getattr(owner, name)

        def wrapped(*a, _func=func, _name=f"{cls_name}.{name}".lstrip("."), **k):  # noqa: ANN002, ANN003
            marks.append((time.perf_counter(), f"> {_name}"))
            try:
                return _func(*a, **k)
            finally:
                marks.append((time.perf_counter(), f"< {_name}"))

        setattr(owner, name, functools.wraps(func)(wrapped))
    return marks


def _time_engine_cpu() -> dict[str, list[float]]:
    """Thread CPU seconds of each engine operation of a hop: stable on a busy machine, unlike wall time."""
    from mistral.engine.engine import Engine

    spent: dict[str, list[float]] = collections.defaultdict(list)
    for name in ("on_action_results", "take_actions"):
        func = getattr(Engine, name)

        def wrapped(*a, _func=func, _name=name, **k):  # noqa: ANN002, ANN003
            cpu = time.thread_time()
            try:
                return _func(*a, **k)
            finally:
                spent[_name].append(time.thread_time() - cpu)

        setattr(Engine, name, wrapped)
    return spent


def _print_stages(marks: list[tuple[float, str]]) -> None:
    gaps: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    for (t0, a), (t1, b) in zip(marks, marks[1:], strict=False):
        gaps[(a, b)].append(t1 - t0)
    total = sum(sum(v) for v in gaps.values())
    for (a, b), values in sorted(gaps.items(), key=lambda kv: -sum(kv[1]))[:20]:
        values.sort()
        print(
            f"{100 * sum(values) / total:5.1f}%  n={len(values):5d}"
            f" p50 {1000 * values[len(values) // 2]:6.2f} ms  {a} -> {b}"
        )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", default="/tmp/perf-hop/hop.sqlite")
    parser.add_argument("--stages", action="store_true", help="print where a hop's wall time goes")
    parser.add_argument("--profile", help="write pstats of every thread of the measured runs (needs yappi)")
    args = parser.parse_args()

    inprocess.fresh_database(args.db, chain_yaml(args.tasks))

    statements: collections.Counter[str] = collections.Counter()

    @event.listens_for(session.get_engine(), "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, ctx, executemany):  # noqa: ANN001
        if threading.current_thread() is threading.main_thread():
            return  # this script's polling
        statements[statement.split(None, 1)[0].upper()] += 1

    marks = _mark_stages() if args.stages else None
    engine_cpu = _time_engine_cpu()
    services = inprocess.start_services()
    try:
        context.set_current(context.Context())
        # warm-up: caches, connections
        wait_done(clients.engine().start_workflow("chain")["id"])
        if args.profile:
            import yappi  # a development tool, not a dependency: cProfile sees one thread only

            yappi.set_clock_type("cpu")
        walls, cpus, polls = [], [], []
        statements.clear()
        engine_cpu.clear()
        for _ in range(args.runs):
            cpu0, poll0 = time.process_time(), time.thread_time()
            if args.profile:
                yappi.start()
            ex_id = clients.engine().start_workflow("chain")["id"]
            state, took = wait_done(ex_id)
            if args.profile:
                yappi.stop()
            walls.append(took)
            cpus.append(time.process_time() - cpu0)
            polls.append(time.thread_time() - poll0)
            assert state == "SUCCESS", state
        hops = args.tasks * args.runs
        walls.sort()
        print(
            f"chain of {args.tasks}, {args.runs} runs: wall per run median {walls[len(walls) // 2]:.3f} s "
            f"(min {walls[0]:.3f}); per hop {1000 * walls[len(walls) // 2] / args.tasks:.2f} ms wall, "
            f"{1000 * sum(cpus) / hops:.2f} ms CPU"
        )
        # NOTE: this script's polling grows with wall time; the rest outside the engine is the hop's own.
        served = 1000 * (sum(cpus) - sum(polls)) / hops
        engine = 1000 * sum(sum(v) for v in engine_cpu.values()) / hops
        print(
            f"CPU per hop without this script's polling: {served:.2f} ms, "
            f"outside the engine: {served - engine:.2f} ms"
        )
        total = sum(statements.values())
        print(
            f"SQL statements per hop: {total / hops:.1f} "
            + ", ".join(f"{k} {v / hops:.2f}" for k, v in statements.most_common())
        )
        if marks is not None:
            _print_stages(marks)
        for name, values in engine_cpu.items():
            values.sort()
            print(f"engine CPU in {name}: p50 {1000 * values[len(values) // 2]:.2f} ms, n={len(values)}")
        if hasattr(clients.EngineClient, "engine_stats"):  # NOTE: absent from older trees compared against
            print("engine:", clients.engine().engine_stats())
        if args.profile:
            yappi.get_func_stats().save(args.profile, type="pstat")
    finally:
        services.stop(grace=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
