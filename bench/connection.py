"""One thread's own kept-alive HTTP/1.1 connection, for requests whose latency is the figure.

NOTE (issue 14): ``concurrent_50`` measured its client as much as the server. Through
``requests``, each of its 50 threads built a Session, a connection pool and a prepared
request, opened its TCP connection after the barrier, and parsed the answer's headers
with the email parser: against a server that answers at once (``tools/canned_server.py``)
the POST p50 was 30-37 ms on 2 cores, above the 20 ms the server is asked for. Here the
connection is opened and warmed by one request before the clock starts, a request is bytes
built beforehand and written with one ``sendall``, and the answer is read from a buffered
reader with nothing but the status line and three headers looked at.

It speaks plain HTTP/1.1 to any server (Content-Length, chunked or read-to-close bodies,
``Connection: close``), and counts every request and failure in the ``Client``'s counters
as the rest of the benchmark does. An idempotent request (GET) is sent once more on a new
connection when a kept-alive one turns out closed before any answer; a POST never is, since
the server may have taken it.
"""

from __future__ import annotations

import json
import socket
import ssl
from typing import Any
from urllib.parse import urlsplit

from bench.client import ApiError, Client, answer_error_text

#: Longest status or header line read; a longer one is a broken answer.
MAX_LINE = 65536
#: Methods sent again on a new connection when a kept-alive one was found closed.
IDEMPOTENT = frozenset({"GET", "HEAD"})


class Prepared:
    """A request as the bytes to send, built once (before the clock starts)."""

    def __init__(self, method: str, path: str, data: bytes) -> None:
        self.method, self.path, self.data = method, path, data


class KeptConnection:
    """A connection to the ``Client``'s server, used by one thread only."""

    def __init__(self, client: Client) -> None:
        self.client = client
        url = urlsplit(client.base)
        self.tls = url.scheme == "https"
        self.host = url.hostname or "127.0.0.1"
        self.port = url.port or (443 if self.tls else 80)
        self.prefix = url.path.rstrip("/")
        self._sock: socket.socket | None = None
        self._rfile: Any = None
        self._fixed = "".join(
            f"{k}: {v}\r\n" for k, v in {"Host": url.netloc, **client.headers}.items()
        ).encode()

    def prepare(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Prepared:
        """``body`` (a JSON value) is encoded now; None sends no body. ``headers``: this request's own."""
        if not path.startswith("/"):
            raise ValueError(path)
        own = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items()).encode()
        head = f"{method} {self.prefix}{path} HTTP/1.1\r\n".encode() + self._fixed + own
        if body is None:
            return Prepared(method, path, head + b"\r\n")
        data = json.dumps(body).encode()
        head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode()
        return Prepared(method, path, head + data)

    def open(self) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=self.client.http_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        self._sock, self._rfile = sock, sock.makefile("rb")

    def close(self) -> None:
        if self._rfile is not None:
            self._rfile.close()
        if self._sock is not None:
            self._sock.close()
        self._sock = self._rfile = None

    def warm(self) -> None:
        """Open the connection with one ``GET /``, not counted: the requests that follow find it ready.

        NOTE: whatever the answer, nothing is counted or raised; a connection that failed is opened
        again by the next request, which is counted.
        """
        try:
            self._exchange(self.prepare("GET", "/"))
        except (OSError, ValueError):
            self.close()

    def send(self, request: Prepared) -> bytes:
        """Send ``request`` and return the body of its 2xx answer; ApiError otherwise (counted)."""
        what = f"{request.method} {request.path}"
        try:
            status, message, body = self._exchange(request)
        except (OSError, ValueError) as e:
            self.close()
            self.client.record(False, f"{what}: {e.__class__.__name__}")
            raise ApiError(request.method, request.path, None, f"{e.__class__.__name__}: {e}"[:200]) from e
        if not 200 <= status < 300:
            detail = answer_error_text(message, body)
            self.client.record(False, f"{what}: {status} {detail[:120]}")
            raise ApiError(request.method, request.path, status, detail)
        self.client.record(True, "")
        return body

    def send_json(self, request: Prepared) -> Any:
        body = self.send(request)
        try:
            return json.loads(body)
        except ValueError as e:
            raise ApiError(request.method, request.path, 200, f"not JSON: {body[:200]!r}") from e

    def _exchange(self, request: Prepared) -> tuple[int, str | None, bytes]:
        reused = self._sock is not None
        if not reused:
            self.open()
        try:
            self._sock.sendall(request.data)  # type: ignore[union-attr]
            return self._read_answer(request.method)
        except ConnectionError:
            # NOTE: a kept-alive connection the server closed while it was idle; nothing was
            # answered, so a request that changes nothing may go again, once, on a new one.
            if not reused or request.method not in IDEMPOTENT:
                raise
            self.close()
            self.open()
            self._sock.sendall(request.data)  # type: ignore[union-attr]
            return self._read_answer(request.method)

    def _read_answer(self, method: str) -> tuple[int, str | None, bytes]:
        """Status, the ``Server-Error-Message`` header and the body of one answer."""
        rfile = self._rfile
        while True:
            line = rfile.readline(MAX_LINE + 1)
            if not line:
                raise ConnectionResetError("the server closed the connection without an answer")
            version, status_text = _status_line(line)
            headers = _headers(rfile)
            status = int(status_text)
            if status >= 200 or status == 101:
                break  # NOTE: a 1xx (100 Continue) precedes the real answer
        if method == "HEAD" or status in (204, 304):
            body = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            body = _read_chunked(rfile)
        elif "content-length" in headers:
            length = int(headers["content-length"])
            body = rfile.read(length)
            if len(body) != length:
                raise ConnectionResetError(f"the answer ended after {len(body)} of {length} bytes")
        else:
            body = rfile.read()
            headers["connection"] = "close"
        connection = headers.get("connection", "").lower()
        if connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive"):
            self.close()
        return status, headers.get("server-error-message"), body


def _status_line(line: bytes) -> tuple[str, str]:
    parts = line.decode("latin-1").split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP status line: {line[:80]!r}")
    return parts[0], parts[1]


def _headers(rfile: Any) -> dict[str, str]:
    headers: dict[str, str] = {}
    while True:
        line = rfile.readline(MAX_LINE + 1)
        if line in (b"\r\n", b"\n"):
            return headers
        if not line:
            raise ConnectionResetError("the server closed the connection inside an answer's headers")
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()


def _read_chunked(rfile: Any) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = rfile.readline(MAX_LINE + 1)
        if not size_line:
            raise ConnectionResetError("the server closed the connection inside a chunked answer")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            _headers(rfile)  # trailers, up to the blank line
            return b"".join(parts)
        parts.append(rfile.read(size))
        rfile.readline(MAX_LINE + 1)  # the CRLF after the chunk
