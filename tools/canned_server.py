"""A server that answers bench's concurrent_50 with canned JSON: the floor its client sets on this machine.

    python tools/canned_server.py --port 9110 &
    .venv/bin/python bench/run.py --url http://127.0.0.1:9110 --workload concurrent_50

Every start is RUNNING at once and SUCCESS at its first poll, and nothing is stored, so
what bench reports (wall, POST p50) is what its 50 client threads and a threaded Python
HTTP server cost by themselves, on the same cores. NOTE (issue 14): on the 2-core machine
of the issue that floor was a POST p50 of 30-34 ms and a wall of 0.11-0.12 s with a load
average of 4 (86-180 ms and 0.27-0.41 s at 27): no server answering over HTTP to that client
there gets concurrent_50's POST p50 under the 20 ms of its target.
Only concurrent_50 is served: other workloads read tasks and outputs this server does not have.
"""

from __future__ import annotations

import argparse
import json
import re
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: What bench's workflow documents name their workflows (``bench_<kind>_<run id>:`` at line start).
WORKFLOW_NAME = re.compile(rb"^(bench_\w+):", re.MULTILINE)
TIMESTAMP = "2026-01-01 00:00:00"


class CannedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # NOTE: kept-alive connections, as bench's sessions use them

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Quiet: a log line per request would cost more than the answer."""

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _execution(self, ex_id: str, state: str) -> dict[str, Any]:
        return {"id": ex_id, "state": state, "created_at": TIMESTAMP, "updated_at": TIMESTAMP}

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path.startswith("/v2/executions/"):
            self._answer(200, self._execution(self.path.rsplit("/", 1)[1], "SUCCESS"))
        else:
            self._answer(200, {"versions": [], "workflows": [], "executions": [], "tasks": []})

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/v2/workflows"):
            names = WORKFLOW_NAME.findall(body)
            self._answer(201, {"workflows": [{"name": n.decode(), "id": str(uuid.uuid4())} for n in names]})
        else:
            self._answer(201, self._execution(str(uuid.uuid4()), "RUNNING"))

    def do_DELETE(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=9110)
    args = parser.parse_args()
    # NOTE: bench's 50 threads connect at once; the default backlog of 5 would refuse some.
    ThreadingHTTPServer.request_queue_size = 256
    ThreadingHTTPServer(("127.0.0.1", args.port), CannedHandler).serve_forever()


if __name__ == "__main__":
    main()
