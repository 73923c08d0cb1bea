"""``python -m tests.chaos --trials 50 --seed N [--keep-going]``: crash trials against real processes."""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time

from tests.chaos.harness import Harness, Settings
from tests.integration import cluster


def parse(argv: list[str]) -> Settings:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100000)
    parser.add_argument("--per-kind", type=int, default=2, help="executions of each workflow per trial")
    parser.add_argument("--keep-going", action="store_true", help="run every trial; print a summary table")
    parser.add_argument("--stuck-after", type=float, default=60.0, help="seconds after the last restart")
    parser.add_argument("--fault-window", type=float, default=5.0, help="faults within this many seconds")
    parser.add_argument("--async-delay", type=float, default=5.0, help="seconds to an async completion")
    parser.add_argument("--action-time", type=float, default=1.0, help="seconds each call takes")
    parser.add_argument("--workdir", type=pathlib.Path, help="logs and configuration (default: new temp dir)")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("MISTRAL_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--rabbit-url", default=cluster.RABBIT_URL)
    args = parser.parse_args(argv)
    return Settings(
        trials=args.trials,
        seed=args.seed,
        per_kind=args.per_kind,
        keep_going=args.keep_going,
        stuck_after=args.stuck_after,
        fault_window=args.fault_window,
        async_delay=args.async_delay,
        action_time=args.action_time,
        workdir=args.workdir,
        admin_url=args.pg_url,
        rabbit_url=args.rabbit_url,
    )


def main(argv: list[str] | None = None) -> int:
    settings = parse(sys.argv[1:] if argv is None else argv)
    harness = Harness(settings)
    print(f"chaos: {settings.trials} trials, seed {settings.seed}", flush=True)
    problems = True
    try:
        harness.start()
        harness.run()
        problems = any(r.problems for r in harness.results)
        if settings.keep_going or problems:
            print(harness.summary(), flush=True)
        if problems:
            print(f"chaos: report in {harness.write_json()}", flush=True)
    finally:
        harness.stop(keep=problems)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
