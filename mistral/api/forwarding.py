"""The reader process's front door: reads are answered here, everything else by the engine's process.

NOTE: a GET or HEAD only reads the database, which every process sees alike (SQLite in
WAL mode or a database server); any other request may need the engine, which the
in-process transport reaches only from inside its own process, so it is passed on
unchanged and its answer comes back unchanged (status, headers, request id, body).
"""

from __future__ import annotations

import http.client
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from mistral.api.middleware import StartResponse, fault

LOG = logging.getLogger(__name__)

#: Methods that only read, answered by the reader process itself.
READS = frozenset({"GET", "HEAD"})
#: Writes a reader process with a bridge to the engine's process (mistral.rpc.bridge) answers itself:
#: their handlers write nothing but through the engine. Starting an execution is the one that
#: comes in floods (50 clients at once), and its handling took 42% of the engine process's CPU.
BRIDGED_WRITES = frozenset({("POST", "/v2/executions")})
#: Reads that ask the engine itself (over the in-process transport), or that describe the engine's
#: process (its series, its services) rather than this one, so they go to its process too.
ENGINE_READS = ("/v2/engine_stats", "/metrics", "/v2/info")
#: Headers of one connection, not of the request or answer (RFC 9110, 7.6.1), and ``Expect``,
#: which this process has answered already by reading the body.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer"}
    | {"transfer-encoding", "upgrade", "proxy-connection", "expect"}
)


def request_headers(environ: dict[str, Any]) -> dict[str, str]:
    """The request's end-to-end headers, as the client sent them, from a WSGI environ."""
    headers = {
        key[5:].replace("_", "-").title(): value
        for key, value in environ.items()
        if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in HOP_BY_HOP
    }
    for key, name in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length")):
        if environ.get(key):
            headers[name] = environ[key]
    return headers


def request_target(environ: dict[str, Any]) -> str:
    """The path and query as the client wrote them (cheroot keeps them in ``REQUEST_URI``)."""
    raw = environ.get("REQUEST_URI")
    if raw:
        return raw
    path = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), safe="/;=,:@!$&'()*+~")
    query = environ.get("QUERY_STRING")
    return f"{path}?{query}" if query else path


class ForwardWrites:
    """Answer reads with ``app``; send every other request to the API at ``backend`` ("host:port")."""

    def __init__(
        self, app: Callable[..., Any], backend: str, timeout: float | None = None, bridged: bool = False
    ) -> None:
        """``bridged``: this process reaches the engine over a bridge, so it answers BRIDGED_WRITES too."""
        self.app = app
        self.bridged = bridged
        self.host, _, port = backend.rpartition(":")
        self.port = int(port)
        self.timeout = timeout

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method in READS and not _asks_the_engine(environ):
            return self.app(environ, start_response)
        if self.bridged and (method, _path(environ).rstrip("/")) in BRIDGED_WRITES:
            return self.app(environ, start_response)
        return self.forward(environ, start_response)

    def forward(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or "0")
        # NOTE: BodySizeLimit runs in front of this and turned a chunked body into a sized one.
        body = environ["wsgi.input"].read(length) if length > 0 else None
        # NOTE: a fresh connection per request: a kept-alive one the backend closed while idle
        # fails in a way that cannot tell whether a POST arrived, so it could not be retried.
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(environ["REQUEST_METHOD"], request_target(environ), body, request_headers(environ))
            answer = conn.getresponse()
            data = answer.read()
        except OSError as error:
            LOG.error(
                "The API of the engine's process did not answer %s: %s", environ["REQUEST_METHOD"], error
            )
            return fault(
                start_response,
                "503 Service Unavailable",
                "The service is starting or stopping; try again",
                faultcode="Server",
            )
        finally:
            conn.close()
        headers = [(k, v) for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP]
        if answer.getheader("Content-Length") is None and answer.status not in (204, 304):
            headers.append(("Content-Length", str(len(data))))
        start_response(f"{answer.status} {answer.reason}", headers)
        return [data]


def _path(environ: dict[str, Any]) -> str:
    return environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")


def _asks_the_engine(environ: dict[str, Any]) -> bool:
    return _path(environ).rstrip("/").startswith(ENGINE_READS)
