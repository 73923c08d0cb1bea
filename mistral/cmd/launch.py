"""``mistral-server``: run the API and the other services, all in one process by default."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

from oslo_config import cfg

from mistral import config
from mistral.api import app as api_app
from mistral.api import server as api_server
from mistral.db import schema

LOG = logging.getLogger("mistral.server")

SERVERS = ("all", "api", "engine", "executor", "event-engine", "notifier")
AVAILABLE = ("api",)

cli_opts = [
    cfg.ListOpt(
        "server",
        default=["all"],
        help=f"Comma-separated services to run in this process: {', '.join(SERVERS)}.",
    ),
]


def _services(requested: Sequence[str]) -> list[str]:
    unknown = [s for s in requested if s not in SERVERS]
    if unknown:
        raise SystemExit(
            f"mistral-server: unknown server {', '.join(unknown)}; choose from {', '.join(SERVERS)}"
        )
    wanted = list(AVAILABLE) if "all" in requested else list(requested)
    missing = [s for s in wanted if s not in AVAILABLE]
    if missing:
        raise SystemExit(f"mistral-server: {', '.join(missing)} is not part of this release yet")
    return wanted


def main(argv: Sequence[str] | None = None) -> None:
    config.CONF.register_cli_opts(cli_opts)
    config.parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    services = _services(config.CONF.server)
    schema.ensure_current()
    server = api_server.make_server(api_app.setup_app())

    def _stop(signum: int, _frame: Any) -> None:
        LOG.info("Signal %s: stopping", signum)
        server.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    host, port = server.bind_addr[:2]
    LOG.info(
        "Serving %s; API on http://%s:%s/v2 (database %s)",
        ", ".join(services),
        host,
        port,
        schema.describe_url(),
    )
    server.prepare()
    LOG.info("API listening on http://%s:%s/v2", host, server.bind_addr[1])
    server.serve()


if __name__ == "__main__":
    main()
