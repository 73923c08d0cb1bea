"""The built-in HTTP server for the API (cheroot, a pure-Python threaded WSGI server)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from cheroot import wsgi

from mistral import config

LOG = logging.getLogger(__name__)

#: Where an API without authentication listens unless [api] host says otherwise.
LOCAL_ONLY = "127.0.0.1"
#: Where an API with authentication listens unless [api] host says otherwise.
EVERYWHERE = "0.0.0.0"
#: Idle kept-alive connections the server holds open between a client's requests.
KEEP_ALIVE_CONNECTIONS = 256
#: Fewest threads of an API whose process runs no engine: its writes wait on another process
#: (an engine over RPC, or the engine's process the reader forwards to) without using the CPU.
WAITING_THREADS = 16


def threads_for(names: Sequence[str]) -> int:
    """Threads of the API of a process running the services ``names``.

    NOTE: without an engine in its process, a write waits for an engine's answer over RPC
    without using the CPU: with [api] api_workers (4) threads, 20 external workers' results
    waiting on their commit held every thread, and the workers' claims queued behind them
    (worker_queue_10000, issue 13). So such an API (the reader process included) has at least
    WAITING_THREADS. With the engine in its process, threads share its interpreter, and
    [api] api_workers is kept.
    """
    workers = config.CONF.api.api_workers
    return workers if "engine" in names else max(workers, WAITING_THREADS)


def listen_host() -> str:
    """The address to listen on: [api] host, else one that depends on whether auth is on."""
    conf = config.CONF
    if conf.api.host:
        if not conf.pecan.auth_enable:
            LOG.warning(
                "Authentication is off ([pecan] auth_enable = false) and the API listens on %s as "
                "[api] host says: anyone who reaches this port can run workflows as any user",
                conf.api.host,
            )
        return conf.api.host
    if conf.pecan.auth_enable:
        return EVERYWHERE
    LOG.warning(
        "Authentication is off ([pecan] auth_enable = false), so the API listens on %s only. "
        "To serve other hosts, turn authentication on or set [api] host (e.g. host = 0.0.0.0)",
        LOCAL_ONLY,
    )
    return LOCAL_ONLY


def make_server(
    app: Callable[..., Any], host: str | None = None, port: int | None = None, threads: int | None = None
) -> wsgi.Server:
    """A server of ``app`` on [api] host and port with ``threads`` workers (default [api] api_workers)."""
    conf = config.CONF.api
    server = wsgi.Server(
        (host or listen_host(), conf.port if port is None else port),
        app,
        numthreads=threads or conf.api_workers,
        server_name="mistral-api",
        # NOTE: cheroot's default listen backlog of 5 refuses connections when many
        # clients start at once; the kernel queue is cheap, so keep a deep one.
        request_queue_size=256,
    )
    # NOTE: cheroot keeps 10 idle connections by default and answers the 11th client with
    # "Connection: close": 50 clients polling an execution then open a connection per request,
    # which costs the server an accept and a handshake each time. A file descriptor is cheap.
    server.keep_alive_conn_limit = KEEP_ALIVE_CONNECTIONS
    return server
