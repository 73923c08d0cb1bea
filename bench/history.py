"""``fanout_1000_after_history``: fanout_1000 before and after thousands of finished executions."""

from __future__ import annotations

import time
from typing import Any

from bench import single
from bench.report import fmt
from bench.runner import Bench, log


def measure(bench: Bench) -> dict[str, Any]:
    base = bench.results.get("fanout_1000")
    if not base or base.get("state") != "SUCCESS":
        log("  fanout_1000_after_history: measuring fanout_1000 baseline first")
        base = single.measure(bench, "fanout_1000")
    history = None
    if bench.args.history > 0:
        log(f"  fanout_1000_after_history: creating {bench.args.history} finished executions")
        history = bench.seed(
            bench.args.history,
            bench.args.history_threads,
            time.perf_counter() + bench.args.history_timeout,
            "history",
        )
    after = single.measure(bench, "fanout_1000")
    per_before = per_task_ms(base)
    per_after = per_task_ms(after)
    ratio = round(per_after / per_before, 3) if per_before and per_after else None
    return {
        "state": after["state"],
        "wall_s": after["wall_s"],
        "server_s": after["server_s"],
        "count": 1002,
        "unit": "tasks",
        "rate": after["rate"],
        "execution_id": after["execution_id"],
        "failed_requests": after["failed_requests"],
        "baseline": {k: base.get(k) for k in ("state", "wall_s", "server_s", "rate", "execution_id")},
        "history": history,
        "per_task_ms_before": per_before,
        "per_task_ms_after": per_after,
        "ratio_after_before": ratio,
        "check": (
            f"before {fmt(base.get('wall_s'))} s / after {fmt(after['wall_s'])} s, "
            f"per task {fmt(per_before)} -> {fmt(per_after)} ms (x{fmt(ratio)})"
        ),
    }


def per_task_ms(res: dict | None) -> float | None:
    if not res or res.get("state") != "SUCCESS" or not res.get("wall_s"):
        return None
    return round(res["wall_s"] * 1000 / 1002, 3)
