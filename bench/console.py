"""The console (``/ui/``) on big executions, in Debian's headless Chromium (bench/chromium.py).

    .venv/bin/python bench/console.py --deploy embedded
    .venv/bin/python bench/console.py --url http://127.0.0.1:8989 --json console.json

Three figures, for the "done when" of issue 12:

``graph_1000``
    From navigation (the browser's own clock, ``performance.now()``) to the graph of a finished
    ``fanout_1000`` execution (1002 task executions) drawn with every node ``SUCCESS``; the median
    and the worst of ``--runs``. The target is under 1 s.
``live``
    A ``--items``-item with-items execution (``with_items_10000`` by default) started with its page
    open: every change of the node's ``data-progress`` is recorded in the page, with the time it
    was seen; the figure is how many distinct values the console showed, and whether it showed the
    end (``n/n`` and ``SUCCESS``).
``overhead``
    The wall time of that with-items execution with the console open and closed, alternated,
    ``--overhead-runs`` times each: the median ratio open/closed (the budget is 1.05).

It drives the server through the public REST API and the console only; nothing is imported from
``mistral``. Like bench/run.py it leaves its executions behind (a fresh ``--deploy embedded`` each run).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import time
from typing import Any

if __package__ in (None, ""):  # run as a script: the repository root on the path, as bench/run.py does
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from bench import chromium, deploy  # noqa: E402
from bench.client import Client  # noqa: E402
from bench.runner import Bench, log  # noqa: E402
from bench.workloads import workload_input, workload_specs  # noqa: E402

FANOUT = "fanout_1000"

# Resolves with performance.now() once ``n`` graph nodes are drawn and every one shows ``state``.
_GRAPH_DRAWN = """
var n = arguments[0], state = arguments[1], done = arguments[arguments.length - 1];
function drawn() {
    var nodes = document.querySelectorAll('[data-test="graph-node"]');
    if (nodes.length < n) return false;
    for (var i = 0; i < nodes.length; i++) if (nodes[i].dataset.state !== state) return false;
    return true;
}
if (drawn()) { done(performance.now()); return; }
var observer = new MutationObserver(function () {
    if (drawn()) { observer.disconnect(); done(performance.now()); }
});
observer.observe(document.documentElement,
                 {subtree: true, childList: true, attributes: true, attributeFilter: ['data-state']});
"""

# Records every progress and state the with-items node shows, with performance.now(), in the page.
_WATCH_PROGRESS = """
var seen = window.__benchProgress = [];
function look() {
    var node = document.querySelector('[data-test="graph-node"][data-progress]');
    if (!node) return;
    var last = seen[seen.length - 1], now = [node.dataset.progress, node.dataset.state];
    if (!last || last[1] !== now[0] || last[2] !== now[1]) seen.push([performance.now(), now[0], now[1]]);
}
look();
new MutationObserver(look).observe(document.documentElement,
    {subtree: true, childList: true, attributes: true, attributeFilter: ['data-progress', 'data-state']});
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--url", default="http://127.0.0.1:8989", help="a running server (default %(default)s)"
    )
    parser.add_argument("--deploy", choices=("url", "embedded"), default="url")
    parser.add_argument("--port-base", type=int, default=8990, help="the port of --deploy embedded")
    parser.add_argument("--workdir", default="/tmp/mistral-bench-console")
    parser.add_argument("--ours-venv", default=None)
    parser.add_argument("--start-timeout", type=float, default=180.0)
    parser.add_argument("--token", default=None, help="a Keystone token, when auth is on")
    parser.add_argument("--runs", type=int, default=3, help="page loads of the 1002-task graph")
    items = sorted(name for name in workload_specs() if name.startswith("with_items"))
    parser.add_argument("--items", choices=items, default="with_items_10000")
    parser.add_argument("--overhead-runs", type=int, default=3, help="0 leaves the overhead out")
    parser.add_argument("--timeout", type=float, default=300.0, help="for one execution")
    parser.add_argument("--http-timeout", type=float, default=60.0)
    parser.add_argument("--screenshots", default=None, help="a directory for a screenshot of each page")
    parser.add_argument("--json", default=None)
    # What Bench.cleanup reads: the uploaded workflows go, the executions stay (as with bench/run.py).
    parser.set_defaults(keep=False, delete_executions=False)
    return parser.parse_args(argv)


class Console:
    """The console of one server in one headless Chromium."""

    def __init__(self, url: str, token: str | None, screenshots: pathlib.Path | None) -> None:
        self.url = url
        self.token = token
        self.screenshots = screenshots
        self.browser = chromium.Chromium(log_dir=screenshots)
        self.driver = self.browser.driver
        self.driver.set_script_timeout(120)

    def open(self, ex_id: str) -> None:
        """A fresh load of the execution's page; the clock of ``performance.now()`` starts here."""
        self.driver.get("about:blank")
        if self.token:
            self.driver.get(f"{self.url}/ui/")
            self.driver.execute_script("sessionStorage.setItem('mistral-token', arguments[0]);", self.token)
            self.driver.get("about:blank")
        self.driver.get(f"{self.url}/ui/#/executions/{ex_id}")

    def follow(self, ex_id: str) -> None:
        """Start loading the execution's page without waiting for it (``open`` blocks until the page
        has loaded, which would add the load to a wall time measured around it)."""
        self.driver.execute_script("location.href = arguments[0];", f"{self.url}/ui/#/executions/{ex_id}")

    def close(self) -> None:
        self.driver.get("about:blank")

    def shot(self, name: str) -> None:
        if self.screenshots is not None:
            self.screenshots.mkdir(parents=True, exist_ok=True)
            self.driver.save_screenshot(str(self.screenshots / f"{name}.png"))

    def quit(self) -> None:
        self.browser.quit()


