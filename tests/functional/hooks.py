"""A local HTTP server that counts every call by its path: the side effects of std.http actions."""

from __future__ import annotations

import collections
import http.server
import threading
from typing import Any


class Hooks:
    def __init__(self) -> None:
        self.hits: collections.Counter[str] = collections.Counter()
        #: the Mistral-* headers of each call, by path
        self.headers: dict[str, list[dict[str, str]]] = collections.defaultdict(list)
        self._lock = threading.Lock()
        hooks = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server protocol
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                with hooks._lock:
                    hooks.hits[self.path] += 1
                    hooks.headers[self.path].append(
                        {k: v for k, v in self.headers.items() if k.lower().startswith("mistral-")}
                    )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args: Any) -> None:
                return None

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def count(self, path: str) -> int:
        with self._lock:
            return self.hits[path]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
