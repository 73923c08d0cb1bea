#!/usr/bin/env python3
"""Benchmarks for any server speaking the Mistral v2 REST API.

Only the public REST API is used (through ``requests``); nothing is imported
from the ``mistral`` package, so the same script measures our service and the
real OpenStack Mistral. See bench/README.rst for the workloads and targets.

    python bench/run.py --url http://127.0.0.1:8989 [--workload NAME ...]
                        [--json results.json] [--timeout S] [--dry-run]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as dt
import json
import os
import pathlib
import platform
import signal
import socket
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import requests

if __package__ in (None, ""):  # run as a script: bench/ is sys.path[0], its parent holds the package
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import deploy, polling, procstats, targets  # noqa: E402
from bench.client import ApiError, Client, json_field  # noqa: E402
from bench.report import (  # noqa: E402
    compare_table,
    fmt,
    hop_latencies,
    ms,
    parse_ts,
    pct,
    process_matrix,
    rate,
    spread_ms,
    summary_table,
    workload_line,
)
from bench.workflows import (  # noqa: E402
    CHAIN_LEN,
    CONCURRENT_CHAIN_LEN,
    WF_BUILDERS,
    chain_wf,
    fanout_wf,
    input_numbers,
    input_records,
    to_yaml,
    wf_doc,
)

WORKLOADS = [
    "fanout_100",
    "fanout_1000",
    "chain_50",
    "with_items_500",
    "with_items_1000",
    "with_items_10000",
    "with_items_10000_c50",
    "with_items_input_1000",
    "with_items_input_10000",
    "with_items_input_100000",
    "with_items_published_10000",
    "with_items_dicts_10000",
    "concurrent_50",
    "api_latency",
    "polling_load",
    "fanout_1000_after_history",
]

# Workloads a deployment does not run, with the reason printed in its place.
DEPLOY_SKIPS: dict[str, dict[str, str]] = {
    "reference-distributed": {
        "with_items_input_100000": "skipped on the reference: 100 000 items take it far beyond any timeout",
        "fanout_1000_after_history": "skipped on the reference: 10 000 history executions take hours there",
    },
}

DONE_STATES = ("SUCCESS", "ERROR", "CANCELLED")
POLL_START_S = 0.01
POLL_CAP_S = 0.2
# Short workloads are polled this fast, so the poll overshoot stays a few ms.
FAST_POLL_S = 0.003
CONCURRENT_EXECUTIONS = 50
LATENCY_SEED_EXECUTIONS = 200
POLLERS = 50
# Open-loop polling: each client asks once per interval (a dashboard refreshing 10 times a second).
OPEN_LOOP_INTERVAL_S = 0.1
# Seconds of quiet open-loop polling (and of wrk) that measure the server's own cost of a GET.
SERVER_COST_S = 3.0
REF_HTTP_TIMEOUT_S = 300.0
# NOTE: OpenStack Mistral answers 406 to a workflow upload that accepts only JSON (its handler is
# declared text/plain), though the body it returns is JSON; python-mistralclient sends */* too.
UPLOAD_HEADERS = {"Content-Type": "text/plain", "Accept": "*/*"}

# Set on Ctrl-C: every loop and worker checks it and stops promptly.
STOP = threading.Event()


class Interrupted(Exception):
    """Raised inside loops once STOP is set."""


def server_seconds(ex: dict | None) -> float | None:
    """Server-side duration: updated_at - created_at (whole seconds in Mistral)."""
    if not ex:
        return None
    a, b = parse_ts(ex.get("created_at")), parse_ts(ex.get("updated_at"))
    if a is None or b is None:
        return None
    return (b - a).total_seconds()


# key -> (builder, number of tasks or items it runs, unit, input)
def workload_specs() -> dict[str, dict[str, Any]]:
    return {
        "fanout_100": {"wf": "fanout_100", "count": 102, "unit": "tasks", "input": {}, "tasks": 102},
        "fanout_1000": {"wf": "fanout_1000", "count": 1002, "unit": "tasks", "input": {}, "tasks": 1002},
        "chain_50": {"wf": "chain_50", "count": CHAIN_LEN, "unit": "tasks", "input": {"v": 0}},
        "with_items_500": {"wf": "with_items", "count": 500, "unit": "items", "input": {"n": 500}},
        "with_items_1000": {"wf": "with_items", "count": 1000, "unit": "items", "input": {"n": 1000}},
        "with_items_10000": {"wf": "with_items", "count": 10000, "unit": "items", "input": {"n": 10000}},
        "with_items_10000_c50": {
            "wf": "with_items_c50",
            "count": 10000,
            "unit": "items",
            "input": {"n": 10000},
        },
        **{
            f"with_items_input_{n}": {"wf": "with_items_input", "count": n, "unit": "items", "input": None}
            for n in (1000, 10000, 100000)
        },
        "with_items_published_10000": {
            "wf": "with_items_published",
            "count": 10000,
            "unit": "items",
            "input": {"n": 10000},
        },
        "with_items_dicts_10000": {"wf": "with_items_dicts", "count": 10000, "unit": "items", "input": None},
    }


def workload_input(name: str) -> dict:
    """The execution input of a single-execution workload (big lists are built only when run)."""
    spec = workload_specs()[name]
    if spec["input"] is not None:
        return spec["input"]
    if name == "with_items_dicts_10000":
        return input_records(spec["count"])
    return input_numbers(spec["count"])


# Workloads whose output must be {"n": count}.
COUNTED_OUTPUT = ("with_items_input_", "with_items_published_", "with_items_dicts_")


# Which workflow documents each workload needs.
WORKLOAD_WFS: dict[str, list[str]] = {
    "fanout_100": ["fanout_100"],
    "fanout_1000": ["fanout_1000"],
    "chain_50": ["chain_50"],
    "with_items_500": ["with_items"],
    "with_items_1000": ["with_items"],
    "with_items_10000": ["with_items"],
    "with_items_10000_c50": ["with_items_c50"],
    "with_items_input_1000": ["with_items_input"],
    "with_items_input_10000": ["with_items_input"],
    "with_items_input_100000": ["with_items_input"],
    "with_items_published_10000": ["with_items_published"],
    "with_items_dicts_10000": ["with_items_dicts"],
    "concurrent_50": ["noop_chain_5"],
    "api_latency": ["one_task"],
    "polling_load": ["fanout_1000", "chain_50"],
    "fanout_1000_after_history": ["fanout_1000", "one_task"],
}

# Expected number of SUCCESS task executions, checked after timing.
EXPECTED_TASKS = {"fanout_100": 102, "fanout_1000": 1002, "chain_50": CHAIN_LEN}


# --------------------------------------------------------------------------
# Execution helpers


class Bench:
    def __init__(self, client: Client, args: argparse.Namespace):
        self.c = client
        self.args = args
        self.run_id = uuid.uuid4().hex[:8]
        self.uploaded: dict[str, str] = {}  # key -> workflow name
        self.executions: list[str] = []  # every execution started by this run
        self.completed: list[str] = []
        self.inflight: set[str] = set()
        self.lock = threading.Lock()
        self.results: dict[str, dict[str, Any]] = {}
        # The execution being measured now: what the polling clients of polling_load watch.
        self.current_id: str | None = None
        # Samples the server processes (CPU, memory) when the benchmark started them.
        self.sampler: Callable[[], list[dict]] | None = None

    def wf_name(self, key: str) -> str:
        return f"bench_{key}_{self.run_id}"

    def document(self, key: str) -> str:
        return to_yaml(wf_doc(self.wf_name(key), WF_BUILDERS[key]()))

    # -- definitions

    def ensure_workflow(self, key: str) -> str:
        if key in self.uploaded:
            return self.uploaded[key]
        name = self.wf_name(key)
        r = self.c.call(
            "POST",
            "/v2/workflows",
            data=self.document(key).encode(),
            headers=UPLOAD_HEADERS,
        )
        body = r.json()
        names = [w.get("name") for w in body.get("workflows", [])] if isinstance(body, dict) else []
        if name not in names:
            raise RuntimeError(f"upload of {name} returned {names}")
        self.uploaded[key] = name
        return name

    def validate(self, key: str) -> tuple[bool, str]:
        r = self.c.call(
            "POST",
            "/v2/workflows/validate",
            data=self.document(key).encode(),
            headers=UPLOAD_HEADERS,
        )
        body = r.json()
        return bool(body.get("valid")), str(body.get("error") or "")

    # -- executions

    def start(self, wf_name: str, wf_input: dict, description: str) -> dict:
        if STOP.is_set():
            raise Interrupted
        body = {"workflow_name": wf_name, "input": wf_input, "description": description}
        ex = self.c.call("POST", "/v2/executions", json=body).json()
        if not isinstance(ex, dict) or not ex.get("id"):
            raise RuntimeError(f"POST /v2/executions returned no id: {str(ex)[:200]}")
        with self.lock:
            self.executions.append(ex["id"])
            if ex.get("state") not in DONE_STATES:
                self.inflight.add(ex["id"])
        return ex

    def wait(
        self, ex: dict, deadline: float, poll: tuple[float, float] = (POLL_START_S, POLL_CAP_S)
    ) -> tuple[dict, float | None]:
        """Poll GET /v2/executions/{id} until a final state; returns (execution, perf time seen).

        ``poll`` is (first interval, largest interval): the interval grows 1.5x per poll.
        """
        if ex.get("state") in DONE_STATES:
            self._done(ex["id"])
            return ex, time.perf_counter()
        path = f"/v2/executions/{ex['id']}"
        interval, cap = poll
        last = ex
        while True:
            if STOP.is_set():
                raise Interrupted
            try:
                cur = self.c.get_json(path)
                if isinstance(cur, dict):
                    last = cur
                    if cur.get("state") in DONE_STATES:
                        seen = time.perf_counter()
                        self._done(ex["id"])
                        return cur, seen
            except ApiError:
                pass  # counted as a failed request; keep polling until the deadline
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return last, None
            if STOP.wait(min(interval, remaining)):
                raise Interrupted
            interval = min(interval * 1.5, cap)

    def warm_up(self) -> None:
        """Two small executions through an executor before anything is timed (imports, caches, queues)."""
        name = self.ensure_workflow("warmup")
        for i in range(2):
            ex = self.start(name, {}, f"bench warm-up #{i} {self.run_id}")
            final, seen = self.wait(ex, time.perf_counter() + self.args.timeout)
            if seen is None or final.get("state") != "SUCCESS":
                raise RuntimeError(
                    f"warm-up execution ended {final.get('state')}: {str(final.get('state_info'))[-500:]}"
                )

    def _done(self, ex_id: str) -> None:
        with self.lock:
            self.inflight.discard(ex_id)
            self.completed.append(ex_id)

    def run_one(
        self, wf_key: str, wf_input: dict, label: str, poll: tuple[float, float] = (POLL_START_S, POLL_CAP_S)
    ) -> dict[str, Any]:
        """Start one execution and wait for it; wall time runs from the POST to the observed end."""
        name = self.ensure_workflow(wf_key)
        req0, fail0 = self.c.counters()
        t0 = time.perf_counter()
        ex = self.start(name, wf_input, f"bench {label} {self.run_id}")
        t_started = time.perf_counter()
        self.current_id = ex["id"]
        final, seen = self.wait(ex, t0 + self.args.timeout, poll)
        req1, fail1 = self.c.counters()
        res: dict[str, Any] = {
            "execution_id": ex["id"],
            "workflow_name": name,
            "state": final.get("state") if seen is not None else "TIMEOUT",
            "last_state": final.get("state"),
            "state_info": final.get("state_info"),
            "wall_s": round(seen - t0, 4) if seen is not None else None,
            "start_request_s": round(t_started - t0, 4),
            "server_s": server_seconds(final) if seen is not None else None,
            "created_at": final.get("created_at"),
            "updated_at": final.get("updated_at"),
            "output": json_field(final.get("output")),
            "requests": req1 - req0,
            "failed_requests": fail1 - fail0,
        }
        if seen is None:
            res["check"] = f"still {final.get('state')} after {self.args.timeout:g} s, cancelled"
            self.cancel(ex["id"])
        return res

    def cancel(self, ex_id: str) -> None:
        try:
            self.c.call(
                "PUT",
                f"/v2/executions/{ex_id}",
                json={"state": "CANCELLED", "state_info": "bench timeout"},
                timeout=10,
            )
        except ApiError as e:
            log(f"  could not cancel {ex_id}: {e}")
        with self.lock:
            self.inflight.discard(ex_id)

    def task_states(self, ex_id: str) -> Counter:
        """States of the task executions of one execution (paged with marker, bounded, deduplicated)."""
        by_id: dict[str, Any] = {}
        marker = None
        use_fields = True
        limit = 1000
        for _ in range(50):
            params: dict[str, Any] = {"limit": limit}
            if use_fields:
                params["fields"] = "name,state"
            if marker:
                params["marker"] = marker
            try:
                page = self.c.get_json(f"/v2/executions/{ex_id}/tasks", params=params)
            except ApiError as e:
                if use_fields and e.status == 400:
                    use_fields = False
                    continue
                raise
            tasks = page.get("tasks", []) if isinstance(page, dict) else []
            before = len(by_id)
            for t in tasks:
                by_id[str(t.get("id") or len(by_id))] = t.get("state")
            # Stop on a short page, on a server that ignores limit, or when nothing new came back.
            if len(tasks) != limit or len(by_id) == before or not tasks[-1].get("id"):
                break
            marker = tasks[-1]["id"]
        return Counter(by_id.values())

    def run_parallel(
        self,
        fn: Callable[[int], Any],
        count: int,
        threads: int,
        deadline: float,
        label: str,
    ) -> list[Any]:
        """Run fn(i) for i in range(count) on ``threads`` threads, bounded by ``deadline``."""
        results: list[Any] = []
        pool = cf.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bench")
        futs: set[cf.Future] = set()
        it = iter(range(count))
        t0 = time.perf_counter()
        last_print = t0
        try:
            # Keep at most 2*threads submitted so a deadline stops the rest quickly.
            while True:
                while len(futs) < 2 * threads and time.perf_counter() < deadline and not STOP.is_set():
                    i = next(it, None)
                    if i is None:
                        break
                    futs.add(pool.submit(fn, i))
                if not futs:
                    break
                done, futs = cf.wait(futs, timeout=1.0, return_when=cf.FIRST_COMPLETED)
                for f in done:
                    try:
                        results.append(f.result())
                    except Interrupted:
                        pass
                    except Exception as e:  # one failure must not stop the batch
                        results.append(e)
                now = time.perf_counter()
                if label and now - last_print >= 5:
                    last_print = now
                    rate = len(results) / (now - t0)
                    log(f"  {label}: {len(results)}/{count} done ({rate:.1f}/s)")
                if now >= deadline + self.args.timeout:
                    log(f"  {label}: deadline passed, abandoning {len(futs)} pending")
                    break
        except BaseException:
            STOP.set()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return results

    # ----------------------------------------------------------------------
    # Workloads

    def single(self, name: str) -> dict[str, Any]:
        spec = workload_specs()[name]
        poll = (FAST_POLL_S, FAST_POLL_S) if name == "chain_50" else (POLL_START_S, POLL_CAP_S)
        hops_before = self.engine_hops_count() if name == "chain_50" else None
        res = self.run_one(spec["wf"], workload_input(name), name, poll)
        res["count"] = spec["count"]
        res["unit"] = spec["unit"]
        res["rate"] = rate(spec["count"], res["wall_s"])
        if name == "chain_50":
            out = res["output"]
            value = out.get("v") if isinstance(out, dict) else None
            res["output_value"] = value
            res["output_ok"] = value == CHAIN_LEN
            res["check"] = f"output v={value!r} ({'OK' if res['output_ok'] else 'WRONG'}, want {CHAIN_LEN})"
            if res["state"] == "SUCCESS":
                self.add_hops(res)
                self.add_engine_hops(res, hops_before)
        if name.startswith(COUNTED_OUTPUT):
            out = res["output"]
            value = out.get("n") if isinstance(out, dict) else None
            res["output_ok"] = value == spec["count"]
            res["check"] = (
                f"output n={value!r} ({'OK' if res['output_ok'] else 'WRONG'}, want {spec['count']})"
            )
            if res["state"] == "SUCCESS" and not res["output_ok"]:
                res["state"] = "WRONG"
        if name in EXPECTED_TASKS and res["state"] == "SUCCESS":
            try:
                states = self.task_states(res["execution_id"])
                res["task_states"] = dict(states)
                want = EXPECTED_TASKS[name]
                ok = states.get("SUCCESS", 0) == want and sum(states.values()) == want
                res["tasks_ok"] = ok
                note = f"tasks {states.get('SUCCESS', 0)}/{want} SUCCESS"
                res["check"] = f"{res['check']}; {note}" if res.get("check") else note
            except ApiError as e:
                res["check"] = (res.get("check") or "") + f" tasks check failed: {e}"
        return res

    def add_hops(self, res: dict[str, Any]) -> None:
        """Per-hop latency from the task executions' timestamps, when they have sub-second precision."""
        try:
            page = self.c.get_json(f"/v2/executions/{res['execution_id']}/tasks", params={"limit": 1000})
        except ApiError as e:
            res["hop_ms"] = {"error": str(e)}
            return
        hops = hop_latencies(page.get("tasks", []) if isinstance(page, dict) else [])
        res["hop_ms"] = spread_ms(hops) if hops is not None else None
        if hops is None:
            res["check"] += "; hop n/a (whole-second timestamps)"
        else:
            res["check"] += f"; hop p50 {fmt(res['hop_ms']['p50'])} ms p95 {fmt(res['hop_ms']['p95'])} ms"

    def engine_hops_count(self) -> int | None:
        """How many hops the engine has timed so far, when it serves ``GET /v2/engine_stats`` (ours only)."""
        try:
            stats = self.c.get_json("/v2/engine_stats")
        except ApiError:
            return None
        return (stats.get("result_to_next_send") or {}).get("count") if isinstance(stats, dict) else None

    def add_engine_hops(self, res: dict[str, Any], before: int | None) -> None:
        """The engine's own result-to-next-send figure over this workload's hops."""
        if before is None:
            return
        try:
            stats = self.c.get_json("/v2/engine_stats", params={"since": before})
        except ApiError as e:
            res["engine_hop_ms"] = {"error": str(e)}
            return
        figure = stats.get("result_to_next_send") or {}
        res["engine_hop_ms"] = figure
        p50, p95 = fmt(figure.get("p50_ms")), fmt(figure.get("p95_ms"))
        res["check"] += f"; engine result->next send p50 {p50} ms p95 {p95} ms"

    def concurrent(self) -> dict[str, Any]:
        n = CONCURRENT_EXECUTIONS
        name = self.ensure_workflow("noop_chain_5")
        req0, fail0 = self.c.counters()
        start_at: list[float] = []
        post_times: list[float] = []
        barrier = threading.Barrier(n, action=lambda: start_at.append(time.perf_counter()), timeout=30)

        def one(i: int) -> dict[str, Any]:
            barrier.wait()
            t0 = start_at[0]
            t_post = time.perf_counter()
            try:
                ex = self.start(name, {}, f"bench concurrent_50 #{i} {self.run_id}")
            except ApiError as e:
                return {"state": "START_FAILED", "error": str(e)}
            post_times.append(time.perf_counter() - t_post)
            final, seen = self.wait(ex, t0 + self.args.timeout)
            if seen is None:
                self.cancel(ex["id"])
                return {"id": ex["id"], "state": "TIMEOUT", "last_state": final.get("state")}
            return {"id": ex["id"], "state": final.get("state"), "wall_s": seen - t0, "seen": seen}

        outs = self.run_parallel(one, n, n, time.perf_counter() + self.args.timeout + 60, "")
        req1, fail1 = self.c.counters()
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

    def seed(self, count: int, threads: int, deadline: float, label: str) -> dict[str, Any]:
        """Create ``count`` finished executions of the 1-task workflow, ``threads`` at a time."""
        name = self.ensure_workflow("one_task")

        def one(i: int) -> str:
            ex = self.start(name, {}, f"bench {label} #{i} {self.run_id}")
            final, seen = self.wait(ex, min(deadline, time.perf_counter() + self.args.timeout))
            if seen is None:
                self.cancel(ex["id"])
                return "TIMEOUT"
            return str(final.get("state"))

        t0 = time.perf_counter()
        outs = self.run_parallel(one, count, threads, deadline, label)
        wall = time.perf_counter() - t0
        states = Counter(o if isinstance(o, str) else "EXCEPTION" for o in outs)
        errors = [str(o) for o in outs if not isinstance(o, str)][:5]
        return {
            "requested": count,
            "finished": len(outs),
            "states": dict(states),
            "wall_s": round(wall, 3),
            "executions_per_s": rate(len(outs), wall),
            "errors": errors,
        }

    def api_latency(self) -> dict[str, Any]:
        seeded = None
        have = len(self.completed)
        if have < LATENCY_SEED_EXECUTIONS:
            log(f"  api_latency: creating {LATENCY_SEED_EXECUTIONS - have} small executions first")
            seeded = self.seed(
                LATENCY_SEED_EXECUTIONS - have,
                self.args.history_threads,
                time.perf_counter() + self.args.timeout,
                "api_latency seed",
            )
        ids = list(self.completed[-LATENCY_SEED_EXECUTIONS:]) or list(self.executions)
        n = self.args.latency_requests
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
        deadline = time.perf_counter() + self.args.timeout
        for label, make in endpoints:
            samples: list[float] = []
            failed = 0
            try:  # warm-up, not counted
                path, params = make(0)
                self.c.call("GET", path, params=params)
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
                    self.c.call("GET", path, params=params)
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

    def after_history(self) -> dict[str, Any]:
        base = self.results.get("fanout_1000")
        if not base or base.get("state") != "SUCCESS":
            log("  fanout_1000_after_history: measuring fanout_1000 baseline first")
            base = self.single("fanout_1000")
        history = None
        if self.args.history > 0:
            log(f"  fanout_1000_after_history: creating {self.args.history} finished executions")
            history = self.seed(
                self.args.history,
                self.args.history_threads,
                time.perf_counter() + self.args.history_timeout,
                "history",
            )
        after = self.single("fanout_1000")
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

    def polling_load(self) -> dict[str, Any]:
        """fanout_1000 and chain_50 quiet, under closed-loop pollers, and under open-loop pollers.

        Closed loop: POLLERS client threads poll GET /v2/executions/{id} with no pause (the
        figure of the past, a stress test: its latency is mostly queueing). Open loop: POLLERS
        clients each poll every OPEN_LOOP_INTERVAL_S (see bench.polling), the figure the target
        judges. Then, with nothing running, the server's own cost of one GET: the server
        processes' CPU seconds per request under the open-loop pollers, and wrk's latency over
        one connection.
        """
        runs = ("fanout_1000", "chain_50")
        quiet = {name: self.single(name) for name in runs}
        closed, get, polls, poll_failed = self._closed_loop_runs(runs)
        open_loaded, open_loop = self._open_loop_runs(runs)
        server = self._server_get_cost()
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
            "runs": {
                k: {f: v.get(f) for f in ("state", "wall_s", "execution_id")} for k, v in all_runs.items()
            },
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

    def _poll_target(self) -> str | None:
        ex_id = self.current_id or (self.completed[-1] if self.completed else None)
        return f"/v2/executions/{ex_id}" if ex_id else None

    def _closed_loop_runs(self, runs: Iterable[str]) -> tuple[dict[str, dict], dict, int, int]:
        pollers = Client(self.c.base, self.c.http_timeout, self.args.token)
        samples: list[float] = []
        done = threading.Event()

        def poll() -> None:
            while not done.is_set() and not STOP.is_set():
                target = self._poll_target()
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
            loaded = {name: self.single(name) for name in runs}
        finally:
            done.set()
            for t in threads:
                t.join(timeout=self.args.http_timeout + 5)
            polls, poll_failed = pollers.counters()
            pollers.close()
        return loaded, spread_ms(samples), polls, poll_failed

    def _open_loop_runs(self, runs: Iterable[str]) -> tuple[dict[str, dict], dict[str, Any]]:
        loaded: dict[str, dict] = {}
        done = threading.Event()
        figures: dict[str, Any] = {}

        def poll() -> None:
            try:
                figures.update(
                    polling.open_loop(
                        self.c.base,
                        self._poll_target,
                        clients=POLLERS,
                        interval=OPEN_LOOP_INTERVAL_S,
                        stop=lambda: done.is_set() or STOP.is_set(),
                        headers=self._auth_headers(),
                    )
                )
            except Exception as e:  # noqa: BLE001 - reported with the figures, the runs go on
                figures["error"] = f"{e.__class__.__name__}: {e}"

        poller = threading.Thread(target=poll, daemon=True, name="open-loop")
        poller.start()
        try:
            time.sleep(0.5)  # the clients are in their rhythm before the first run starts
            loaded = {name: self.single(name) for name in runs}
        finally:
            done.set()
            poller.join(timeout=polling.ANSWER_TIMEOUT_S + 5)
        if "failed_requests" not in figures:
            raise RuntimeError(
                f"the open-loop pollers did not report: {figures.get('error', 'still running')}"
            )
        return loaded, figures

    def _server_get_cost(self) -> dict[str, Any]:
        """With nothing running: server CPU per GET under the open-loop pollers, and wrk's latency."""
        target = self._poll_target()
        if target is None:
            return {}
        before = self._server_cpu_s()
        figures = polling.open_loop(
            self.c.base,
            lambda: target,
            clients=POLLERS,
            interval=OPEN_LOOP_INTERVAL_S,
            duration=SERVER_COST_S,
            headers=self._auth_headers(),
        )
        after = self._server_cpu_s()
        answered = figures["requests"] - figures["failed_requests"]
        cpu_ms = (
            (after - before) * 1000 / answered
            if before is not None and after is not None and answered
            else None
        )
        wrk = polling.wrk_latency(self.c.base + target, SERVER_COST_S, headers=self._auth_headers())
        return {
            "open_loop_quiet": figures,
            "cpu_ms_per_get": round(cpu_ms, 3) if cpu_ms is not None else None,
            "wrk": wrk,
        }

    def _server_cpu_s(self) -> float | None:
        samples = self.sampler() if self.sampler else []
        cpus = [s.get("cpu_s") for s in samples]
        return sum(cpus) if cpus and None not in cpus else None

    def _auth_headers(self) -> dict[str, str]:
        return {"X-Auth-Token": self.args.token} if self.args.token else {}

    def run_workload(self, name: str) -> dict[str, Any]:
        if name in workload_specs():
            return self.single(name)
        if name == "concurrent_50":
            return self.concurrent()
        if name == "api_latency":
            return self.api_latency()
        if name == "fanout_1000_after_history":
            return self.after_history()
        if name == "polling_load":
            return self.polling_load()
        raise ValueError(name)

    # -- cleanup

    def cleanup(self) -> None:
        with self.lock:
            pending = sorted(self.inflight)
        t_end = time.perf_counter() + 30
        for ex_id in pending[:200]:
            if time.perf_counter() > t_end:
                break
            self.cancel(ex_id)
        if self.args.delete_executions:
            deleted = 0
            t_end = time.perf_counter() + max(60.0, self.args.timeout)
            for ex_id in list(self.executions):
                if time.perf_counter() > t_end:
                    log(f"  stopped deleting executions after {deleted} (time limit)")
                    break
                try:
                    self.c.call("DELETE", f"/v2/executions/{ex_id}", timeout=10)
                    deleted += 1
                except ApiError:
                    pass
            log(f"deleted {deleted}/{len(self.executions)} executions")
        if self.args.keep:
            if self.uploaded:
                log("kept workflows: " + ", ".join(sorted(self.uploaded.values())))
            return
        # A wedged server would otherwise hold the exit (and the stop of a deployment) for minutes.
        t_end = time.perf_counter() + 60
        for name in list(self.uploaded.values()):
            if time.perf_counter() > t_end:
                log(f"  left workflow {name} (cleanup time limit)")
                continue
            try:
                self.c.call("DELETE", f"/v2/workflows/{name}", timeout=30)
            except ApiError as e:
                log(f"  could not delete workflow {name}: {e}")
        self.uploaded.clear()


