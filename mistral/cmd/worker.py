"""``mistral-worker --queue Q --tags a,b -- COMMAND``: run COMMAND for every item claimed from a queue.

COMMAND gets the item's input as JSON on stdin and answers its result as JSON on stdout.
SIGTERM (or Ctrl-C) stops the claims; the item in hand finishes within ``--grace`` seconds
or is given back for another worker.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence
from typing import Any

from mistral.worker import Client, CommandHandler, Worker, WorkerError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mistral-worker", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--url", default=os.environ.get("MISTRAL_URL", "http://127.0.0.1:8989/v2"),
                        help="the API's v2 root (env MISTRAL_URL; default %(default)s)")  # fmt: skip
    parser.add_argument(
        "--os-auth-token",
        default=os.environ.get("OS_AUTH_TOKEN"),
        help="a Keystone token for an API with authentication on (env OS_AUTH_TOKEN)",
    )
    parser.add_argument("--queue", required=True, help="the queue to claim from")
    parser.add_argument("--tags", default="", help="comma-separated tags every claimed item must have")
    parser.add_argument("--lease", type=float, default=30.0, help="seconds of each lease (renewed meanwhile)")
    parser.add_argument("--wait", type=float, default=10.0, help="seconds each claim waits for an item")
    parser.add_argument(
        "--grace",
        type=float,
        default=30.0,
        help="seconds the item in hand has to finish after SIGTERM (else it is given back)",
    )
    parser.add_argument(
        "--name", default=f"{socket.gethostname()}:{os.getpid()}", help="how the items show who holds them"
    )
    parser.add_argument("--max-items", type=int, default=None, help="stop after this many items")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        _parser().error("a command is needed after --")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    worker = Worker(
        Client(args.url, token=args.os_auth_token),
        args.queue,
        CommandHandler(command),
        tags=[t.strip() for t in args.tags.split(",") if t.strip()],
        lease=args.lease,
        wait=args.wait,
        grace=args.grace,
        name=args.name,
        max_items=args.max_items,
    )

    def stop(_signum: int, _frame: Any) -> None:
        worker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        worker.run()
    except WorkerError as error:
        sys.exit(f"mistral-worker: {error}")
