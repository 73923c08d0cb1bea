"""``mistral-server``: run the API and the other services, all in one process by default."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from typing import Any

from oslo_config import cfg

from mistral import config, launcher
from mistral.db import schema
from mistral.utils import memory

LOG = logging.getLogger("mistral.server")

cli_opts = [
    cfg.ListOpt(
        "server",
        default=["all"],
        help=f"Comma-separated services to run in this process: {', '.join(launcher.SERVERS)}.",
    ),
]


def main(argv: Sequence[str] | None = None) -> None:
    warnings.filterwarnings("ignore", module="oslo_service")
    config.CONF.register_cli_opts(cli_opts)
    config.parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        names = launcher.resolve(config.CONF.server)
    except ValueError as error:
        raise SystemExit(f"mistral-server: {error}") from error
    schema.ensure_current()
    services = launcher.Services(names)
    services.start()
    stopped = threading.Event()
    httpd = _api_server() if "api" in names else None
    memory.freeze_startup_objects()

    def _stop(signum: int, _frame: Any) -> None:
        LOG.info("Signal %s: stopping", signum)
        stopped.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    LOG.info("Running %s (database %s)", ", ".join(names), schema.describe_url())
    try:
        if httpd is not None:
            httpd.prepare()
            LOG.info("API listening on http://%s:%s/v2", *httpd.bind_addr[:2])
            _serve_until(httpd, stopped)
        else:
            stopped.wait()
    finally:
        services.stop()
        LOG.info("Stopped")


def _api_server() -> Any:
    from mistral.api import app as api_app
    from mistral.api import server as api_server

    return api_server.make_server(api_app.setup_app())


def _serve_until(httpd: Any, stopped: threading.Event) -> None:
    thread = threading.Thread(target=httpd.serve, name="api", daemon=True)
    thread.start()
    stopped.wait()
    httpd.stop()
    thread.join(timeout=10)


if __name__ == "__main__":
    main()