# --------------------------------------------------------------------------
# Figures and reporting


def _ratio(loaded: dict, quiet: dict) -> float | None:
    if loaded.get("wall_s") and quiet.get("wall_s"):
        return round(loaded["wall_s"] / quiet["wall_s"], 2)
    return None


def per_task_ms(res: dict | None) -> float | None:
    if not res or res.get("state") != "SUCCESS" or not res.get("wall_s"):
        return None
    return round(res["wall_s"] * 1000 / 1002, 3)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "hostname": socket.gethostname(),
        "nproc": os.cpu_count(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "requests": requests.__version__,
    }
    try:
        info["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    return info


# --------------------------------------------------------------------------
# Self-check (offline) and dry run (validation against the server)


def self_check() -> list[str]:
    """Offline checks of the generated documents and helpers; returns a list of problems."""
    problems: list[str] = []
    try:
        import yaml  # optional: only used to double-check the emitter
    except ImportError:
        yaml = None
    for key, build in WF_BUILDERS.items():
        doc = wf_doc(f"bench_{key}_selfcheck", build())
        text = to_yaml(doc)
        if yaml is not None:
            try:
                if yaml.safe_load(text) != doc:
                    problems.append(f"{key}: YAML does not round-trip")
            except yaml.YAMLError as e:
                problems.append(f"{key}: invalid YAML: {e}")
        tasks = doc[f"bench_{key}_selfcheck"]["tasks"]
        for tname, t in tasks.items():
            for nxt in t.get("on-success", []):
                if nxt not in tasks:
                    problems.append(f"{key}: {tname} -> unknown task {nxt}")
    if len(fanout_wf(1000)["tasks"]) != 1002:
        problems.append("fanout_1000 must have 1002 tasks")
    if len(chain_wf(CHAIN_LEN)["tasks"]) != CHAIN_LEN:
        problems.append("chain_50 must have 50 tasks")
    if pct([1.0, 2.0, 3.0, 4.0], 50) != 2.0 or pct([float(i) for i in range(1, 101)], 99) != 99.0:
        problems.append("percentile helper is wrong")
    if server_seconds({"created_at": "2024-01-01 00:00:00", "updated_at": "2024-01-01 00:00:03"}) != 3.0:
        problems.append("timestamp parsing is wrong")
    if json_field('{"v": 50}') != {"v": 50}:
        problems.append("json_field is wrong")
    return problems


def dry_run(bench: Bench, workloads: Iterable[str]) -> bool:
    keys: list[str] = []
    for w in workloads:
        for k in WORKLOAD_WFS[w]:
            if k not in keys:
                keys.append(k)
    ok = True
    for key in keys:
        text = bench.document(key)
        try:
            valid, error = bench.validate(key)
        except ApiError as e:
            valid, error = False, str(e)
        ok = ok and valid
        status = "valid" if valid else f"INVALID: {error}"
        print(f"{bench.wf_name(key):<40} {len(text):>7} bytes  {status}")
    return ok


# --------------------------------------------------------------------------
# Main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Benchmarks for a Mistral v2 compatible server (public REST API only).",
    )
    p.add_argument(
        "--url",
        default=os.environ.get("MISTRAL_BENCH_URL", "http://127.0.0.1:8989"),
        help="server root for --deploy url, e.g. http://127.0.0.1:8989 (a trailing /v2 is accepted)",
    )
    p.add_argument(
        "--deploy",
        choices=deploy.KINDS,
        default="url",
        help="what to measure: the server at --url (default), or one the benchmark starts and stops",
    )
    p.add_argument(
        "--compare",
        action="store_true",
        help="run ours (--deploy embedded|distributed; default distributed) and then the reference "
        "(OpenStack Mistral 23.0.0, distributed) in one run and print both side by side",
    )
    p.add_argument("--engines", type=int, default=1, help="engine processes of a distributed deployment")
    p.add_argument("--executors", type=int, default=2, help="executor processes of a distributed deployment")
    p.add_argument("--ours-venv", help="venv holding our mistral-server (default: next to this Python)")
    p.add_argument(
        "--ref-venv",
        default=str(deploy.DEFAULT_REF_VENV),
        help="venv of the reference (created with pip install mistral==23.0.0 when missing)",
    )
    p.add_argument(
        "--port-base", type=int, default=8990, help="API port of ours; the reference uses the next one"
    )
    p.add_argument("--workdir", default="/tmp/mistral-bench", help="configuration, logs and SQLite data")
    p.add_argument(
        "--pg-url",
        default=os.environ.get("MISTRAL_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="an existing PostgreSQL database to connect to when creating and dropping the bench databases",
    )
    p.add_argument(
        "--rabbit-url",
        default=os.environ.get("MISTRAL_BENCH_RABBIT_URL", "rabbit://guest:guest@127.0.0.1:5672/"),
        help="the RabbitMQ broker (each deployment gets a virtual host of its own via rabbitmqctl)",
    )
    p.add_argument(
        "--start-timeout", type=float, default=300.0, help="seconds for a deployment to come up (default 300)"
    )
    p.add_argument(
        "--workload",
        action="append",
        choices=WORKLOADS + ["all"],
        help="workload to run (repeatable; default: all, always run in the canonical order)",
    )
    p.add_argument("--skip", action="append", choices=WORKLOADS, help="workload not to run (repeatable)")
    p.add_argument("--json", metavar="PATH", help="write every figure to this JSON file")
    p.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for one execution (default 300)"
    )
    p.add_argument(
        "--ref-timeout",
        type=float,
        default=1200.0,
        help="seconds to wait for one execution of the reference (default 1200: it is slow)",
    )
    p.add_argument("--http-timeout", type=float, default=60.0, help="per-request timeout (default 60)")
    p.add_argument(
        "--history",
        type=int,
        default=10000,
        help="finished executions created before fanout_1000_after_history (default 10000)",
    )
    p.add_argument("--history-threads", type=int, default=16, help="threads creating history (default 16)")
    p.add_argument(
        "--history-timeout", type=float, default=3600.0, help="time limit for creating the history"
    )
    p.add_argument("--latency-requests", type=int, default=200, help="requests per endpoint (api_latency)")
    p.add_argument("--keep", action="store_true", help="do not delete the uploaded workflows")
    p.add_argument(
        "--delete-executions",
        action="store_true",
        help="delete the executions this run created (default: keep them, they are history)",
    )
    p.add_argument("--token", default=os.environ.get("OS_AUTH_TOKEN"), help="X-Auth-Token to send")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="only validate the workflow documents with POST /v2/workflows/validate",
    )
    p.add_argument("--self-check", action="store_true", help="offline checks only (no server needed)")
    p.add_argument("--dump-dir", metavar="DIR", help="also write the generated YAML documents here")
    args = p.parse_args(argv)
    if args.timeout <= 0 or args.http_timeout <= 0 or args.history < 0 or args.history_threads < 1:
        p.error("timeouts must be > 0, --history >= 0, --history-threads >= 1")
    if args.latency_requests < 1:
        p.error("--latency-requests must be >= 1")
    if args.engines < 1 or args.executors < 1:
        p.error("--engines and --executors must be >= 1")
    if not 1024 <= args.port_base < 65535:
        p.error("--port-base must be in 1024..65534")
    if args.compare and args.deploy not in ("url", "embedded", "distributed"):
        p.error("--compare runs the reference itself: pick --deploy embedded or distributed for ours")
    return args


