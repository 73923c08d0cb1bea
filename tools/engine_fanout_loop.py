"""The engine's own CPU per fan-out run, in one thread: bench's fanout_N with this thread as the executor.

    python tools/engine_fanout_loop.py --width 1000 --runs 3 [--profile out.pstats] [--db /tmp/x.sqlite]

As tools/engine_hop_loop.py does for the chain: every action sent is taken and its result
applied here (the takes of a wave in one call, the results in messages of the executor's
batch size), so thread CPU time and a plain cProfile see the engine's work alone, and the
figure moves little on a busy machine. ``valgrind --tool=callgrind`` over two run counts
gives the instructions of one run, whatever the machine's load.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

import inprocess  # noqa: E402

from mistral import context  # noqa: E402
from mistral.db import api as db_api  # noqa: E402
from mistral.engine import engine as engine_module  # noqa: E402
from mistral.executor.batcher import MAX_BATCH  # noqa: E402
from mistral.utils import memory  # noqa: E402


def fanout_yaml(width: int) -> str:
    """bench's fanout_N: ``start`` goes on to t1..tN, each of which goes on to ``join_all`` (join: all)."""
    names = [f"t{i}" for i in range(1, width + 1)]
    lines = [
        "version: '2.0'",
        "fanout:",
        "  tasks:",
        "    start:",
        "      action: std.noop",
        "      on-success:",
    ]
    lines += [f"        - {name}" for name in names]
    for name in names:
        lines += [f"    {name}:", "      action: std.noop", "      on-success:", "        - join_all"]
    lines += ["    join_all:", "      join: all", "      action: std.noop"]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", default="/tmp/perf-hop/fanout.sqlite")
    parser.add_argument("--profile", help="write cProfile stats of the measured runs")
    args = parser.parse_args()
    inprocess.fresh_database(args.db, fanout_yaml(args.width))

    sent = inprocess.capture_sends()
    engine = engine_module.get()
    context.set_current(context.Context())

    def one_run() -> None:
        ex_id = engine.start_workflow("fanout")["id"]
        while sent:
            wave = list(sent)
            sent.clear()
            engine.take_actions([engine_module.Take("loop", r.action_ex_id, "r") for r in wave])
            for i in range(0, len(wave), MAX_BATCH):
                engine.on_action_results(
                    [
                        {"action_ex_id": r.action_ex_id, "data": None, "executor": "loop"}
                        for r in wave[i : i + MAX_BATCH]
                    ]
                )
        with db_api.transaction(read_only=True):
            wf_ex = db_api.get_workflow_execution(ex_id)
        assert wf_ex.state == "SUCCESS", (wf_ex.state, wf_ex.state_info)

    one_run()  # warm-up: caches, connections
    memory.freeze_startup_objects(["engine"])
    profile = cProfile.Profile() if args.profile else None
    cpu, wall = time.thread_time(), time.perf_counter()
    if profile:
        profile.enable()
    for _ in range(args.runs):
        one_run()
    if profile:
        profile.disable()
        profile.dump_stats(args.profile)
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    print(
        f"fan-out of {args.width}, {args.runs} runs: engine CPU per run {1000 * cpu / args.runs:.1f} ms, "
        f"wall {1000 * wall / args.runs:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
