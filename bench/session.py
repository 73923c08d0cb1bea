"""One deployment's session: start it (unless ``--deploy url``), run the workloads, print its tables.

``run_deployment`` returns what ``--json`` records for it: meta, results and process samples.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import pathlib
import platform
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import requests

from bench import (
    api_latency,
    concurrency,
    deploy,
    history,
    lock_waits,
    machine_speed,
    polling_load,
    procstats,
    repeats,
    scrape,
    single,
    targets,
    worker_queue,
)
from bench.client import ApiError, Client
from bench.report import process_matrix, summary_table, workload_line
from bench.runner import STOP, Bench, Interrupted, log
from bench.workloads import DEPLOY_SKIPS, WORKLOAD_WFS, workload_specs

REF_HTTP_TIMEOUT_S = 300.0


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
        apis=1 if reference else getattr(args, "apis", 1),
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


def deployment_label(kind: str, args: argparse.Namespace) -> str:
    if kind in ("distributed", "reference-distributed"):
        return f"{kind} (1 api, {args.engines} engine(s), {args.executors} executors)"
    return kind


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
    if dep is not None:
        bench.api_urls = dep.urls
        bench.engine_metrics = dep.engine_metrics_urls

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
    if not args.dry_run:
        meta["machine"]["python_loop_s"] = {"before": machine_speed.python_loop_s()}
    skips = skipped_workloads(kind, args)
    rows: list[tuple[str, list[dict]]] = []
    passes: list[repeats.Results] = []
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
            for i in range(args.runs):
                if STOP.is_set():
                    break
                if args.runs > 1:
                    log(f"pass {i + 1} of {args.runs}")
                # NOTE: kept before it runs, so that what a pass cut short (Ctrl-C, a failure) did counts.
                bench.results = {}
                passes.append(bench.results)
                run_workloads(bench, workloads, skips, sampler, rows, lock_sampler(settings), pass_label(i))
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
        loop = meta["machine"].get("python_loop_s")
        if loop is not None and not STOP.is_set():
            loop["after"] = machine_speed.python_loop_s()
    results = repeats.combine(passes) if passes else bench.results
    targets.evaluate(results, kind)
    print(f"\n=== {meta['label']}: {client.base} ({outcome})")
    print(summary_table(results))
    if loop is not None:
        print(machine_speed.summary(loop["before"], loop.get("after")))
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
    doc = {"meta": meta, "results": results, "processes": dict(rows)}
    if len(passes) > 1:
        doc["passes"] = passes
    return doc


def pass_label(index: int) -> str:
    """What tells the passes of ``--runs`` apart in the process table: nothing for the first."""
    return f" #{index + 1}" if index else ""


def lock_sampler(settings: deploy.Settings | None) -> Callable[[], lock_waits.Sampler] | None:
    """What samples the lock waits of a deployment on PostgreSQL (None on SQLite or at a URL)."""
    if settings is None or settings.kind == "embedded":
        return None
    return lambda: lock_waits.Sampler(settings.pg_admin_url, settings.label)


def run_workloads(
    bench: Bench,
    workloads: list[str],
    skips: dict[str, str],
    sampler: Callable[[], list[dict]],
    rows: list[tuple[str, list[dict]]],
    locks: Callable[[], lock_waits.Sampler] | None = None,
    label: str = "",
) -> None:
    """Each workload in turn; a failed one is reported and the next one runs.

    ``locks``: a new sampler of the database's lock waits, run over each workload.
    ``label``: added to each workload's name in the process table (which pass of ``--runs``).
    """
    log(f"bench run {bench.run_id} against {bench.c.base}: {', '.join(workloads)}")
    for name in workloads:
        if STOP.is_set():
            break
        if name in skips:
            res: dict[str, Any] = {"state": "SKIPPED", "reason": skips[name]}
        else:
            log(f"running {name} ...")
            metrics_before = _scrape(bench)
            lock_probe = locks() if locks is not None else None
            if lock_probe is not None:
                lock_probe.start()
            try:
                res = run_workload(bench, name)
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
            finally:
                waits = lock_probe.stop() if lock_probe is not None else None
            if waits is not None:
                res["pg_lock_waits"] = waits.as_dict()
            moved = scrape.deltas(metrics_before, _scrape(bench))
            if moved is not None:
                res["metrics"] = moved
            samples = sampler()
            if samples:
                res["processes"] = samples
                res["peak_rss_mb"] = procstats.peak_rss_mb(samples)
                rows.append((name + label, samples))
        bench.results[name] = res
        print(workload_line(name, res), flush=True)
        if res.get("pg_lock_waits"):
            print(lock_waits.line(lock_waits.LockWaits(**res["pg_lock_waits"])), flush=True)
        if res.get("metrics"):
            print(scrape.line(res["metrics"]), flush=True)


def _scrape(bench: Bench) -> dict[str, float] | None:
    """The server's series now, with --scrape-metrics (None without it, or without /metrics)."""
    if not getattr(bench.args, "scrape_metrics", False):
        return None
    return scrape.scrape(bench.c.base, bench.c.headers, bench.c.http_timeout)


def run_workload(bench: Bench, name: str) -> dict[str, Any]:
    if name in workload_specs():
        return single.measure(bench, name)
    if name == "concurrent_50":
        return concurrency.measure(bench)
    if name == "api_latency":
        return api_latency.measure(bench)
    if name == "fanout_1000_after_history":
        return history.measure(bench)
    if name == "polling_load":
        return polling_load.measure(bench)
    if name == "worker_queue_10000":
        return worker_queue.measure(bench)
    raise ValueError(name)
