"""``api_latency``: sequential GETs of the list and detail endpoints, p50/p95/p99 per endpoint."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench.client import ApiError
from bench.report import ms, pct, rate
from bench.runner import STOP, Bench, Interrupted, log

LATENCY_SEED_EXECUTIONS = 200


def measure(bench: Bench) -> dict[str, Any]:
    seeded = None
    have = len(bench.completed)
    if have < LATENCY_SEED_EXECUTIONS:
        log(f"  api_latency: creating {LATENCY_SEED_EXECUTIONS - have} small executions first")
        seeded = bench.seed(
            LATENCY_SEED_EXECUTIONS - have,
            bench.args.history_threads,
            time.perf_counter() + bench.args.timeout,
            "api_latency seed",
        )
    ids = list(bench.completed[-LATENCY_SEED_EXECUTIONS:]) or list(bench.executions)
    n = bench.args.latency_requests
    endpoints: list[tuple[str, Callable[[int], tuple[str, dict]]]] = [
        ("GET /v2/executions?limit=100", lambda i: ("/v2/executions", {"limit": 100})),
        ("GET /v2/executions/{id}", lambda i: (f"/v2/executions/{ids[i % len(ids)]}", {})),
        ("GET /v2/tasks?limit=100", lambda i: ("/v2/tasks", {"limit": 100})),
        ("GET /v2/workflows", lambda i: ("/v2/workflows", {})),
    ]
    if not ids:
        log("  api_latency: no execution available, skipping GET /v2/executions/{id}")
        del endpoints[1]
    out: dict[str, Any] = {}
    total_failed = 0
    total_req = 0
    total_time = 0.0
    deadline = time.perf_counter() + bench.args.timeout
    for label, make in endpoints:
        samples: list[float] = []
        failed = 0
        try:  # warm-up, not counted
            path, params = make(0)
            bench.c.call("GET", path, params=params)
        except ApiError:
            pass
        for i in range(n):
            if STOP.is_set():
                raise Interrupted
            if time.perf_counter() > deadline:
                break
            path, params = make(i)
            t = time.perf_counter()
            try:
                bench.c.call("GET", path, params=params)
            except ApiError:
                failed += 1
            samples.append(time.perf_counter() - t)
        samples.sort()
        total_failed += failed
        total_req += len(samples)
        total_time += sum(samples)
        out[label] = {
            "n": len(samples),
            "failed": failed,
            "p50_ms": ms(pct(samples, 50)),
            "p95_ms": ms(pct(samples, 95)),
            "p99_ms": ms(pct(samples, 99)),
            "mean_ms": ms(sum(samples) / len(samples)) if samples else None,
            "max_ms": ms(samples[-1]) if samples else None,
        }
    worst_p95 = max((v["p95_ms"] or 0) for v in out.values()) if out else None
    return {
        "state": "SUCCESS" if total_failed == 0 and ids else "ERROR",
        "endpoints": out,
        "executions_in_sample": len(ids),
        "seeded": seeded,
        "count": total_req,
        "unit": "requests",
        "wall_s": round(total_time, 4),
        "rate": rate(total_req, total_time),
        "failed_requests": total_failed,
        "check": f"worst p95 {worst_p95} ms, {total_failed} failed"
        + ("" if ids else ", no execution to GET"),
    }
