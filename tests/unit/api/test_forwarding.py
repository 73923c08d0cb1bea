"""The reader process's front door: reads stay, every other request goes to the backend unchanged."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from cheroot import wsgi

from mistral.api import forwarding


class Backend:
    """A WSGI server on a free port that records what reached it and answers with a fixed fault."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or "0")
        self.seen.append(
            {
                "method": environ["REQUEST_METHOD"],
                "target": environ.get("REQUEST_URI"),
                "body": environ["wsgi.input"].read(length),
                "type": environ.get("CONTENT_TYPE"),
                "token": environ.get("HTTP_X_AUTH_TOKEN"),
            }
        )
        body = json.dumps({"faultstring": "duplicate"}).encode()
        start_response(
            "409 Conflict", [("Content-Type", "application/json"), ("X-Openstack-Request-Id", "req-1")]
        )
        return [body]


@pytest.fixture
def backend() -> Iterator[tuple[Backend, str]]:
    app = Backend()
    httpd = wsgi.Server(("127.0.0.1", 0), app, numthreads=1)
    httpd.prepare()
    threading.Thread(target=httpd.serve, daemon=True).start()
    host, port = httpd.bind_addr[:2]
    yield app, f"{host}:{port}"
    httpd.stop()


def _call(app: Any, method: str, body: bytes = b"", **extra: Any) -> tuple[str, dict[str, str], bytes]:
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        answer.update(status=status, headers=dict(headers))

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": "/v2/workflows",
        "QUERY_STRING": "scope=public",
        "REQUEST_URI": "/v2/workflows?scope=public",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "text/plain",
        "wsgi.input": io.BytesIO(body),
        **extra,
    }
    data = b"".join(app(environ, start_response))
    return answer["status"], answer["headers"], data


def _local(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"local": true}']


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_reads_are_answered_here(backend: tuple[Backend, str], method: str) -> None:
    seen, address = backend
    status, _, body = _call(forwarding.ForwardWrites(_local, address), method)
    assert (status, body, seen.seen) == ("200 OK", b'{"local": true}', [])


def test_a_read_of_the_engines_own_figures_goes_to_the_engines_process(backend: tuple[Backend, str]) -> None:
    seen, address = backend
    path = {"PATH_INFO": "/v2/engine_stats", "REQUEST_URI": "/v2/engine_stats?since=3", "CONTENT_LENGTH": ""}
    _call(forwarding.ForwardWrites(_local, address), "GET", b"", **path)
    assert [(s["method"], s["target"]) for s in seen.seen] == [("GET", "/v2/engine_stats?since=3")]


@pytest.mark.parametrize("target", ["/metrics", "/v2/info"])
def test_the_engines_series_and_process_info_come_from_the_engines_process(
    backend: tuple[Backend, str], target: str
) -> None:
    # NOTE: the engine and executor record into their process's registry; this one has only reads.
    seen, address = backend
    path = {"PATH_INFO": target, "REQUEST_URI": target, "CONTENT_LENGTH": ""}
    _call(forwarding.ForwardWrites(_local, address), "GET", b"", **path)
    assert [(s["method"], s["target"]) for s in seen.seen] == [("GET", target)]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_requests_go_to_the_backend_and_its_answer_comes_back(
    backend: tuple[Backend, str], method: str
) -> None:
    seen, address = backend
    status, headers, body = _call(
        forwarding.ForwardWrites(_local, address), method, b"version: '2.0'", HTTP_X_AUTH_TOKEN="tok"
    )
    assert status == "409 Conflict"
    assert json.loads(body) == {"faultstring": "duplicate"}
    assert headers["X-Openstack-Request-Id"] == "req-1"
    assert headers["Content-Length"] == str(len(body))
    assert seen.seen == [
        {
            "method": method,
            "target": "/v2/workflows?scope=public",
            "body": b"version: '2.0'",
            "type": "text/plain",
            "token": "tok",
        }
    ]


def test_a_backend_that_does_not_answer_is_a_503() -> None:
    status, _, body = _call(forwarding.ForwardWrites(_local, "127.0.0.1:1"), "POST", b"x")
    assert status.startswith("503")
    assert "faultstring" in json.loads(body)


def test_hop_by_hop_headers_stay_behind() -> None:
    headers = forwarding.request_headers(
        {
            "HTTP_CONNECTION": "keep-alive",
            "HTTP_X_AUTH_TOKEN": "t",
            "HTTP_TRANSFER_ENCODING": "chunked",
            "HTTP_EXPECT": "100-continue",
        }
    )
    assert headers == {"X-Auth-Token": "t"}


def test_a_target_without_request_uri_is_quoted_again() -> None:
    environ = {"PATH_INFO": "/v2/workflows/my flow", "QUERY_STRING": "namespace=a"}
    assert forwarding.request_target(environ) == "/v2/workflows/my%20flow?namespace=a"


def test_with_a_bridge_starts_of_executions_are_answered_here(backend: tuple[Backend, str]) -> None:
    seen, address = backend
    path = {"PATH_INFO": "/v2/executions/", "REQUEST_URI": "/v2/executions/"}
    status, _, body = _call(forwarding.ForwardWrites(_local, address, bridged=True), "POST", b"{}", **path)
    assert (status, body, seen.seen) == ("200 OK", b'{"local": true}', [])


@pytest.mark.parametrize(
    ("bridged", "method", "path"),
    [
        (False, "POST", "/v2/executions"),  # no bridge: only the engine's process reaches the engine
        (True, "PUT", "/v2/executions/1"),
        (True, "POST", "/v2/workflows"),  # writes the database itself
        (True, "POST", "/v2/executions/1/tasks"),
    ],
)
def test_other_writes_still_go_to_the_engines_process(
    backend: tuple[Backend, str], bridged: bool, method: str, path: str
) -> None:
    seen, address = backend
    where = {"PATH_INFO": path, "REQUEST_URI": path}
    _call(forwarding.ForwardWrites(_local, address, bridged=bridged), method, b"{}", **where)
    assert [(s["method"], s["target"]) for s in seen.seen] == [(method, path)]