def deploy_kinds(args: argparse.Namespace) -> list[str]:
    """The deployments of this run, in order: with --compare ours first, then the reference."""
    if not args.compare:
        return [args.deploy]
    ours = args.deploy if args.deploy in ("embedded", "distributed") else "distributed"
    return [ours, "reference-distributed"]


def deployment_settings(kind: str, args: argparse.Namespace) -> deploy.Settings | None:
    """How to start the deployment ``kind``; None for ``url`` (nothing to start)."""
    if kind == "url":
        return None
    reference = kind == "reference-distributed"
    ours_bin = None if reference else deploy.find_ours_bin(args.ours_venv)
    if not reference and ours_bin is None:
        raise SystemExit("cannot find our mistral-server: run with the project's venv or pass --ours-venv")
    return deploy.Settings(
        kind=kind,
        port=args.port_base + (1 if reference else 0),
        workdir=pathlib.Path(args.workdir) / kind,
        engines=args.engines,
        executors=args.executors,
        ours_bin=ours_bin,
        ref_venv=pathlib.Path(args.ref_venv).expanduser(),
        pg_admin_url=args.pg_url,
        rabbit_url=args.rabbit_url,
        start_timeout=args.start_timeout,
    )


def skipped_workloads(kind: str, args: argparse.Namespace) -> dict[str, str]:
    """workload -> reason, for the workloads this deployment leaves out."""
    skips = dict(DEPLOY_SKIPS.get(kind, {}))
    for name in args.skip or []:
        skips[name] = "skipped by --skip"
    return skips


