"""The built-in HTTP server for the API (cheroot, a pure-Python threaded WSGI server)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from cheroot import wsgi

from mistral import config

LOG = logging.getLogger(__name__)


def make_server(app: Callable[..., Any], host: str | None = None, port: int | None = None) -> wsgi.Server:
    conf = config.CONF.api
    server = wsgi.Server(
        (host or conf.host, conf.port if port is None else port),
        app,
        numthreads=conf.api_workers,
        server_name="mistral-api",
        # NOTE: cheroot's default listen backlog of 5 refuses connections when many
        # clients start at once; the kernel queue is cheap, so keep a deep one.
        request_queue_size=256,
    )
    return server
