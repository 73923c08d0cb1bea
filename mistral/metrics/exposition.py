"""Answering a Prometheus scrape: a WSGI application for the API, a port of its own for a daemon."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from prometheus_client import REGISTRY, make_wsgi_app, start_http_server

LOG = logging.getLogger(__name__)

#: ``GET /metrics`` in whatever format the scraper asks for (text or OpenMetrics, gzip on request).
app: Callable[..., Any] = make_wsgi_app(REGISTRY)


class Port:
    """This process's series on ``host:port`` (prometheus_client's own HTTP server, in a thread)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        """Listen; False (logged) when the port cannot be had: a service does not stop for its metrics."""
        try:
            self._server, self._thread = start_http_server(self.port, addr=self.host)
        except OSError as error:
            LOG.error("Metrics not served on %s:%s: %s", self.host, self.port, error)
            return False
        self.port = self._server.server_port
        LOG.info("Metrics served on http://%s:%s/metrics", self.host, self.port)
        return True

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