def selected_workloads(args: argparse.Namespace) -> list[str]:
    chosen = set(args.workload or ["all"])
    if "all" in chosen:
        return list(WORKLOADS)
    return [w for w in WORKLOADS if w in chosen]


def _sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def deployment_label(kind: str, args: argparse.Namespace) -> str:
    if kind in ("distributed", "reference-distributed"):
        return f"{kind} (1 api, {args.engines} engine(s), {args.executors} executors)"
    return kind


def run_deployment(kind: str, args: argparse.Namespace, workloads: list[str]) -> dict[str, Any]:
    """Start the deployment (unless ``url``), run the workloads, sample the processes, stop it."""
    settings = deployment_settings(kind, args)
    dep = deploy.Deployment(settings, log) if settings else None
    run_args = argparse.Namespace(**vars(args))
    if kind == "reference-distributed":
        run_args.timeout = args.ref_timeout
        # Its API parses a 1000-task upload for a minute or more when the machine is busy.
        run_args.http_timeout = max(args.http_timeout, REF_HTTP_TIMEOUT_S)
    client = Client(dep.url if dep else args.url, run_args.http_timeout, args.token)
    bench = Bench(client, run_args)

    def sampler() -> list[dict]:
        return [s.as_dict() for s in procstats.sample_all(dep.pids())] if dep else []

    bench.sampler = sampler if dep else None

    meta: dict[str, Any] = {
        "deploy": kind,
        "label": deployment_label(kind, args),
        "url": client.base,
        "run_id": bench.run_id,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "workloads": workloads,
        "args": {k: v for k, v in vars(run_args).items() if k != "token"},
    }
    skips = skipped_workloads(kind, args)
    rows: list[tuple[str, list[dict]]] = []
    outcome = "completed"
    try:
        if dep:
            log(f"starting {meta['label']} on port {settings.port} (logs in {settings.workdir}) ...")
            t0 = time.perf_counter()
            dep.start()
            meta["deploy_start_s"] = round(time.perf_counter() - t0, 1)
            bench.warm_up()
            log(f"  up in {meta['deploy_start_s']} s, warm-up done")
            rows.append(("start", sampler()))
        try:
            meta["server_root"] = client.get_json("/", timeout=10)
        except (ApiError, ValueError) as e:
            meta["server_root_error"] = str(e)
            log(f"warning: GET / failed: {e}")
        if args.dry_run:
            ok = dry_run(bench, workloads)
            print("dry run: " + ("all documents valid" if ok else "some documents are INVALID"))
            bench.results["dry_run"] = {"state": "SUCCESS" if ok else "ERROR"}
            outcome = "dry run"
        else:
            run_workloads(bench, workloads, skips, sampler, rows)
    except KeyboardInterrupt:
        STOP.set()
        outcome = "interrupted"
        log("interrupted: cleaning up (Ctrl-C again to abort)")
    except (deploy.DeployError, ApiError, RuntimeError) as e:
        outcome = "failed"
        meta["deploy_error"] = str(e)
        log(f"{kind}: {e}")
    finally:
        try:
            if outcome != "failed" or bench.results:
                bench.cleanup()
        except (ApiError, KeyboardInterrupt) as e:
            log(f"cleanup failed: {e!r}")
        final = sampler()
        if final:
            rows.append(("end", final))
        if dep:
            log(f"stopping {kind} ...")
            dep.stop()
        req, failed = client.counters()
        client.close()
    results = bench.results
    targets.evaluate(results, kind)
    print(f"\n=== {meta['label']}: {client.base} ({outcome})")
    print(summary_table(results))
    if rows:
        print()
        print(process_matrix(rows))
        if kind != "reference-distributed":
            over = targets.rss_failures(final)
            verdict = "PASS" if not over else "FAIL: " + ", ".join(over)
            print(f"RSS of each process <= {targets.RSS_LIMIT_MB:.0f} MB after the whole run: {verdict}")
    meta.update(
        finished_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        total_requests=req,
        total_failed_requests=failed,
        failure_samples=client.failure_samples,
        outcome=outcome,
        interrupted=outcome == "interrupted",
    )
    return {"meta": meta, "results": results, "processes": dict(rows)}


