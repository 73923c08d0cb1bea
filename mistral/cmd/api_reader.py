"""The API's reader process, started by ``mistral-server`` with its own arguments (see mistral.api.reader)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from mistral import config
from mistral.api import reader, reader_process
from mistral.cmd import server_opts
from mistral.rpc import bridge


def main(argv: Sequence[str] | None = None) -> None:
    config.CONF.register_cli_opts(server_opts.cli_opts)
    config.parse_args(sys.argv[1:] if argv is None else argv)
    config.setup_logging()
    ready_fd = os.environ.get(reader_process.READY_FD_ENV)
    bridge_fd = os.environ.get(bridge.FD_ENV)
    reader.serve(
        os.environ[reader_process.BACKEND_ENV],
        int(ready_fd) if ready_fd else None,
        int(bridge_fd) if bridge_fd else None,
    )


if __name__ == "__main__":
    main()
