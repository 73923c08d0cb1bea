"""The command line: options, which deployments run and in which order, the comparison, the JSON file."""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from typing import Any

from bench import deploy, targets
from bench.client import Client
from bench.report import compare_table
from bench.runner import STOP, Bench, log
from bench.session import run_deployment
from bench.workflows import WF_BUILDERS
from bench.workloads import WORKLOADS


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
    p.add_argument(
        "--apis",
        type=int,
        default=1,
        help="api processes of our distributed deployment, on ports --port-base, +10, +20 ... "
        "(worker_queue_10000 spreads its workers over them)",
    )
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
        "--runs",
        type=int,
        default=1,
        help="run the workloads this many times over on the same deployment; the summary shows each "
        "workload's median run by wall time (a failed run instead) and every run's wall time (default 1)",
    )
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
        "--scrape-metrics",
        action="store_true",
        help="read GET /metrics before and after each workload and print what moved (executions, "
        "tasks, actions, results applied, mean apply latency, timers, db retries, RPC timeouts)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="only validate the workflow documents with POST /v2/workflows/validate",
    )
    p.add_argument("--dump-dir", metavar="DIR", help="also write the generated YAML documents here")
    args = p.parse_args(argv)
    if args.timeout <= 0 or args.http_timeout <= 0 or args.history < 0 or args.history_threads < 1:
        p.error("timeouts must be > 0, --history >= 0, --history-threads >= 1")
    if not 1 <= args.runs <= 20:
        p.error("--runs must be in 1..20")
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
