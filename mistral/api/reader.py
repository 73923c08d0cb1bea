"""The API's reader process: it listens on [api] port, answers reads itself and forwards the rest.

Started by ``mistral.api.reader_process`` in the engine's process (``mistral-server --server
all``). NOTE: it ends when its parent ends, however that one ends: the parent holds the
write end of this process's stdin and never writes, so end-of-file means the parent is gone.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any, NoReturn

from mistral import config, launcher
from mistral.api import app as api_app
from mistral.api import forwarding, middleware
from mistral.api import server as api_server
from mistral.db import session
from mistral.rpc import bridge
from mistral.utils import memory

LOG = logging.getLogger(__name__)


def serve(backend: str, ready_fd: int | None, bridge_fd: int | None = None) -> NoReturn:
    """Serve until SIGTERM or the parent's end; tell the parent "<host> <port>" on ``ready_fd``.

    ``bridge_fd``: this process's end of the bridge to the engine's process (``mistral.rpc.bridge``).
    """
    session.reads_only()
    memory.limit_malloc_arenas()
    if bridge_fd is not None:
        bridge.install_client(socket.socket(fileno=bridge_fd), on_close=_bridge_closed)
    app: Callable[..., Any] = forwarding.ForwardWrites(
        api_app.setup_app(sync_actions=False), backend, bridged=bridge_fd is not None
    )
    app = middleware.BodySizeLimit(app, config.CONF.api.max_request_body_kb * 1024)
    # NOTE: a thread that forwards a request waits for the engine's process without using the CPU;
    # with only [api] api_workers (4) threads, 50 clients starting executions at once held every one
    # of them, and the reads (their own polls) queued behind: no engine here, so the waiting floor.
    httpd = api_server.make_server(app, threads=api_server.threads_for(()))
    httpd.shutdown_timeout = launcher.API_DRAIN
    httpd.prepare()
    host, port = httpd.bind_addr[:2]
    memory.freeze_startup_objects()
    memory.start_trimming(release=session.close_idle_connections)
    stop_signal = launcher.StopSignal()
    stop_signal.install()
    # NOTE: Ctrl-C reaches the whole process group; the parent stops this process in its turn.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_end_with_parent, name="parent-watch", daemon=True).start()
    threading.Thread(target=httpd.serve, name="api", daemon=True).start()
    LOG.info(
        "API reader process %d listening on http://%s:%s/v2 (other requests go to %s)",
        os.getpid(),
        host,
        port,
        backend,
    )
    if ready_fd is not None:
        os.write(ready_fd, f"{host} {port}\n".encode())
        os.close(ready_fd)
    stop_signal.wait()
    stopper = threading.Thread(target=httpd.stop, name="api-stop", daemon=True)
    stopper.start()
    stopper.join(launcher.API_DRAIN + launcher.MIN_WAIT)
    launcher.end_process(0)


def _bridge_closed() -> None:
    # NOTE: starts would fail from now on; the engine's process starts another reader, with a new bridge.
    LOG.error("API reader process %d: the bridge to the engine's process is closed, exiting", os.getpid())
    launcher.end_process(1)


def _end_with_parent() -> None:
    while sys.stdin.buffer.read(4096):
        pass
    LOG.warning("API reader process %d: the engine's process is gone, exiting", os.getpid())
    launcher.end_process(1)
