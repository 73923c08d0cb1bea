"""``polling_load``: fanout_1000 and chain_50 quiet, under closed-loop and open-loop pollers.

Also, with nothing running, the server's own cost of one ``GET /v2/executions/{id}``. The
open-loop clients themselves live in ``bench.polling``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from bench import polling, single
from bench.client import ApiError, Client
from bench.report import fmt, spread_ms
from bench.runner import STOP, Bench

POLLERS = 50
# Open-loop polling: each client asks once per interval (a dashboard refreshing 10 times a second).
OPEN_LOOP_INTERVAL_S = 0.1
# Seconds of quiet open-loop polling (and of wrk) that measure the server's own cost of a GET.
SERVER_COST_S = 3.0


def measure(bench: Bench) -> dict[str, Any]:
    """fanout_1000 and chain_50 quiet, under closed-loop pollers, and under open-loop pollers.

    Closed loop: POLLERS client threads poll GET /v2/executions/{id} with no pause (the
    figure of the past, a stress test: its latency is mostly queueing). Open loop: POLLERS
    clients each poll every OPEN_LOOP_INTERVAL_S (see bench.polling), the figure the target
    judges. Then, with nothing running, the server's own cost of one GET: the server
    processes' CPU seconds per request under the open-loop pollers, and wrk's latency over
    one connection.
    """
    runs = ("fanout_1000", "chain_50")
    quiet = {name: single.measure(bench, name) for name in runs}
    closed, get, polls, poll_failed = _closed_loop_runs(bench, runs)
    open_loaded, open_loop = _open_loop_runs(bench, runs)
    server = _server_get_cost(bench)
    all_runs = {
        **{f"{k}_quiet": v for k, v in quiet.items()},
        **{f"{k}_loaded": v for k, v in closed.items()},
        **{f"{k}_open_loop": v for k, v in open_loaded.items()},
    }
    ok = (
        all(r.get("state") == "SUCCESS" for r in all_runs.values())
        and poll_failed == 0
        and open_loop["failed_requests"] == 0
    )
    slowdown = {name: _ratio(closed[name], quiet[name]) for name in runs}
    open_slowdown = {name: _ratio(open_loaded[name], quiet[name]) for name in runs}
    return {
        "state": "SUCCESS" if ok else "ERROR",
        "wall_s": closed["fanout_1000"].get("wall_s"),
        "runs": {k: {f: v.get(f) for f in ("state", "wall_s", "execution_id")} for k, v in all_runs.items()},
        "slowdown": slowdown,
        "get_ms": get,
        "polls": polls,
        "failed_requests": poll_failed,
        "open_loop": {**open_loop, "slowdown": open_slowdown},
        "server_get": server,
        "check": (
            f"closed loop ({POLLERS} threads, no pause): fanout_1000 "
            f"{fmt(quiet['fanout_1000'].get('wall_s'))} -> {fmt(closed['fanout_1000'].get('wall_s'))} s "
            f"(x{slowdown['fanout_1000'] or '-'}), chain_50 {fmt(quiet['chain_50'].get('wall_s'))} -> "
            f"{fmt(closed['chain_50'].get('wall_s'))} s (x{slowdown['chain_50'] or '-'}); GET p50 "
            f"{fmt(get['p50'])} ms p95 {fmt(get['p95'])} ms over {polls} polls, {poll_failed} failed. "
            f"Open loop ({POLLERS} clients every {OPEN_LOOP_INTERVAL_S * 1000:.0f} ms): fanout_1000 "
            f"{fmt(open_loaded['fanout_1000'].get('wall_s'))} s "
            f"(x{open_slowdown['fanout_1000'] or '-'}), "
            f"chain_50 {fmt(open_loaded['chain_50'].get('wall_s'))} s; GET p50 {fmt(open_loop['p50'])} "
            f"p95 {fmt(open_loop['p95'])} p99 {fmt(open_loop['p99'])} ms at "
            f"{fmt(open_loop['achieved_per_s'])}/{fmt(open_loop['wanted_per_s'])} req/s, "
            f"{open_loop['failed_requests']} failed. Server, quiet: "
            f"{fmt(server.get('cpu_ms_per_get'))} ms CPU per GET; wrk 1 connection p50 "
            f"{fmt((server.get('wrk') or {}).get('p50'))} ms"
        ),
    }


def _poll_target(bench: Bench) -> str | None:
    ex_id = bench.current_id or (bench.completed[-1] if bench.completed else None)
    return f"/v2/executions/{ex_id}" if ex_id else None


def _closed_loop_runs(bench: Bench, runs: Iterable[str]) -> tuple[dict[str, dict], dict, int, int]:
    pollers = Client(bench.c.base, bench.c.http_timeout, bench.args.token)
    samples: list[float] = []
    done = threading.Event()

    def poll() -> None:
        while not done.is_set() and not STOP.is_set():
            target = _poll_target(bench)
            if target is None:
                time.sleep(0.01)
                continue
            t = time.perf_counter()
            try:
                pollers.call("GET", target)
            except ApiError:
                pass  # counted by the pollers' client
            samples.append(time.perf_counter() - t)

    threads = [threading.Thread(target=poll, daemon=True, name=f"poller-{i}") for i in range(POLLERS)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)  # every poller is in its loop before the first run starts
        loaded = {name: single.measure(bench, name) for name in runs}
    finally:
        done.set()
        for t in threads:
            t.join(timeout=bench.args.http_timeout + 5)
        polls, poll_failed = pollers.counters()
        pollers.close()
    return loaded, spread_ms(samples), polls, poll_failed


def _open_loop_runs(bench: Bench, runs: Iterable[str]) -> tuple[dict[str, dict], dict[str, Any]]:
    loaded: dict[str, dict] = {}
    done = threading.Event()
    figures: dict[str, Any] = {}

    def poll() -> None:
        try:
            figures.update(
                polling.open_loop(
                    bench.c.base,
                    lambda: _poll_target(bench),
                    clients=POLLERS,
                    interval=OPEN_LOOP_INTERVAL_S,
                    stop=lambda: done.is_set() or STOP.is_set(),
                    headers=_auth_headers(bench),
                )
            )
        except Exception as e:  # noqa: BLE001 - reported with the figures, the runs go on
            figures["error"] = f"{e.__class__.__name__}: {e}"

    poller = threading.Thread(target=poll, daemon=True, name="open-loop")
    poller.start()
    try:
        time.sleep(0.5)  # the clients are in their rhythm before the first run starts
        loaded = {name: single.measure(bench, name) for name in runs}
    finally:
        done.set()
        poller.join(timeout=polling.ANSWER_TIMEOUT_S + 5)
    if "failed_requests" not in figures:
        raise RuntimeError(f"the open-loop pollers did not report: {figures.get('error', 'still running')}")
    return loaded, figures


def _server_get_cost(bench: Bench) -> dict[str, Any]:
    """With nothing running: server CPU per GET under the open-loop pollers, and wrk's latency."""
    target = _poll_target(bench)
    if target is None:
        return {}
    before = _server_cpu_s(bench)
    figures = polling.open_loop(
        bench.c.base,
        lambda: target,
        clients=POLLERS,
        interval=OPEN_LOOP_INTERVAL_S,
        duration=SERVER_COST_S,
        headers=_auth_headers(bench),
    )
    after = _server_cpu_s(bench)
    answered = figures["requests"] - figures["failed_requests"]
    cpu_ms = (
        (after - before) * 1000 / answered if before is not None and after is not None and answered else None
    )
    wrk = polling.wrk_latency(bench.c.base + target, SERVER_COST_S, headers=_auth_headers(bench))
    return {
        "open_loop_quiet": figures,
        "cpu_ms_per_get": round(cpu_ms, 3) if cpu_ms is not None else None,
        "wrk": wrk,
    }


def _server_cpu_s(bench: Bench) -> float | None:
    samples = bench.sampler() if bench.sampler else []
    cpus = [s.get("cpu_s") for s in samples]
    return sum(cpus) if cpus and None not in cpus else None


def _auth_headers(bench: Bench) -> dict[str, str]:
    return {"X-Auth-Token": bench.args.token} if bench.args.token else {}


def _ratio(loaded: dict, quiet: dict) -> float | None:
    if loaded.get("wall_s") and quiet.get("wall_s"):
        return round(loaded["wall_s"] / quiet["wall_s"], 2)
    return None
