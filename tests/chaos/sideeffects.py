"""The side-effect server: counts every call by its key, so a trial can tell lost from duplicated work.

It runs in the harness process on 127.0.0.1, one thread per request:

- ``POST /hit/<key>``: counted; 200 ``{"key": key, "n": n}`` (``n``: this call's number).
- ``POST /flaky/<key>``: counted; 500 for the first ``FLAKY_FAILURES`` calls of a key, then 200.
- ``POST /async/<key>``: counted; the ``Mistral-Action-Execution-Id`` header std.mistral_http
  sends is handed to ``on_async(key, action_ex_id)``, which completes it later through the API.
- ``GET /counts``: every key and its count, as JSON.

A call is counted when it arrives and answered a random 0 to 2 x ``delay`` seconds later: the
side effect is done at once, the action only ends after a while, so a kill can land while it
runs; and some calls end before the executor's first heartbeat, some after.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: Calls of a ``/flaky/`` key answered 500 before it succeeds.
FLAKY_FAILURES = 2


@dataclass
class Hit:
    at: float  # time.monotonic()
    action_ex_id: str | None = None


@dataclass
class Ledger:
    """Every hit of every key, with its time; safe to use from many threads."""

    hits: dict[str, list[Hit]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, key: str, action_ex_id: str | None = None) -> int:
        with self.lock:
            self.hits.setdefault(key, []).append(Hit(time.monotonic(), action_ex_id))
            return len(self.hits[key])

    def count(self, key: str) -> int:
        with self.lock:
            return len(self.hits.get(key, ()))

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {key: len(hits) for key, hits in self.hits.items()}

    def times(self, key: str) -> list[float]:
        with self.lock:
            return [hit.at for hit in self.hits.get(key, ())]


class SideEffectServer:
    def __init__(self, on_async: Callable[[str, str], None] | None = None, delay: float = 0.0) -> None:
        self.ledger = Ledger()
        self.delay = delay
        self.on_async = on_async
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="side-effects", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._httpd.shutdown()
        self._httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                pass

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                try:
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the caller died (a killed executor): the call still counts

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path == "/counts":
                    self._answer(200, server.ledger.counts())
                else:
                    self._answer(404, {"error": self.path})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                kind, _, key = self.path.lstrip("/").partition("/")
                if not key or kind not in ("hit", "flaky", "async"):
                    self._answer(404, {"error": self.path})
                    return
                action_ex_id = self.headers.get("Mistral-Action-Execution-Id")
                n = server.ledger.record(key, action_ex_id)
                time.sleep(random.uniform(0, 2 * server.delay))  # noqa: S311 - not for secrets
                if kind == "flaky" and n <= FLAKY_FAILURES:
                    self._answer(500, {"key": key, "n": n, "error": "flaky, try again"})
                    return
                # NOTE: the hook has the callback details once it was called: it completes the
                # action even when the caller (a killed executor) is no longer there for the answer.
                if kind == "async" and action_ex_id and server.on_async is not None:
                    server.on_async(key, action_ex_id)
                self._answer(200, {"key": key, "n": n})

        return Handler
