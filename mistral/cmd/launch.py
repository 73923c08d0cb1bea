"""``mistral-server``: run the API and the other services, all in one process by default."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from mistral import config, launcher
from mistral.cmd.server_opts import cli_opts
from mistral.db import schema, session
from mistral.utils import memory

LOG = logging.getLogger("mistral.server")


def main(argv: Sequence[str] | None = None) -> None:
    config.CONF.register_cli_opts(cli_opts)
    argv = sys.argv[1:] if argv is None else list(argv)
    config.parse_args(argv)
    config.setup_logging()
    try:
        names = launcher.resolve(config.CONF.server)
    except ValueError as error:
        raise SystemExit(f"mistral-server: {error}") from error
    schema.ensure_current()
    memory.limit_malloc_arenas()
    stop_signal = launcher.StopSignal()
    stop_signal.install()
    services = launcher.Services(names, argv)
    try:
        services.start()
        memory.freeze_startup_objects(names)
        memory.start_trimming(release=session.close_idle_connections)
        LOG.info("Running %s (database %s)", ", ".join(names), schema.describe_url())
        stop_signal.wait()
    finally:
        services.stop()
    LOG.info("Stopped")
    launcher.end_process(0)


if __name__ == "__main__":
    main()
