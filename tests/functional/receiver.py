"""A local webhook receiver: records every event it is sent, can answer 500 or be down for a while."""

from __future__ import annotations

import http.server
import json
import threading
import time
from typing import Any


class Receiver:
    """Bodies and headers of the POSTs it took, in arrival order; ``status`` is what it answers.

    ``hold_at = n`` makes the n-th POST wait (``held`` is set) until ``release`` is set:
    a sender caught in the middle of a delivery.
    """

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.refused = 0
        self.status = 200
        self.calls = 0
        self.hold_at: int | None = None
        self.held = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._httpd: http.server.ThreadingHTTPServer | None = None
        self.port = 0
        self.start()
        self.url = f"http://127.0.0.1:{self.port}/hook"

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server protocol
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.calls += 1
                    hold = receiver.calls == receiver.hold_at
                if hold:
                    receiver.held.set()
                    receiver.release.wait(60)
                with receiver._lock:
                    status = receiver.status
                    if status == 200:
                        receiver.events.append(json.loads(body))
                        receiver.headers.append(dict(self.headers.items()))
                    else:
                        receiver.refused += 1
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender is gone (killed while it waited)

            def log_message(self, *args: Any) -> None:
                return None

        return Handler

    def start(self) -> None:
        """Listen (again, on the same port once it had one)."""
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Down: connections are refused until ``start()``."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def names(self) -> list[tuple[str, str]]:
        with self._lock:
            return [(e["event"], e["name"]) for e in self.events]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.events) >= count:
                    return list(self.events)
            time.sleep(0.05)
        raise AssertionError(f"{len(self.events)} of {count} events arrived in {timeout} s: {self.names()}")
