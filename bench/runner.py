"""One run against one server: its workflows, the executions it starts, and the HTTP-level steps.

``Bench`` uploads the workflow documents, starts an execution and waits for it, cancels one that
overran, counts the task states, seeds finished executions, runs a function on many threads, and
cleans up at the end. The measurements of the workloads (``bench.single``, ``bench.concurrency``,
``bench.api_latency``, ``bench.history``, ``bench.polling_load``) are built from these steps.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from bench.client import ApiError, Client, json_field
from bench.report import parse_ts, rate
from bench.workflows import WF_BUILDERS, to_yaml, wf_doc

DONE_STATES = ("SUCCESS", "ERROR", "CANCELLED")
POLL_START_S = 0.01
POLL_CAP_S = 0.2
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


#: Warm-up executions per engine of the deployment (see ``Bench.warm_up``).
WARM_UPS_PER_ENGINE = 2


def warm_up_runs(engines: int) -> int:
    """How many warm-up executions a deployment of ``engines`` engines gets (as for one if unknown)."""
    return WARM_UPS_PER_ENGINE * max(engines, 1)


def start_body(wf_name: str, wf_input: dict, description: str) -> dict[str, Any]:
    """The body of ``POST /v2/executions`` that starts ``wf_name``."""
    return {"workflow_name": wf_name, "input": wf_input, "description": description}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Bench:
    """One run against one server: the workflows it uploaded, the executions it started, its results."""

    def __init__(self, client: Client, args: argparse.Namespace) -> None:
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
        # Every API process of a deployment the benchmark started (workloads that spread their load).
        self.api_urls: list[str] = [client.base]
        # The Prometheus pages of the engines of a deployment the benchmark started (bench.engine_hops).
        self.engine_metrics: list[str] = []

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
        body = start_body(wf_name, wf_input, description)
        return self.started(self.c.call("POST", "/v2/executions", json=body).json())

    def started(self, ex: Any) -> dict:
        """Keep the answer of a ``POST /v2/executions`` among this run's executions, and return it."""
        if not isinstance(ex, dict) or not ex.get("id"):
            raise RuntimeError(f"POST /v2/executions returned no id: {str(ex)[:200]}")
        with self.lock:
            self.executions.append(ex["id"])
            if ex.get("state") not in DONE_STATES:
                self.inflight.add(ex["id"])
        return ex

    def wait(
        self,
        ex: dict,
        deadline: float,
        poll: tuple[float, float] = (POLL_START_S, POLL_CAP_S),
        fetch: Callable[[str], Any] | None = None,
    ) -> tuple[dict, float | None]:
        """Poll GET /v2/executions/{id} until a final state; returns (execution, perf time seen).

        ``poll`` is (first interval, largest interval): the interval grows 1.5x per poll.
        ``fetch(path)`` sends one poll (default: through the shared client).
        """
        if ex.get("state") in DONE_STATES:
            self._done(ex["id"])
            return ex, time.perf_counter()
        path = f"/v2/executions/{ex['id']}"
        get = fetch or self.c.get_json
        interval, cap = poll
        last = ex
        while True:
            if STOP.is_set():
                raise Interrupted
            try:
                cur = get(path)
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
        """Executions shaped like the workloads', enough for each engine to run some, before timing.

        NOTE: starts are shared out among a deployment's engines. With one echo twice, an engine
        of two could meet its first expression and publish in a timed workload. Against the old
        warm-up, 3 alternating runs each showed no difference beyond this machine's noise
        (distributed, 2 engines: chain_50 0.585-0.648 s before, 0.403-0.901 s after).
        """
        name = self.ensure_workflow("warmup")
        for i in range(warm_up_runs(getattr(self.args, "engines", 1))):
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
