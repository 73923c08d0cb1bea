"""Where the built-in API server listens: an API without authentication stays on this host."""

from __future__ import annotations

import http.client
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from mistral.api import server
from mistral.config import CONF


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    yield
    CONF.clear_override("host", group="api")
    CONF.clear_override("auth_enable", group="pecan")
    CONF.clear_override("api_workers", group="api")


def _bound(auth: bool, host: str | None = None) -> str:
    CONF.set_override("auth_enable", auth, group="pecan")
    if host is not None:
        CONF.set_override("host", host, group="api")
    httpd = server.make_server(lambda environ, start: [], port=0)
    return httpd.bind_addr[0]


def test_auth_off_listens_on_loopback_only_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="mistral.api.server"):
        assert _bound(auth=False) == "127.0.0.1"
    message = caplog.records[-1].getMessage()
    assert "auth_enable = false" in message
    assert "127.0.0.1 only" in message
    assert "[api] host" in message


def test_auth_on_listens_everywhere_by_default() -> None:
    assert _bound(auth=True) == "0.0.0.0"


def test_an_explicit_host_wins_even_with_auth_off(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="mistral.api.server"):
        assert _bound(auth=False, host="0.0.0.0") == "0.0.0.0"
    assert "anyone who reaches this port" in caplog.records[-1].getMessage()


def test_an_explicit_host_with_auth_on() -> None:
    assert _bound(auth=True, host="127.0.0.1") == "127.0.0.1"


def test_a_host_given_by_the_caller_wins() -> None:
    CONF.set_override("auth_enable", False, group="pecan")
    assert server.make_server(lambda environ, start: [], host="0.0.0.0", port=0).bind_addr[0] == "0.0.0.0"


def test_many_polling_clients_keep_their_connections() -> None:
    """cheroot's default (10 idle connections) would answer the others with Connection: close."""

    def app(environ: dict, start: Any) -> list[bytes]:
        start("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    httpd = server.make_server(app, host="127.0.0.1", port=0)
    httpd.prepare()
    thread = threading.Thread(target=httpd.serve, daemon=True)
    thread.start()
    try:
        conns = [http.client.HTTPConnection(*httpd.bind_addr[:2], timeout=10) for _ in range(20)]
        closing = []
        for _ in range(2):
            for conn in conns:
                conn.request("GET", "/")
                answer = conn.getresponse()
                answer.read()
                closing.append(answer.getheader("Connection"))
        assert closing == [None] * 40
        for conn in conns:
            conn.close()
    finally:
        httpd.stop()


@pytest.mark.parametrize(
    ("names", "api_workers", "threads"),
    [
        (["api", "engine", "executor"], 4, 4),  # shares the engine's interpreter: as configured
        (["api"], 4, server.WAITING_THREADS),  # its writes wait on an engine over RPC
        (["api", "executor"], 4, server.WAITING_THREADS),
        (["api"], 40, 40),  # more than the floor is kept
    ],
)
def test_an_api_without_an_engine_in_its_process_has_threads_to_wait_with(
    names: list[str], api_workers: int, threads: int
) -> None:
    CONF.set_override("api_workers", api_workers, group="api")
    assert server.threads_for(names) == threads
