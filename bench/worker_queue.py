"""``worker_queue_10000``: 20 external workers drain one queue of 10 000 work items (not in Mistral 23).

One execution of a with-items task of ``ITEMS`` ``std.external`` actions (``worker_queue_wf``), all
in the queue ``bench_<run id>``; ``WORKERS`` worker processes each loop: claim one item (``POST
/v2/work_items/claim``), report its result (``PUT /v2/action_executions/{id}`` with the claim's
lease token), until the execution has ended. Figures: the claim latency as the workers saw it
(p50/p95/max), claims per second, the wall time from the execution's start to its SUCCESS, and
the checks: every item claimed exactly once (one claim per action execution, every claim its
first attempt), no result refused, the execution's output summing every item.

``claim_ms`` counts every claim that returned an item, each worker's first one included: that one
starts while the engine may still be creating the items, so it may have waited (up to ``WAIT_S``)
for an item to exist rather than for the claim. Those are ``WORKERS`` claims of ``ITEMS``, too few
to move the p50, but they may set the max; ``first_claim_ms`` shows them apart, and
``later_claim_ms`` the claims of a queue that had items, the latency the issue's target means.

The workers are processes, not threads, so that the benchmark's own interpreter lock does not
add to the latency it measures. Each speaks through one kept-alive connection with its claim
prepared once (``bench.connection``), not through ``requests``: on a 2-core machine the 20
workers share the cores with the server, and through ``requests`` they spent about 5 ms of
CPU per item, as much as the API process, which the claims then waited for (``workers_cpu_s``
shows what they spend now).
"""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from typing import Any

from bench.client import ApiError, Client
from bench.connection import KeptConnection
from bench.report import spread_ms
from bench.runner import Bench, log

ITEMS = 10_000
WORKERS = 20
#: Seconds a claim waits for an item.
WAIT_S = 1.0
LEASE_S = 60.0
LEASE_HEADER = "X-Mistral-Lease-Token"


#: Set (in each worker process) by the benchmark once the execution has ended: the queue will stay empty.
_finished: Any = None


def _init_worker(finished: Any) -> None:
    global _finished
    _finished = finished


def _work(base: str, token: str | None, queue: str, name: str) -> dict[str, Any]:
    """One worker process: claim, report, until the execution has ended; its claims and their latencies.

    NOTE: not "until a few claims in a row came back empty": the engine may take longer than
    that to create the first items (all 10 000 at once with a large [engine] with_items_window),
    and then the workers that started first gave up and two of them ran every item.
    """
    client = Client(base, http_timeout=30.0, token=token)
    conn = KeptConnection(client)
    conn.warm()
    claim = conn.prepare(
        "POST",
        "/v2/work_items/claim",
        {"queue": queue, "max": 1, "lease": LEASE_S, "wait": WAIT_S, "worker": name},
    )
    latencies: list[float] = []
    claimed: list[tuple[str, int]] = []
    refused = failed = 0
    while not _finished.is_set():
        t0 = time.perf_counter()
        try:
            items = conn.send_json(claim)["work_items"]
        except ApiError:
            failed += 1
            time.sleep(0.1)
            continue
        elapsed = time.perf_counter() - t0
        if not items:
            # NOTE: as mistral.worker does: an empty answer well before WAIT_S means the server had
            # no thread to spare for one more waiting claim; asked again at once, the claims of the
            # idle workers kept the machine busy while the engine finished the execution.
            if elapsed < WAIT_S / 2:
                _finished.wait(WAIT_S)
            continue
        latencies.append(elapsed)
        for item in items:
            claimed.append((item["action_execution_id"], item["attempt"]))
            result = {"state": "SUCCESS", "output": {"double": item["input"]["i"] * 2}}
            put = conn.prepare(
                "PUT",
                f"/v2/action_executions/{item['action_execution_id']}",
                result,
                {LEASE_HEADER: item["lease_token"]},
            )
            try:
                conn.send(put)
            except ApiError as e:
                if e.status == 409:
                    refused += 1
                else:
                    failed += 1
    conn.close()
    cpu = time.process_time()
    # NOTE: latencies[0] is the first claim that returned an item (see the module's docstring).
    return {"latencies": latencies, "claimed": claimed, "refused": refused, "failed": failed, "cpu_s": cpu}


def _work_star(args: tuple[str, str | None, str, str]) -> dict[str, Any]:
    return _work(*args)


def measure(bench: Bench) -> dict[str, Any]:
    queue = f"bench_{bench.run_id}"
    name = bench.ensure_workflow("worker_queue")
    t0 = time.perf_counter()
    ex = bench.start(name, {"n": ITEMS, "queue": queue}, f"bench worker_queue_10000 {bench.run_id}")
    # NOTE: with several API processes (--apis), the workers are dealt out over them.
    bases = [url.rstrip("/") for url in bench.api_urls]
    jobs = [
        (bases[i % len(bases)], bench.c.headers.get("X-Auth-Token"), queue, f"bench-worker-{i}")
        for i in range(WORKERS)
    ]
    spawn = multiprocessing.get_context("spawn")
    finished = spawn.Event()
    with spawn.Pool(WORKERS, initializer=_init_worker, initargs=(finished,)) as pool:
        work = pool.map_async(_work_star, jobs)
        final, seen = bench.wait(ex, t0 + bench.args.timeout)
        finished.set()
        outcomes = work.get()
    drained = time.perf_counter()
    latencies = [x for o in outcomes for x in o["latencies"]]
    claims = Counter(a for o in outcomes for a, _ in o["claimed"])
    attempts = Counter(n for o in outcomes for _, n in o["claimed"])
    output = final.get("output")
    res: dict[str, Any] = {
        "execution_id": ex["id"],
        "state": final.get("state") if seen is not None else "TIMEOUT",
        "state_info": final.get("state_info"),
        "wall_s": round((seen or drained) - t0, 3),
        "drain_s": round(drained - t0, 3),
        "claims": len(latencies),
        "claims_per_s": round(len(latencies) / max(drained - t0, 1e-9), 1),
        "claim_ms": spread_ms(latencies),
        "first_claim_ms": spread_ms([o["latencies"][0] for o in outcomes if o["latencies"]]),
        "later_claim_ms": spread_ms([x for o in outcomes for x in o["latencies"][1:]]),
        "distinct_items": len(claims),
        "claimed_twice": sum(1 for n in claims.values() if n > 1),
        "attempts": dict(attempts),
        "refused": sum(o["refused"] for o in outcomes),
        "failed_requests": sum(o["failed"] for o in outcomes),
        "per_worker": sorted(len(o["claimed"]) for o in outcomes),
        "workers_cpu_s": round(sum(o["cpu_s"] for o in outcomes), 1),
    }
    ok = (
        res["state"] == "SUCCESS"
        and res["distinct_items"] == ITEMS
        and res["claimed_twice"] == 0
        and set(attempts) == {1}
        and res["refused"] == 0
        and f'"count": {ITEMS}' in str(output)
        and f'"sum": {ITEMS * (ITEMS - 1)}' in str(output)
    )
    res["check"] = (
        f"{res['distinct_items']}/{ITEMS} items claimed, {res['claimed_twice']} twice, "
        f"claim p50 {res['claim_ms'].get('p50')} ms (later claims {res['later_claim_ms'].get('p50')} ms, "
        f"first claims max {res['first_claim_ms'].get('max')} ms) ({'OK' if ok else 'WRONG'})"
    )
    if res["state"] == "SUCCESS" and not ok:
        res["state"] = "WRONG"
    log(f"worker_queue_10000: {res['check']}")
    return res