def run_workloads(
    bench: Bench,
    workloads: list[str],
    skips: dict[str, str],
    sampler: Callable[[], list[dict]],
    rows: list[tuple[str, list[dict]]],
) -> None:
    """Each workload in turn; a failed one is reported and the next one runs."""
    log(f"bench run {bench.run_id} against {bench.c.base}: {', '.join(workloads)}")
    for name in workloads:
        if STOP.is_set():
            break
        if name in skips:
            res: dict[str, Any] = {"state": "SKIPPED", "reason": skips[name]}
        else:
            log(f"running {name} ...")
            try:
                res = bench.run_workload(name)
            except Interrupted:
                raise KeyboardInterrupt from None
            except (
                ApiError,
                RuntimeError,
                ValueError,
                KeyError,
                TypeError,
                threading.BrokenBarrierError,
            ) as e:
                res = {"state": "FAILED", "error": f"{e.__class__.__name__}: {e}"}
            samples = sampler()
            if samples:
                res["processes"] = samples
                res["peak_rss_mb"] = procstats.peak_rss_mb(samples)
                rows.append((name, samples))
        bench.results[name] = res
        print(workload_line(name, res), flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _sigterm)  # stop as cleanly as on Ctrl-C
    workloads = selected_workloads(args)

    problems = self_check()
    for prob in problems:
        log(f"self-check: {prob}")
    if args.self_check:
        print("self-check: " + ("OK" if not problems else f"{len(problems)} problem(s)"))
        return 1 if problems else 0
    if problems:
        return 1
    if args.dump_dir:
        os.makedirs(args.dump_dir, exist_ok=True)
        names = Bench(Client(args.url, args.http_timeout), args)
        for key in WF_BUILDERS:
            with open(os.path.join(args.dump_dir, f"{key}.yaml"), "w") as f:
                f.write(names.document(key))

    runs: list[dict[str, Any]] = []
    for kind in deploy_kinds(args):
        if STOP.is_set():
            break
        runs.append(run_deployment(kind, args, workloads))
    comparison = None
    if len(runs) == 2:
        ours, ref = runs[0]["results"], runs[1]["results"]
        comparison = targets.reference_factors(ours, ref)
        print(f"\n=== {runs[0]['meta']['label']} vs {runs[1]['meta']['label']}")
        print(compare_table(ours, ref, runs[0]["meta"]["deploy"], "reference"))
        want = targets.REFERENCE_FACTOR
        for name, factor in comparison.items():
            verdict = "-" if factor is None else ("PASS" if factor >= want else "FAIL")
            shown = "-" if factor is None else f"{factor:.1f}"
            print(f"  {name:<26} ours >= {want:g}x faster than the reference: {verdict} (x{shown})")
    if args.json:
        with open(args.json, "w") as f:
            first = runs[0] if runs else {"meta": {}, "results": {}}
            doc = {"meta": first["meta"], "results": first["results"], "runs": runs, "comparison": comparison}
            json.dump(doc, f, indent=2, default=str)
            f.write("\n")
        log(f"wrote {args.json}")
    if STOP.is_set() or any(r["meta"].get("interrupted") for r in runs):
        return 130
    ok = all(
        r["meta"]["outcome"] in ("completed", "dry run")
        and all(w.get("state") in ("SUCCESS", "SKIPPED") for w in r["results"].values())
        for r in runs
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