def run_execution(bench: Bench, workload: str, label: str) -> tuple[dict[str, Any], float | None]:
    """Start ``workload``'s execution and wait for its end; (final execution, wall seconds or None)."""
    name = bench.ensure_workflow(workload_specs()[workload]["wf"])
    started = time.perf_counter()
    ex = bench.start(name, workload_input(workload), f"bench console {label} {bench.run_id}")
    final, seen = bench.wait(ex, started + bench.args.timeout)
    return final, (seen - started if seen is not None else None)


def graph_1000(bench: Bench, console: Console, runs: int) -> dict[str, Any]:
    final, wall = run_execution(bench, FANOUT, "graph")
    if final.get("state") != "SUCCESS":
        return {"state": final.get("state"), "state_info": final.get("state_info")}
    tasks = workload_specs()[FANOUT]["tasks"]
    times = []
    for i in range(runs):
        console.open(final["id"])
        times.append(console.driver.execute_async_script(_GRAPH_DRAWN, tasks, "SUCCESS") / 1000)
        log(f"graph_1000 #{i + 1}: {times[-1]:.3f} s to draw {tasks} SUCCESS nodes")
    console.shot("bench-graph-1000")
    console.close()
    return {
        "execution_id": final["id"],
        "tasks": tasks,
        "runs_s": [round(t, 3) for t in times],
        "median_s": round(statistics.median(times), 3),
        "max_s": round(max(times), 3),
        "target_s": 1.0,
        "pass": max(times) < 1.0,
    }


def live(bench: Bench, console: Console, workload: str) -> dict[str, Any]:
    count = workload_specs()[workload]["count"]
    name = bench.ensure_workflow(workload_specs()[workload]["wf"])
    console.close()
    started = time.perf_counter()
    ex = bench.start(name, workload_input(workload), f"bench console live {bench.run_id}")
    console.open(ex["id"])
    console.driver.execute_script(_WATCH_PROGRESS)
    final, seen = bench.wait(ex, started + bench.args.timeout)
    # The console shows the end within a poll or two of the API.
    end = f"{count}/{count}"
    deadline = time.monotonic() + 10
    progress: list[list[Any]] = []
    while time.monotonic() < deadline:
        progress = console.driver.execute_script("return window.__benchProgress || [];")
        if progress and progress[-1][1] == end and progress[-1][2] == "SUCCESS":
            break
        time.sleep(0.2)
    console.shot("bench-live-with-items")
    console.close()
    values = [p[1] for p in progress]
    return {
        "execution_id": ex["id"],
        "items": count,
        "state": final.get("state"),
        "wall_s": round(seen - started, 3) if seen is not None else None,
        "progress_changes": len(set(values)),
        "progress_seen": values,
        "end_shown": bool(progress) and progress[-1][1] == end and progress[-1][2] == "SUCCESS",
    }


def overhead(bench: Bench, console: Console, workload: str, runs: int) -> dict[str, Any]:
    """Wall time of ``workload`` with the console closed and open, alternated so drift hits both."""
    walls: dict[str, list[float]] = {"closed": [], "open": []}
    for i in range(runs):
        for mode in ("closed", "open"):
            name = bench.ensure_workflow(workload_specs()[workload]["wf"])
            wf_input = workload_input(workload)
            console.close()
            started = time.perf_counter()
            ex = bench.start(name, wf_input, f"bench console {mode} {bench.run_id}")
            if mode == "open":
                console.follow(ex["id"])
            final, seen = bench.wait(ex, started + bench.args.timeout)
            if mode == "open":
                # The console goes on polling until it shows the end, as it would for a user.
                console.driver.execute_async_script(_GRAPH_DRAWN, 1, "SUCCESS")
            console.close()
            if seen is None or final.get("state") != "SUCCESS":
                return {"state": final.get("state"), "mode": mode, "run": i + 1}
            walls[mode].append(seen - started)
            log(f"overhead #{i + 1} console {mode}: {walls[mode][-1]:.3f} s")
    closed, opened = statistics.median(walls["closed"]), statistics.median(walls["open"])
    return {
        "closed_s": [round(w, 3) for w in walls["closed"]],
        "open_s": [round(w, 3) for w in walls["open"]],
        "ratio": round(opened / closed, 3),
        "budget": 1.05,
        "pass": opened / closed <= 1.05,
    }


def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    bench = Bench(Client(url, args.http_timeout, args.token), args)
    bench.warm_up()
    console = Console(url, args.token, pathlib.Path(args.screenshots) if args.screenshots else None)
    try:
        results: dict[str, Any] = {"graph_1000": graph_1000(bench, console, args.runs)}
        results["live"] = live(bench, console, args.items)
        if args.overhead_runs:
            results["overhead"] = overhead(bench, console, args.items, args.overhead_runs)
    finally:
        console.quit()
        bench.cleanup()
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    problem = chromium.missing()
    if problem:
        raise SystemExit(problem)
    deployment = None
    url = args.url
    if args.deploy == "embedded":
        ours_bin = deploy.find_ours_bin(args.ours_venv)
        if ours_bin is None:
            raise SystemExit(
                "cannot find our mistral-server: run with the project's venv or pass --ours-venv"
            )
        settings = deploy.Settings(
            kind="embedded",
            port=args.port_base,
            workdir=pathlib.Path(args.workdir) / "embedded",
            ours_bin=ours_bin,
            start_timeout=args.start_timeout,
        )
        deployment = deploy.Deployment(settings, log)
        deployment.start()
        url = deployment.url
    try:
        results = measure(url, args)
    finally:
        if deployment is not None:
            deployment.stop()
    print(json.dumps(results, indent=2))
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    ok = results["graph_1000"].get("pass") and results["live"].get("end_shown")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
