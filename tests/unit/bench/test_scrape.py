"""bench/scrape.py: what moved on the server's /metrics over a workload."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import scrape

PAGE = """# HELP mistral_executions_started_total Workflow executions created
# TYPE mistral_executions_started_total counter
mistral_executions_started_total {started}
mistral_executions_started_created 1.7e+09
mistral_executions_finished_total{{state="SUCCESS"}} {succeeded}
mistral_executions_finished_total{{state="ERROR"}} 1.0
mistral_engine_apply_seconds_count {applies}
mistral_engine_apply_seconds_sum {apply_s}
mistral_rpc_timeouts_total{{method="take_actions",topic="mistral_engine"}} NaN
"""


def page(started: float, succeeded: float, applies: float, apply_s: float) -> str:
    return PAGE.format(started=started, succeeded=succeeded, applies=applies, apply_s=apply_s)


def test_sums_over_labels_and_moves() -> None:
    before = scrape.parse(page(10, 4, 5, 0.05))
    after = scrape.parse(page(13, 6, 9, 0.09))
    assert before["mistral_executions_finished_total"] == 5.0
    moved = scrape.deltas(before, after)
    assert moved is not None
    assert (moved["started"], moved["finished"], moved["rpc_timeouts"]) == (3, 2, 0)
    assert moved["apply_mean_ms"] == 10.0
    assert "started 3" in scrape.line(moved) and scrape.line(moved).endswith("apply_mean_ms 10")
    assert scrape.deltas(None, after) is None


@pytest.fixture
def server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = page(1, 1, 1, 0.001).encode() if self.path == "/metrics" else b"{}"
            self.send_response(200 if self.path == "/metrics" else 404)
            self.send_header("Content-Type", "text/plain; version=0.0.4" if self.path == "/metrics" else "x")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_scrape_over_http_and_a_server_without_metrics(server: str) -> None:
    got = scrape.scrape(server, {}, 5)
    assert got is not None and got["mistral_executions_started_total"] == 1.0
    assert scrape.scrape(server + "/nowhere", {}, 5) is None
