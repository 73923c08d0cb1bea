"""Hostile inputs at the API: chunked bodies past the limit, deep nesting, a 500 that tells nothing.

Each answer is a 4xx naming the problem (or a generic 500 with a request id), never a hang or a crash.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import time
import urllib.parse

import pytest

from mistral.api import hooks
from mistral.api.controllers.v2 import workflows as workflows_controller
from tests.functional.conftest import Server
from tests.functional.runs import TEXT

LIMIT = 1024 * 1024  # the default [api] max_request_body_kb, in bytes
REQUEST_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
WF = "version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.noop\n"


def _chunked_post(api: Server, path: str, body: bytes, chunk: int = 64 * 1024) -> tuple[int, dict, bytes]:
    """POST ``body`` in chunks with no Content-Length; the status, headers and body of the answer."""
    url = urllib.parse.urlsplit(api.url)
    sock = socket.create_connection((url.hostname, url.port), timeout=30)
    sock.sendall(
        f"POST /v2{path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: text/plain\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode()
    )
    try:
        for start in range(0, len(body), chunk):
            part = body[start : start + chunk]
            sock.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # refused before the end: the answer is already on its way
    answer = b""
    while True:
        data = sock.recv(65536)
        if not data:
            break
        answer += data
    sock.close()
    head, _, payload = answer.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, payload


def test_a_chunked_body_past_the_limit_is_413(api: Server) -> None:
    started = time.monotonic()
    status, headers, payload = _chunked_post(api, "/workflows", b"#" * (LIMIT + 256 * 1024))
    assert status == 413
    assert json.loads(payload)["faultstring"] == (
        f"Request body is larger than the limit of {LIMIT} bytes ([api] max_request_body_kb)"
    )
    assert REQUEST_ID.match(headers["x-openstack-request-id"])
    assert time.monotonic() - started < 5
    # Within the limit, a chunked body is read as any other.
    status, _, payload = _chunked_post(api, "/workflows", WF.encode(), chunk=7)
    assert status == 201, payload
    assert api.request("GET", "/workflows/wf").status_code == 200


def test_one_huge_chunk_is_413_before_it_is_read(api: Server) -> None:
    # One chunk announcing 64 MiB: refused from its size line, not awaited and buffered.
    url = urllib.parse.urlsplit(api.url)
    sock = socket.create_connection((url.hostname, url.port), timeout=10)
    sock.sendall(
        f"POST /v2/workflows HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: text/plain\r\n"
        f"Transfer-Encoding: chunked\r\n\r\n{64 * LIMIT:x}\r\n".encode()
    )
    answer = b""
    with contextlib.suppress(ConnectionResetError):
        # The server answers and closes without waiting for the chunk.
        while data := sock.recv(65536):
            answer += data
    sock.close()
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert "([api] max_request_body_kb)" in json.loads(payload)["faultstring"]


def test_a_malformed_chunked_body_is_400(api: Server) -> None:
    url = urllib.parse.urlsplit(api.url)
    sock = socket.create_connection((url.hostname, url.port), timeout=10)
    sock.sendall(
        f"POST /v2/workflows HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: text/plain\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n".encode()
    )
    answer = b""
    while data := sock.recv(65536):
        answer += data
    sock.close()
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert "chunked" in json.loads(payload)["faultstring"]


DEEP_JSON = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (f'{{"workflow_name": "wf", "input": {{"x": {DEEP_JSON}}}}}', "nested deeper than 100 levels"),
        (
            json.dumps({"workflow_name": "wf", "input": f'{{"x": {DEEP_JSON}}}'}),
            "Invalid JSON in 'input': nested deeper than 100 levels",
        ),
        ('{"workflow_name": "wf", "input": {"x": ' + "[" * 150 + "]" * 150 + "}}", "nested deeper than 100"),
        (json.dumps({"workflow_name": "wf", "input": '{"x": '}), "Invalid JSON in 'input': Expecting value"),
        (json.dumps({"workflow_name": "wf", "input": "[1]"}), "'input' must be a JSON object, got list"),
    ],
    ids=["body", "input-text", "just-past-the-limit", "input-text-cut-short", "input-text-a-list"],
)
def test_input_that_is_no_json_object_is_400(api: Server, body: str, message: str) -> None:
    wf = WF.replace("  tasks:", "  input: [x]\n  tasks:")
    assert api.request("POST", "/workflows", data=wf, headers=TEXT).status_code == 201
    response = api.request("POST", "/executions", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert message in response.json()["faultstring"]
    assert api.request("GET", "/executions").json()["executions"] == []


def test_deep_yaml_is_400(api: Server) -> None:
    text = WF + "  input:\n    - x: " + DEEP_JSON + "\n"
    response = api.request("POST", "/workflows", data=text, headers=TEXT)
    assert response.status_code == 400, response.text
    assert "nested deeper than 100 levels" in response.json()["faultstring"]


def test_a_500_names_only_the_request_id_which_the_log_carries(
    api: Server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("password=s3cret at /srv/internal/path")

    monkeypatch.setattr(workflows_controller.db_api, "list_workflow_definitions", broken)
    with caplog.at_level(logging.ERROR):
        response = api.request("GET", "/workflows")
    assert response.status_code == 500
    request_id = response.headers["X-Openstack-Request-Id"]
    assert REQUEST_ID.match(request_id)
    assert response.json()["faultstring"] == f"Internal server error; request id {request_id}"
    assert "s3cret" not in response.text
    (record,) = [r for r in caplog.records if request_id in r.getMessage()]
    assert record.exc_info and "s3cret" in str(record.exc_info[1])


def test_every_answer_carries_a_request_id(api: Server) -> None:
    ids = {api.request("GET", "/workflows").headers["X-Openstack-Request-Id"] for _ in range(2)}
    ids.add(api.request("GET", "/workflows/nope").headers["X-Openstack-Request-Id"])
    assert len(ids) == 3 and all(REQUEST_ID.match(i) for i in ids)


def test_an_error_outside_any_controller_is_the_same_generic_500(
    api: Server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(self: object, state: object) -> None:
        raise RuntimeError("hook detail s3cret")

    monkeypatch.setattr(hooks.ContextHook, "before", broken)
    with caplog.at_level(logging.ERROR):
        response = api.request("GET", "/workflows")
    assert response.status_code == 500
    request_id = response.headers["X-Openstack-Request-Id"]
    assert response.json()["faultstring"] == f"Internal server error; request id {request_id}"
    assert "s3cret" not in response.text
    assert any(request_id in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_body_announced_far_too_large_is_the_same_json_413(api: Server) -> None:
    response = api.request("POST", "/workflows", data=b"#" * (5 * LIMIT), headers=TEXT)
    assert response.status_code == 413
    assert response.json()["faultstring"] == (
        f"Request body is {5 * LIMIT} bytes, larger than the limit of {LIMIT} bytes "
        "([api] max_request_body_kb)"
    )
