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
import math
import os
import platform
import re
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
from requests.adapters import HTTPAdapter

WORKLOADS = [
    "fanout_100",
    "fanout_1000",
    "chain_50",
    "with_items_500",
    "with_items_1000",
    "with_items_10000",
    "with_items_10000_c50",
    "concurrent_50",
    "api_latency",
    "fanout_1000_after_history",
]

DONE_STATES = ("SUCCESS", "ERROR", "CANCELLED")
POLL_START_S = 0.01
POLL_CAP_S = 0.2
CHAIN_LEN = 50
CONCURRENT_EXECUTIONS = 50
CONCURRENT_CHAIN_LEN = 5
LATENCY_SEED_EXECUTIONS = 200

# Set on Ctrl-C: every loop and worker checks it and stops promptly.
STOP = threading.Event()


class Interrupted(Exception):
    """Raised inside loops once STOP is set."""


class ApiError(Exception):
    def __init__(self, method: str, path: str, status: int | None, detail: str):
        self.status = status
        super().__init__(f"{method} {path} -> {status if status is not None else 'no response'}: {detail}")


# --------------------------------------------------------------------------
# HTTP client


def normalize_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if url.endswith("/v2"):
        url = url[: -len("/v2")]
    if not re.match(r"^https?://[^/]+", url):
        raise SystemExit(f"--url must look like http://host:port, got {url!r}")
    return url


class Client:
    """Thread-safe wrapper: one requests.Session per thread, every URL built from ``base``.

    Redirects are never followed and ``next`` links are never used, so no
    request leaves the server given on the command line.
    """

    def __init__(self, base: str, http_timeout: float, token: str | None = None):
        self.base = normalize_url(base)
        self.http_timeout = http_timeout
        self.headers = {"Accept": "application/json"}
        if token:
            self.headers["X-Auth-Token"] = token
        self._local = threading.local()
        self._lock = threading.Lock()
        self._sessions: list[requests.Session] = []
        self.requests = 0
        self.failures = 0
        self.failure_samples: list[str] = []

    def _session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            adapter = HTTPAdapter(pool_connections=2, pool_maxsize=4, max_retries=0)
            s.mount("http://", adapter)
            s.mount("https://", adapter)
            s.headers.update(self.headers)
            self._local.session = s
            with self._lock:
                self._sessions.append(s)
        return s

    def _record(self, ok: bool, what: str) -> None:
        with self._lock:
            self.requests += 1
            if not ok:
                self.failures += 1
                if len(self.failure_samples) < 20:
                    self.failure_samples.append(what)

    def counters(self) -> tuple[int, int]:
        with self._lock:
            return self.requests, self.failures

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        """Send one request; raise ApiError on a transport error or a non-2xx status."""
        if not path.startswith("/"):
            raise ValueError(path)
        kw.setdefault("timeout", self.http_timeout)
        kw["allow_redirects"] = False
        try:
            r = self._session().request(method, self.base + path, **kw)
        except requests.RequestException as e:
            self._record(False, f"{method} {path}: {e.__class__.__name__}")
            raise ApiError(method, path, None, e.__class__.__name__ + ": " + str(e)[:200]) from e
        if not 200 <= r.status_code < 300:
            detail = error_text(r)
            self._record(False, f"{method} {path}: {r.status_code} {detail[:120]}")
            raise ApiError(method, path, r.status_code, detail)
        self._record(True, "")
        return r

    def get_json(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw).json()

    def close(self) -> None:
        with self._lock:
            for s in self._sessions:
                s.close()
            self._sessions.clear()


def error_text(r: requests.Response) -> str:
    msg = r.headers.get("Server-Error-Message")
    if msg:
        return msg
    try:
        body = r.json()
        if isinstance(body, dict) and body.get("faultstring"):
            return str(body["faultstring"])
    except ValueError:
        pass
    return r.text[:300]


