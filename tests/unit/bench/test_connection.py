"""bench/connection.py: one thread's kept-alive connection, against a local HTTP server."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator

import pytest

from bench import client as bench_client
from bench.connection import KeptConnection


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, bytes, int]] = []
    # "length", "chunked", "close" (Content-Length then close) or "eof" (no length, body to close)
    framing = "length"
    status = 200
    drop_next = False  # close the connection without an answer, once

    def _serve(self) -> None:
        cls = type(self)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        cls.seen.append((self.command, self.path, body, id(self.connection)))
        if cls.drop_next:
            cls.drop_next = False
            self.close_connection = True
            return
        data = json.dumps({"path": self.path, "n": len(cls.seen)}).encode()
        if cls.status >= 400:
            data = json.dumps({"faultstring": "no such thing"}).encode()
        self.send_response(cls.status)
        self.send_header("Content-Type", "application/json")
        if cls.framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (data[:5], data[5:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        if cls.framing == "eof":
            self.close_connection = True
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_header("Content-Length", str(len(data)))
        if cls.framing == "close":
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _serve  # noqa: N815 - http.server's names

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def client() -> Iterator[bench_client.Client]:
    _Handler.seen, _Handler.framing, _Handler.status, _Handler.drop_next = [], "length", 200, False
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield bench_client.Client(f"http://127.0.0.1:{httpd.server_address[1]}/v2", 5.0, token="tok")
    httpd.shutdown()
    httpd.server_close()


def test_requests_share_one_connection_and_are_counted(client: bench_client.Client) -> None:
    conn = KeptConnection(client)
    post = conn.prepare("POST", "/v2/executions", {"workflow_name": "wf"})
    assert conn.send_json(conn.prepare("GET", "/")) == {"path": "/", "n": 1}
    assert conn.send_json(post)["n"] == 2
    assert conn.send_json(conn.prepare("GET", "/v2/executions/1"))["n"] == 3
    conn.close()
    methods = [(m, p) for m, p, _, _ in _Handler.seen]
    assert methods == [("GET", "/"), ("POST", "/v2/executions"), ("GET", "/v2/executions/1")]
    assert json.loads(_Handler.seen[1][2]) == {"workflow_name": "wf"}
    assert len({c for *_, c in _Handler.seen}) == 1
    assert client.counters() == (3, 0)


@pytest.mark.parametrize("framing", ["chunked", "close", "eof"])
def test_every_framing_of_an_answer_is_read(client: bench_client.Client, framing: str) -> None:
    _Handler.framing = framing
    conn = KeptConnection(client)
    for n in (1, 2):
        assert conn.send_json(conn.prepare("GET", "/x")) == {"path": "/x", "n": n}
    conn.close()
    assert client.counters() == (2, 0)


def test_a_refusal_is_an_api_error_with_the_faultstring(client: bench_client.Client) -> None:
    _Handler.status = 404
    conn = KeptConnection(client)
    with pytest.raises(bench_client.ApiError, match="404: no such thing") as caught:
        conn.send(conn.prepare("GET", "/v2/executions/nope"))
    assert caught.value.status == 404
    assert client.counters() == (1, 1)
    conn.close()


def test_a_get_goes_again_on_a_new_connection_when_the_kept_one_closed(client: bench_client.Client) -> None:
    conn = KeptConnection(client)
    conn.send(conn.prepare("GET", "/"))
    _Handler.drop_next = True
    assert conn.send_json(conn.prepare("GET", "/again"))["path"] == "/again"
    conn.close()
    assert client.counters() == (2, 0)


def test_a_post_is_never_sent_twice(client: bench_client.Client) -> None:
    conn = KeptConnection(client)
    conn.send(conn.prepare("GET", "/"))
    _Handler.drop_next = True
    with pytest.raises(bench_client.ApiError, match="no response"):
        conn.send(conn.prepare("POST", "/v2/executions", {}))
    assert [m for m, *_ in _Handler.seen] == ["GET", "POST"]
    assert client.counters() == (2, 1)


def test_a_refused_connection_is_a_failed_request() -> None:
    c = bench_client.Client("http://127.0.0.1:1", 1.0)
    with pytest.raises(bench_client.ApiError, match="no response"):
        KeptConnection(c).send(KeptConnection(c).prepare("GET", "/"))
    assert c.counters() == (1, 1)


def test_warming_is_not_counted_whatever_the_answer(client: bench_client.Client) -> None:
    _Handler.status = 404
    conn = KeptConnection(client)
    conn.warm()
    _Handler.status = 200
    assert conn.send_json(conn.prepare("GET", "/x"))["n"] == 2
    assert len({c for *_, c in _Handler.seen}) == 1  # the warmed connection served the request
    assert client.counters() == (1, 0)
    conn.close()
    refused = bench_client.Client("http://127.0.0.1:1", 1.0)
    KeptConnection(refused).warm()
    assert refused.counters() == (0, 0)


def test_the_token_and_the_host_are_in_every_request(client: bench_client.Client) -> None:
    data = KeptConnection(client).prepare("POST", "/v2/executions", {"a": 1}).data
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"POST /v2/executions HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"\r\nX-Auth-Token: tok" in head and b"\r\nContent-Length: 8" in head
    assert body == b'{"a": 1}'


def test_a_request_may_carry_headers_of_its_own(client: bench_client.Client) -> None:
    conn = KeptConnection(client)
    put = conn.prepare(
        "PUT", "/v2/action_executions/a1", {"state": "SUCCESS"}, {"X-Mistral-Lease-Token": "L1"}
    )
    head = put.data.partition(b"\r\n\r\n")[0]
    assert b"\r\nX-Mistral-Lease-Token: L1\r\n" in head and b"\r\nX-Auth-Token: tok\r\n" in head
    assert conn.prepare("PUT", "/v2/action_executions/a2", {}).data.count(b"Lease") == 0
