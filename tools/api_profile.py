"""Time API requests in this process, called as WSGI with no socket and no client: CPU per request.

    python tools/api_profile.py get --requests 2000 [--profile out.pstats] [--db /tmp/x.sqlite]
    python tools/api_profile.py post --requests 200 [--threads 50] [--profile out.pstats]
    python tools/api_profile.py post --requests 20 --threads 1 --records 10000

``get``: GET /v2/executions/{id} as the API's reader process answers it (read-only sessions,
writes forwarded); the execution it reads is a finished 5-task chain. ``post``: POST
/v2/executions of that chain as the engine's process answers it, with the engine and executor
running here, ``--threads`` at a time (bench's concurrent_50 starts 50 at once). The profile
is cProfile's for ``get`` and yappi's (every thread, CPU clock) for ``post``. ``--records N``
posts N small dicts as the input of a one-task workflow instead (bench's with_items_dicts_10000
posts 10 000: what its POST costs without the with-items run behind it).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import io
import json
import sys
import threading
import time
from typing import Any

import inprocess
from sqlalchemy import event

from mistral import context, launcher
from mistral.api import app as api_app
from mistral.api import forwarding
from mistral.db import api as db_api
from mistral.db import session
from mistral.rpc import clients
from mistral.utils import memory

CHAIN = (
    """
version: '2.0'
chain5:
  tasks:
"""
    + "".join(
        f"    t{i}:\n      action: std.echo output={i}\n      publish:\n        v{i}: <% task().result %>\n"
        + (f"      on-success: t{i + 1}\n" if i < 4 else "")
        for i in range(5)
    )
    + """
takes_records:
  input: [records]
  tasks:
    t0:
      action: std.noop
"""
)


def wait_success(ex_id: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with db_api.transaction(read_only=True):
            if db_api.get_workflow_execution(ex_id).state == "SUCCESS":
                return
        time.sleep(0.02)
    raise TimeoutError(ex_id)


def run_execution() -> str:
    services = launcher.Services(["engine", "executor"])
    services.start()  # NOTE: only to make the execution that the reads read; settled below as a reader
    try:
        context.set_current(context.Context())
        ex_id = clients.engine().start_workflow("chain5")["id"]
        wait_success(ex_id)
        return ex_id
    finally:
        services.stop(grace=1)


def environ(path: str, method: str = "GET", body: bytes = b"") -> dict[str, Any]:
    return {
        "REQUEST_METHOD": method,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8989",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8989",
        "HTTP_ACCEPT": "application/json",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def call(app: Any, path: str, method: str = "GET", body: bytes = b"") -> tuple[str, bytes]:
    status: list[str] = []
    answer = b"".join(app(environ(path, method, body), lambda s, h, e=None: status.append(s)))
    return status[0], answer


def profile_posts(args: argparse.Namespace) -> None:
    """POSTs ``--threads`` at a time through the engine process's own API; CPU, wall and SQL per POST."""
    import concurrent.futures as cf

    statements: collections.Counter[str] = collections.Counter()

    @event.listens_for(session.get_engine(), "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, ctx, executemany):  # noqa: ANN001
        statements[statement.split(None, 1)[0].upper()] += 1

    services = inprocess.start_services()
    app = api_app.setup_app(sync_actions=False)
    if args.records:
        records = [{"name": f"r{i}", "size": i} for i in range(args.records)]
        body = json.dumps({"workflow_name": "takes_records", "input": {"records": records}}).encode()
    else:
        body = json.dumps({"workflow_name": "chain5", "input": {}}).encode()

    def post(_: int) -> tuple[float, str]:
        t0 = time.perf_counter()
        status, answer = call(app, "/v2/executions", "POST", body)
        assert status.startswith("201"), (status, answer[:300])
        return time.perf_counter() - t0, json.loads(answer)["id"]

    try:
        with cf.ThreadPoolExecutor(args.threads) as pool:
            for _, ex_id in pool.map(post, range(args.threads)):  # warm-up
                wait_success(ex_id)
            time.sleep(0.5)
            statements.clear()
            if args.profile:
                import yappi  # a development tool, not a dependency: cProfile sees one thread only

                yappi.set_clock_type("cpu")
                yappi.start()
            cpu0 = time.process_time()
            timed = list(pool.map(post, range(args.requests)))
            cpu = time.process_time() - cpu0
            if args.profile:
                yappi.stop()
                yappi.get_func_stats().save(args.profile, type="pstat")
            for _, ex_id in timed:
                wait_success(ex_id)
    finally:
        services.stop(grace=1)
    walls = sorted(w for w, _ in timed)
    n = args.requests
    print(
        f"POST /v2/executions, {args.threads} at a time: {n} requests, {1e3 * cpu / n:.3f} ms CPU each "
        f"(the process's, engine and executor included, until the answers); wall p50 "
        f"{1e3 * walls[n // 2]:.1f} ms, max {1e3 * walls[-1]:.1f} ms; SQL statements per POST (and "
        "the runs it started, if done by then): "
        + ", ".join(f"{k} {v / n:.2f}" for k, v in statements.most_common())
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=("get", "post"))
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=50, help="POSTs at a time")
    parser.add_argument("--db", default="/tmp/api-profile/api.sqlite")
    parser.add_argument("--profile", help="write pstats of the measured requests")
    parser.add_argument("--records", type=int, default=0, help="post: N small dicts as the input")
    args = parser.parse_args()

    inprocess.fresh_database(args.db, CHAIN)
    if args.what == "post":
        profile_posts(args)
        return 0
    ex_id = run_execution()
    context.set_current(None)

    session.reads_only()
    app = forwarding.ForwardWrites(api_app.setup_app(sync_actions=False), "127.0.0.1:1")
    path = f"/v2/executions/{ex_id}"
    status, body = call(app, path)
    assert status.startswith("200"), (status, body[:300])

    statements: collections.Counter[str] = collections.Counter()

    @event.listens_for(session.get_engine(), "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, ctx, executemany):  # noqa: ANN001
        if threading.current_thread() is threading.main_thread():
            statements[statement.split(None, 1)[0].upper()] += 1

    for _ in range(200):  # warm-up: caches, connections
        call(app, path)
    memory.freeze_startup_objects(["api"])  # as the API's reader process, which runs no engine
    statements.clear()
    profiler = cProfile.Profile() if args.profile else None
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    for _ in range(args.requests):
        call(app, path)
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    n = args.requests
    print(
        f"GET {path}: {n} requests, {1e3 * cpu / n:.3f} ms CPU and {1e3 * wall / n:.3f} ms wall each, "
        f"{len(body)} bytes; SQL statements per GET: "
        + (", ".join(f"{k} {v / n:.2f}" for k, v in statements.most_common()) or "none")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
