"""``concurrent_50``: 50 executions of a 5-task chain started at once, released by a barrier."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from bench.client import ApiError
from bench.connection import KeptConnection
from bench.report import fmt, pct, rate, spread_ms
from bench.runner import Bench, start_body
from bench.workflows import CONCURRENT_CHAIN_LEN

CONCURRENT_EXECUTIONS = 50


def measure(bench: Bench) -> dict[str, Any]:
    n = CONCURRENT_EXECUTIONS
    name = bench.ensure_workflow("noop_chain_5")
    req0, fail0 = bench.c.counters()
    start_at: list[float] = []
    post_times: list[float] = []
    barrier = threading.Barrier(n, action=lambda: start_at.append(time.perf_counter()), timeout=30)

    def one(i: int) -> dict[str, Any]:
        # NOTE: the connection is opened and warmed, and the POST encoded, before the barrier:
        # the clock then runs on the server's work, not on the client's set-up (bench.connection).
        conn = KeptConnection(bench.c)
        try:
            post = conn.prepare(
                "POST", "/v2/executions", start_body(name, {}, f"bench concurrent_50 #{i} {bench.run_id}")
            )
            conn.warm()
            barrier.wait()
            t0 = start_at[0]
            t_post = time.perf_counter()
            try:
                ex = bench.started(conn.send_json(post))
            except ApiError as e:
                return {"state": "START_FAILED", "error": str(e)}
            post_times.append(time.perf_counter() - t_post)
            poll = conn.prepare("GET", f"/v2/executions/{ex['id']}")
            final, seen = bench.wait(ex, t0 + bench.args.timeout, fetch=lambda _path: conn.send_json(poll))
        finally:
            conn.close()
        if seen is None:
            bench.cancel(ex["id"])
            return {"id": ex["id"], "state": "TIMEOUT", "last_state": final.get("state")}
        return {"id": ex["id"], "state": final.get("state"), "wall_s": seen - t0, "seen": seen}

    outs = bench.run_parallel(one, n, n, time.perf_counter() + bench.args.timeout + 60, "")
    req1, fail1 = bench.c.counters()
    states = Counter(o.get("state") if isinstance(o, dict) else "EXCEPTION" for o in outs)
    seen = [o["seen"] for o in outs if isinstance(o, dict) and "seen" in o]
    walls = sorted(o["wall_s"] for o in outs if isinstance(o, dict) and "wall_s" in o)
    all_done = len(seen) == n
    wall = (max(seen) - start_at[0]) if seen and start_at else None
    errors = [str(o.get("error") if isinstance(o, dict) else o) for o in outs]
    errors = [e for e in errors if e and e != "None"][:5]
    post = spread_ms(post_times)
    return {
        "state": "SUCCESS" if states.get("SUCCESS") == n else "MIXED",
        "executions": n,
        "states": dict(states),
        "wall_s": round(wall, 4) if wall is not None and all_done else None,
        "wall_s_partial": round(wall, 4) if wall is not None else None,
        "per_execution_s": {
            "p50": pct(walls, 50),
            "max": walls[-1] if walls else None,
        },
        "count": n * CONCURRENT_CHAIN_LEN,
        "unit": "tasks",
        "rate": rate(n * CONCURRENT_CHAIN_LEN, wall if all_done else None),
        "executions_per_s": rate(n, wall if all_done else None),
        "requests": req1 - req0,
        "failed_requests": fail1 - fail0,
        "errors": errors,
        "post_ms": post,
        "check": f"{states.get('SUCCESS', 0)}/{n} SUCCESS, {fail1 - fail0} failed requests, "
        f"POST p50 {fmt(post['p50'])} ms p95 {fmt(post['p95'])} ms",
    }
