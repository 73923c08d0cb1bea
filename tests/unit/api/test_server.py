"""Where the built-in API server listens: an API without authentication stays on this host."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from mistral.api import server
from mistral.config import CONF


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    yield
    CONF.clear_override("host", group="api")
    CONF.clear_override("auth_enable", group="pecan")


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