def json_field(value: Any) -> Any:
    """Mistral serializes jsontype fields (input, output, ...) as JSON strings."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def parse_ts(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def server_seconds(ex: dict | None) -> float | None:
    """Coarse server-side duration: updated_at - created_at (whole seconds in Mistral)."""
    if not ex:
        return None
    a, b = parse_ts(ex.get("created_at")), parse_ts(ex.get("updated_at"))
    if a is None or b is None:
        return None
    return (b - a).total_seconds()


# --------------------------------------------------------------------------
# Workflow documents (a tiny YAML emitter: no dependency besides requests)

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}


def _scalar(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    s = str(v)
    if _PLAIN.match(s) and s.lower() not in _RESERVED:
        return s
    return json.dumps(s)  # a JSON string is a valid double-quoted YAML scalar


def _yaml_lines(obj: Any, indent: int) -> list[str]:
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, dict | list) and v:
                lines.append(f"{pad}{_scalar(k)}:")
                lines.extend(_yaml_lines(v, indent + 1))
            else:
                lines.append(f"{pad}{_scalar(k)}: {_flow(v)}")
    elif isinstance(obj, list):
        for v in obj:
            if isinstance(v, dict | list) and v:
                sub = _yaml_lines(v, indent + 1)
                sub[0] = f"{pad}- {sub[0].lstrip()}"
                lines.extend(sub)
            else:
                lines.append(f"{pad}- {_flow(v)}")
    else:
        lines.append(pad + _scalar(obj))
    return lines


def _flow(v: Any) -> str:
    if isinstance(v, dict):
        return "{}"
    if isinstance(v, list):
        return "[]"
    return _scalar(v)


def to_yaml(obj: dict) -> str:
    return "\n".join(_yaml_lines(obj, 0)) + "\n"


def wf_doc(name: str, body: dict) -> dict:
    return {"version": "2.0", name: body}


def fanout_wf(n: int) -> dict:
    names = [f"t{i}" for i in range(1, n + 1)]
    tasks: dict[str, Any] = {"start": {"action": "std.noop", "on-success": names}}
    for t in names:
        tasks[t] = {"action": "std.noop", "on-success": ["join_all"]}
    tasks["join_all"] = {"join": "all", "action": "std.noop"}
    return {"description": f"bench: fan-out of {n} noop tasks joined by one", "tasks": tasks}


def chain_wf(n: int) -> dict:
    tasks: dict[str, Any] = {}
    for i in range(1, n + 1):
        t: dict[str, Any] = {
            "action": "std.echo",
            "input": {"output": "<% $.v + 1 %>"},
            "publish": {"v": "<% task().result %>"},
        }
        if i < n:
            t["on-success"] = [f"s{i + 1}"]
        tasks[f"s{i}"] = t
    return {
        "description": f"bench: chain of {n} echo tasks passing v along",
        "input": [{"v": 0}],
        "output": {"v": "<% $.v %>"},
        "tasks": tasks,
    }


def with_items_wf(concurrency: int | None) -> dict:
    task: dict[str, Any] = {"action": "std.noop", "with-items": "i in <% range($.n) %>"}
    if concurrency:
        task["concurrency"] = concurrency
    return {
        "description": "bench: one noop task over n items",
        "input": ["n"],
        "tasks": {"items": task},
    }


def noop_chain_wf(n: int) -> dict:
    tasks: dict[str, Any] = {}
    for i in range(1, n + 1):
        t: dict[str, Any] = {"action": "std.noop"}
        if i < n:
            t["on-success"] = [f"c{i + 1}"]
        tasks[f"c{i}"] = t
    return {"description": f"bench: chain of {n} noop tasks", "tasks": tasks}


def one_task_wf() -> dict:
    return {"description": "bench: a single noop task", "tasks": {"only": {"action": "std.noop"}}}


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
    }


WF_BUILDERS: dict[str, Callable[[], dict]] = {
    "fanout_100": lambda: fanout_wf(100),
    "fanout_1000": lambda: fanout_wf(1000),
    "chain_50": lambda: chain_wf(CHAIN_LEN),
    "with_items": lambda: with_items_wf(None),
    "with_items_c50": lambda: with_items_wf(50),
    "noop_chain_5": lambda: noop_chain_wf(CONCURRENT_CHAIN_LEN),
    "one_task": one_task_wf,
}

# Which workflow documents each workload needs.
WORKLOAD_WFS: dict[str, list[str]] = {
    "fanout_100": ["fanout_100"],
    "fanout_1000": ["fanout_1000"],
    "chain_50": ["chain_50"],
    "with_items_500": ["with_items"],
    "with_items_1000": ["with_items"],
    "with_items_10000": ["with_items"],
    "with_items_10000_c50": ["with_items_c50"],
    "concurrent_50": ["noop_chain_5"],
    "api_latency": ["one_task"],
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
            headers={"Content-Type": "text/plain"},
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
            headers={"Content-Type": "text/plain"},
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

    def wait(self, ex: dict, deadline: float) -> tuple[dict, float | None]:
        """Poll GET /v2/executions/{id} until a final state; returns (execution, perf time seen)."""
        if ex.get("state") in DONE_STATES:
            self._done(ex["id"])
            return ex, time.perf_counter()
        path = f"/v2/executions/{ex['id']}"
        interval = POLL_START_S
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
            interval = min(interval * 1.5, POLL_CAP_S)

    def _done(self, ex_id: str) -> None:
        with self.lock:
            self.inflight.discard(ex_id)
            self.completed.append(ex_id)

    def run_one(self, wf_key: str, wf_input: dict, label: str) -> dict[str, Any]:
        """Start one execution and wait for it; wall time runs from the POST to the observed end."""
        name = self.ensure_workflow(wf_key)
        req0, fail0 = self.c.counters()
        t0 = time.perf_counter()
        ex = self.start(name, wf_input, f"bench {label} {self.run_id}")
        t_started = time.perf_counter()
        final, seen = self.wait(ex, t0 + self.args.timeout)
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
        res = self.run_one(spec["wf"], spec["input"], name)
        res["count"] = spec["count"]
        res["unit"] = spec["unit"]
        res["rate"] = rate(spec["count"], res["wall_s"])
        if name == "chain_50":
            out = res["output"]
            value = out.get("v") if isinstance(out, dict) else None
            res["output_value"] = value
            res["output_ok"] = value == CHAIN_LEN
            res["check"] = f"output v={value!r} ({'OK' if res['output_ok'] else 'WRONG'}, want {CHAIN_LEN})"
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

    def concurrent(self) -> dict[str, Any]:
        n = CONCURRENT_EXECUTIONS
        name = self.ensure_workflow("noop_chain_5")
        req0, fail0 = self.c.counters()
        start_at: list[float] = []
        barrier = threading.Barrier(n, action=lambda: start_at.append(time.perf_counter()), timeout=30)

        def one(i: int) -> dict[str, Any]:
            barrier.wait()
            t0 = start_at[0]
            try:
                ex = self.start(name, {}, f"bench concurrent_50 #{i} {self.run_id}")
            except ApiError as e:
                return {"state": "START_FAILED", "error": str(e)}
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
            "check": f"{states.get('SUCCESS', 0)}/{n} SUCCESS, {fail1 - fail0} failed requests",
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

    def run_workload(self, name: str) -> dict[str, Any]:
        if name in workload_specs():
            return self.single(name)
        if name == "concurrent_50":
            return self.concurrent()
        if name == "api_latency":
            return self.api_latency()
        if name == "fanout_1000_after_history":
            return self.after_history()
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
        for name in list(self.uploaded.values()):
            try:
                self.c.call("DELETE", f"/v2/workflows/{name}", timeout=30)
            except ApiError as e:
                log(f"  could not delete workflow {name}: {e}")
        self.uploaded.clear()


# --------------------------------------------------------------------------
# Figures and reporting


def rate(count: int, wall: float | None) -> float | None:
    if not wall or wall <= 0:
        return None
    return round(count / wall, 2)


def pct(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


def ms(v: float | None) -> float | None:
    return None if v is None else round(v * 1000, 2)


def per_task_ms(res: dict | None) -> float | None:
    if not res or res.get("state") != "SUCCESS" or not res.get("wall_s"):
        return None
    return round(res["wall_s"] * 1000 / 1002, 3)


def fmt_server(v: float | None) -> str:
    """created_at/updated_at have whole seconds only: show the server figure as an integer."""
    return "-" if v is None else f"{v:.0f}"


def fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 100 else f"{v:.1f}"
    return str(v)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def evaluate_targets(results: dict[str, dict[str, Any]]) -> None:
    """Attach {"target": text, "pass": bool|None} to the workloads that have a target."""

    def put(name: str, text: str, ok: bool | None) -> None:
        if name in results:
            results[name]["target"] = {"text": text, "pass": ok}

    def wall_ok(name: str, limit: float) -> bool | None:
        r = results.get(name) or {}
        if r.get("state") != "SUCCESS" or r.get("wall_s") is None:
            return False
        return r["wall_s"] < limit

    put("fanout_1000", "< 5 s", wall_ok("fanout_1000", 5))
    ch = results.get("chain_50") or {}
    put("chain_50", "< 1 s, output v == 50", bool(wall_ok("chain_50", 1) and ch.get("output_ok")))
    for name in ("with_items_10000", "with_items_10000_c50"):
        r = results.get(name) or {}
        ok = wall_ok(name, 30)
        text = "< 30 s"
        base = results.get("with_items_1000") or {}
        if name == "with_items_10000" and base.get("state") == "SUCCESS" and base.get("wall_s"):
            ratio = r["wall_s"] / base["wall_s"] if r.get("wall_s") else None
            r["ratio_to_1000"] = round(ratio, 2) if ratio else None
            text = f"< 30 s and <= 12x with_items_1000 (x{fmt(r['ratio_to_1000'])})"
            ok = bool(ok and ratio is not None and ratio <= 12)
        put(name, text, ok)
    c = results.get("concurrent_50") or {}
    put(
        "concurrent_50",
        "all SUCCESS < 3 s, 0 failed requests",
        c.get("state") == "SUCCESS" and (c.get("wall_s") or 1e9) < 3 and c.get("failed_requests") == 0,
    )
    h = results.get("fanout_1000_after_history") or {}
    ratio = h.get("ratio_after_before")
    put("fanout_1000_after_history", "per-task cost flat (<= 1.5x)", ratio is not None and ratio <= 1.5)


def workload_line(name: str, r: dict[str, Any]) -> str:
    if "error" in r and r.get("state") in (None, "FAILED"):
        return f"{name:<27} FAILED     {r['error']}"
    if name == "api_latency":
        parts = [f"{name:<27} {r.get('state', '-'):<10}"]
        for label, v in r.get("endpoints", {}).items():
            parts.append(
                f"\n    {label:<30} p50 {fmt(v['p50_ms']):>8} ms  p95 {fmt(v['p95_ms']):>8} ms  "
                f"p99 {fmt(v['p99_ms']):>8} ms  ({v['n']} req, {v['failed']} failed)"
            )
        return "".join(parts)
    rate_txt = f"{fmt(r.get('rate'))} {r.get('unit', '')}/s"
    line = (
        f"{name:<27} {str(r.get('state', '-')):<10} wall {fmt(r.get('wall_s')):>8} s  "
        f"server ~{fmt_server(r.get('server_s'))} s  {rate_txt}"
    )
    if r.get("check"):
        line += f"  [{r['check']}]"
    if r.get("state") not in ("SUCCESS", None) and r.get("state_info"):
        line += f"\n    state_info: {str(r['state_info'])[:300]}"
    return line


def summary_table(results: dict[str, dict[str, Any]]) -> str:
    head = f"{'workload':<27} {'state':<10} {'wall_s':>9} {'server_s':>8} {'rate':>12} {'unit':<9} target"
    rows = [head, "-" * len(head)]
    for name, r in results.items():
        tgt = r.get("target")
        tgt_txt = "-"
        if tgt:
            tgt_txt = f"{'PASS' if tgt['pass'] else 'FAIL'} ({tgt['text']})"
        unit = (r["unit"] + "/s") if r.get("unit") else "-"
        rows.append(
            f"{name:<27} {str(r.get('state', 'FAILED')):<10} {fmt(r.get('wall_s')):>9} "
            f"{fmt_server(r.get('server_s')):>8} {fmt(r.get('rate')):>12} {unit:<9} {tgt_txt}"
        )
    return "\n".join(rows)


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
        help="server root, e.g. http://127.0.0.1:8989 (a trailing /v2 is accepted)",
    )
    p.add_argument(
        "--workload",
        action="append",
        choices=WORKLOADS + ["all"],
        help="workload to run (repeatable; default: all, always run in the canonical order)",
    )
    p.add_argument("--json", metavar="PATH", help="write every figure to this JSON file")
    p.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for one execution (default 300)"
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
    return args


def selected_workloads(args: argparse.Namespace) -> list[str]:
    chosen = set(args.workload or ["all"])
    if "all" in chosen:
        return list(WORKLOADS)
    return [w for w in WORKLOADS if w in chosen]


def _sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


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

    client = Client(args.url, args.http_timeout, args.token)
    bench = Bench(client, args)
    if args.dump_dir:
        os.makedirs(args.dump_dir, exist_ok=True)
        for key in WF_BUILDERS:
            with open(os.path.join(args.dump_dir, f"{key}.yaml"), "w") as f:
                f.write(bench.document(key))

    meta: dict[str, Any] = {
        "url": client.base,
        "run_id": bench.run_id,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "workloads": workloads,
        "args": {k: v for k, v in vars(args).items() if k != "token"},
    }
    try:
        meta["server_root"] = client.get_json("/", timeout=10)
    except (ApiError, ValueError) as e:
        meta["server_root_error"] = str(e)
        log(f"warning: GET / failed: {e}")

    if args.dry_run:
        try:
            ok = dry_run(bench, workloads)
        except KeyboardInterrupt:
            return 130
        finally:
            client.close()
        print("dry run: " + ("all documents valid" if ok else "some documents are INVALID"))
        return 0 if ok else 1

    log(f"bench run {bench.run_id} against {client.base}: {', '.join(workloads)}")
    interrupted = False
    try:
        for name in workloads:
            if STOP.is_set():
                break
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
            bench.results[name] = res
            print(workload_line(name, res), flush=True)
    except KeyboardInterrupt:
        STOP.set()
        interrupted = True
        log("interrupted: cleaning up (Ctrl-C again to abort)")
    finally:
        try:
            bench.cleanup()
        except KeyboardInterrupt:
            log("cleanup aborted")
        except ApiError as e:
            log(f"cleanup failed: {e}")

    results = bench.results
    evaluate_targets(results)
    print()
    print(summary_table(results))
    req, failed = client.counters()
    client.close()
    meta["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    meta["total_requests"] = req
    meta["total_failed_requests"] = failed
    meta["failure_samples"] = client.failure_samples
    meta["interrupted"] = interrupted
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=2, default=str)
            f.write("\n")
        log(f"wrote {args.json}")
    if interrupted:
        return 130
    return 0 if all(r.get("state") == "SUCCESS" for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
