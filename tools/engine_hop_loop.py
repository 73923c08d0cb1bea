"""The engine's own CPU per chain hop, in one thread: no executor, no transport, no other thread.

    python tools/engine_hop_loop.py --tasks 200 --runs 3 [--profile out.pstats] [--db /tmp/x.sqlite]
    python tools/engine_hop_loop.py --db postgresql+psycopg2://postgres@127.0.0.1/hoploop  # an empty database

Starts bench's chain (tools/hop_profile.py) and plays the executor itself: each action sent is
taken (``Engine.take_actions``) and its result applied (``Engine.on_action_results``) in this
thread, so thread CPU time and a plain cProfile see the engine's work alone, and the figures
move little on a busy machine. SQL statements are counted with a cursor event (SQLite's BEGIN
goes to the driver directly and is not counted).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import os
import sys
import time
from typing import Any

from sqlalchemy import event

sys.path.insert(0, os.path.dirname(__file__))

import hop_profile  # noqa: E402
import inprocess  # noqa: E402

from mistral import context  # noqa: E402
from mistral.db import api as db_api  # noqa: E402
from mistral.db import pg_round_trips, session  # noqa: E402
from mistral.engine import engine as engine_module  # noqa: E402
from mistral.utils import memory  # noqa: E402


def _count_round_trips() -> list[None]:
    """A list that grows by one at each message sent to PostgreSQL (``pg_round_trips``); never on SQLite."""
    sent: list[None] = []
    real = pg_round_trips._send

    def send(*args: Any) -> None:
        sent.append(None)
        real(*args)

    pg_round_trips._send = send
    return sent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", default="/tmp/perf-hop/loop.sqlite")
    parser.add_argument("--profile", help="write cProfile stats of the measured runs")
    args = parser.parse_args()
    inprocess.fresh_database(args.db, hop_profile.chain_yaml(args.tasks))

    sent = inprocess.capture_sends()
    statements: collections.Counter[str] = collections.Counter()

    @event.listens_for(session.get_engine(), "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, ctx, executemany):  # noqa: ANN001, ANN202
        statements[statement.split(None, 1)[0].upper()] += 1

    messages = _count_round_trips()

    engine = engine_module.get()
    context.set_current(context.Context())

    def one_run() -> int:
        ex_id = engine.start_workflow("chain")["id"]
        hops = 0
        while sent:
            request = sent.popleft()
            engine.take_actions([engine_module.Take("loop", request.action_ex_id, "r")])
            result = {
                "action_ex_id": request.action_ex_id,
                "data": request.input.get("output"),
                "executor": "loop",
            }
            engine.on_action_results([result])
            hops += 1
        with db_api.transaction(read_only=True):
            wf_ex = db_api.get_workflow_execution(ex_id)
        assert wf_ex.state == "SUCCESS" and wf_ex.output == {"v": args.tasks}, (wf_ex.state, wf_ex.state_info)
        return hops

    one_run()  # warm-up: caches, connections
    memory.freeze_startup_objects(["engine"])
    statements.clear()
    messages.clear()
    profile = cProfile.Profile() if args.profile else None
    cpu, wall = time.thread_time(), time.perf_counter()
    if profile:
        profile.enable()
    hops = sum(one_run() for _ in range(args.runs))
    if profile:
        profile.disable()
        profile.dump_stats(args.profile)
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    print(
        f"{hops} hops: engine CPU per hop {1000 * cpu / hops:.3f} ms, wall {1000 * wall / hops:.3f} ms; "
        f"SQL statements per hop {sum(statements.values()) / hops:.2f} "
        + ", ".join(f"{k} {v / hops:.2f}" for k, v in statements.most_common())
        + (f"; PostgreSQL round trips per hop {len(messages) / hops:.2f}" if messages else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
