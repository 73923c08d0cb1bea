"""Gates that tasks wait at: a local HTTP server whose ``GET /<name>`` answers only once the test opens
``name``. A task ``std.http url=<gate>`` stays RUNNING exactly as long as the test needs to look at
it, however slow the machine, instead of sleeping for a guessed time.
"""

from __future__ import annotations

import collections
import http.server
import threading
from typing import Any

#: How long a request waits at a closed gate; std.http gives up after 60 s by default.
HOLD_SECONDS = 50.0


class Gates:
    def __init__(self) -> None:
        self._gates: collections.defaultdict[str, threading.Event] = collections.defaultdict(threading.Event)
        self._lock = threading.Lock()
        gates = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server protocol
                gates.event(self.path.strip("/")).wait(HOLD_SECONDS)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"passed": true}')

            def log_message(self, *args: Any) -> None:
                return None

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def event(self, name: str) -> threading.Event:
        with self._lock:
            return self._gates[name]

    def url_of(self, name: str) -> str:
        return f"{self.url}/{name}"

    def open(self, name: str) -> None:
        self.event(name).set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Open every gate (nothing stays waiting), then stop serving."""
        with self._lock:
            for event in self._gates.values():
                event.set()
        self._httpd.shutdown()
        self._httpd.server_close()
