"""bench/polling.py: open-loop pollers against a local HTTP server, and wrk's report."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import pytest

from bench import polling


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    paths: list[str] = []
    delay = 0.0
    close = False

    def do_GET(self) -> None:  # noqa: N802
        type(self).paths.append(self.path)
        time.sleep(type(self).delay)
        status, body = (404, b"{}") if self.path.endswith("/missing") else (200, b'{"state": "RUNNING"}')
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if type(self).close:
            self.send_header("Connection", "close")  # http.server closes the connection after it
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.paths = []
    _Handler.delay = 0.0
    _Handler.close = False
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_each_client_asks_once_per_interval(server: str) -> None:
    figures = polling.open_loop(server, lambda: "/v2/executions/1", clients=4, interval=0.05, duration=0.5)
    # 4 clients x 10 turns (an 11th when the rounding of the last due time falls inside).
    assert 40 <= figures["requests"] <= 44
    assert figures["failed_requests"] == 0
    assert figures["wanted_per_s"] == 80.0
    assert 50 <= figures["achieved_per_s"] <= 85  # a loaded machine delays a few turns
    assert set(_Handler.paths) == {"/v2/executions/1"}
    assert figures["p50"] is not None and figures["p50"] <= figures["p95"] <= figures["p99"] <= figures["max"]


def test_a_late_answer_counts_from_when_the_request_was_due(server: str) -> None:
    _Handler.delay = 0.1  # twice the interval: every request after the first is sent late
    figures = polling.open_loop(server, lambda: "/x", clients=1, interval=0.05, duration=0.5)
    assert figures["achieved_per_s"] < 12  # the client could not keep its rhythm
    assert figures["max"] > 200  # the wait before a late request is part of its latency


def test_errors_are_counted_and_skipped_turns_are_not_requests(server: str) -> None:
    turns = iter([None, None, "/missing"] + ["/ok"] * 100)
    figures = polling.open_loop(server, lambda: next(turns), clients=1, interval=0.02, duration=0.2)
    assert figures["failed_requests"] == 1
    # 10 turns (11 when the last due time rounds inside), 2 skipped
    assert figures["requests"] == len(_Handler.paths) in (8, 9)
    assert _Handler.paths[0] == "/missing"


def test_stop_ends_the_pollers(server: str) -> None:
    deadline = time.perf_counter() + 0.3
    t0 = time.perf_counter()
    figures = polling.open_loop(
        server, lambda: "/x", clients=3, interval=0.05, stop=lambda: time.perf_counter() > deadline
    )
    assert time.perf_counter() - t0 < 2
    assert figures["requests"] > 0


def test_a_server_that_closes_each_connection_is_asked_on_a_new_one(server: str) -> None:
    _Handler.close = True
    figures = polling.open_loop(server, lambda: "/x", clients=2, interval=0.02, duration=0.2)
    assert figures["failed_requests"] == 0
    assert figures["requests"] >= 18


def test_a_refused_connection_is_a_failed_request() -> None:
    figures = polling.open_loop("http://127.0.0.1:1", lambda: "/x", clients=1, interval=0.05, duration=0.2)
    assert figures["failed_requests"] == figures["requests"] > 0
    assert figures["p50"] is None


def test_parse_head() -> None:
    assert polling.parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nX: y") == (200, 12, False)
    assert polling.parse_head(b"HTTP/1.1 204 No Content\r\nConnection: close") == (204, 0, True)


WRK_OUTPUT = """Running 3s test @ http://127.0.0.1:9600/v2/executions/abc
  1 threads and 1 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.05ms  310.21us   7.12ms   93.10%
    Req/Sec     0.97k    50.12     1.02k    80.00%
  Latency Distribution
     50%  980.00us
     75%    1.10ms
     90%    1.30ms
     99%    2.50ms
  2901 requests in 3.00s, 1.80MB read
  Non-2xx or 3xx responses: 2
Requests/sec:    966.74
Transfer/sec:    614.46KB
"""


def test_parse_wrk() -> None:
    assert polling.parse_wrk(WRK_OUTPUT) == {
        "p50": 0.98,
        "p75": 1.1,
        "p90": 1.3,
        "p99": 2.5,
        "per_s": 966.74,
        "non_2xx": 2,
    }
