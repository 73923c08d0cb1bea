"""``--scrape-metrics``: read the server's ``GET /metrics`` before and after each workload, print what moved.

A Prometheus text page is parsed here by hand (each sample line is ``name{labels} value``), so
the benchmark still imports nothing but ``requests``; a server without ``/metrics`` (the
reference) simply has no such line. The figures are sums over each series' labels, for the
whole server (every engine and executor of an embedded one; the API process alone of a
distributed one, whose daemons serve theirs on ``[metrics] port``).
"""

from __future__ import annotations

import math
from typing import Any

import requests

#: sample name -> how the line names it
WATCHED = {
    "mistral_executions_started_total": "started",
    "mistral_executions_finished_total": "finished",
    "mistral_task_duration_seconds_count": "tasks",
    "mistral_action_duration_seconds_count": "actions",
    "mistral_engine_results_applied_total": "results",
    "mistral_engine_apply_seconds_count": "applies",
    "mistral_engine_apply_seconds_sum": "apply_s",
    "mistral_scheduler_lag_seconds_count": "timers",
    "mistral_db_transaction_retries_total": "db_retries",
    "mistral_rpc_timeouts_total": "rpc_timeouts",
}


def parse(text: str) -> dict[str, float]:
    """The sum over labels of each watched sample in a Prometheus text page."""
    sums = dict.fromkeys(WATCHED, 0.0)
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in sums:
            try:
                value = float(line.rsplit(" ", 1)[1])
            except (IndexError, ValueError):
                continue
            if not math.isnan(value):
                sums[name] += value
    return sums


def scrape(base: str, headers: dict[str, str], timeout: float) -> dict[str, float] | None:
    """The server's watched sums now, or None when it serves no ``/metrics``."""
    try:
        resp = requests.get(f"{base}/metrics", headers=headers, timeout=timeout, allow_redirects=False)
    except requests.RequestException:
        return None
    if resp.status_code != 200 or "text/plain" not in resp.headers.get("Content-Type", ""):
        return None
    return parse(resp.text)


def deltas(before: dict[str, float] | None, after: dict[str, float] | None) -> dict[str, Any] | None:
    """What moved between two scrapes (by the names of ``WATCHED``) and the mean apply latency."""
    if before is None or after is None:
        return None
    moved = {WATCHED[k]: after[k] - before[k] for k in WATCHED}
    applies, seconds = moved.pop("applies"), moved.pop("apply_s")
    moved["apply_mean_ms"] = round(1000 * seconds / applies, 3) if applies > 0 else None
    return {k: (int(v) if isinstance(v, float) and v.is_integer() else v) for k, v in moved.items()}


def line(moved: dict[str, Any]) -> str:
    return "    /metrics moved: " + "  ".join(f"{k} {'-' if v is None else v}" for k, v in moved.items())
