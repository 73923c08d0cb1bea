"""std.http's limits: denied address ranges (after resolution, on redirects), default timeout, body cap."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from mistral_lib.exceptions import ActionException

from mistral.actions import http_guard
from mistral.actions.http import HTTPAction
from mistral.config import CONF
from tests.unit.actions.certs import self_signed
from tests.unit.actions.conftest import _EchoHandler

METADATA = "http://169.254.169.254/latest/meta-data/"


@pytest.fixture(autouse=True)
def _clean_options() -> Iterator[None]:
    yield
    for name in ("denied_networks", "default_timeout", "max_response_size"):
        CONF.clear_override(name, group="action_http")


class _FloodHandler(BaseHTTPRequestHandler):
    """Answers with a chunked body that never ends; ``status=302&redirect=URL`` makes it a redirect."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - the http.server protocol
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        self.send_response(int(query.get("status", 200)))
        if "redirect" in query:
            self.send_header("Location", query["redirect"])
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"x" * 65536
        try:
            while True:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            return

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def flood_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FloodHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A server that accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    listener.close()
    for sock in accepted:
        sock.close()


def _resolve_to(monkeypatch: pytest.MonkeyPatch, name: str, *addresses: str) -> None:
    """Make ``name`` resolve to ``addresses`` (in that order), as a DNS answer would."""
    real = socket.getaddrinfo

    def fake(host: str, port: int, *args: object, **kwargs: object) -> list:
        if host != name:
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def test_metadata_address_is_refused_by_default() -> None:
    started = time.monotonic()
    with pytest.raises(ActionException, match=r"refused: 169\.254\.169\.254 is 169\.254\.169\.254, in "):
        HTTPAction(METADATA).run(None)
    assert time.monotonic() - started < 2, "refused before any connection attempt"


def test_redirect_to_metadata_is_refused(http_url: str) -> None:
    with pytest.raises(ActionException) as exc:
        HTTPAction(f"{http_url}/?redirect={METADATA}").run(None)
    message = str(exc.value)
    assert "169.254.169.254, in 169.254.0.0/16 of [action_http] denied_networks" in message


@pytest.mark.parametrize(
    "url",
    [
        "http://[::ffff:169.254.169.254]/",
        "http://[fe80::1]/",
        "http://0.0.0.0:1/",
        "http://[::ffff:a9fe:a9fe]/",
    ],
)
def test_other_spellings_of_denied_addresses_are_refused(url: str) -> None:
    with pytest.raises(ActionException, match=r"refused: .* of \[action_http\] denied_networks"):
        HTTPAction(url, timeout=2).run(None)


def test_a_name_resolving_to_a_denied_address_is_refused(http_url: str) -> None:
    CONF.set_override("denied_networks", ["127.0.0.0/8", "::1/128"], group="action_http")
    port = urlsplit(http_url).port
    with pytest.raises(ActionException, match=r"refused: localhost is (127\.0\.0\.1|::1), in "):
        HTTPAction(f"http://localhost:{port}/").run(None)


def test_a_dns_name_for_the_metadata_service_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _resolve_to(monkeypatch, "metadata.example.test", "169.254.169.254")
    with pytest.raises(ActionException, match=r"metadata\.example\.test is 169\.254\.169\.254, in"):
        HTTPAction("http://metadata.example.test/latest/").run(None)


def test_only_allowed_addresses_of_a_name_are_connected_to(
    http_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A name answering with a denied address first: the allowed one is used, the denied one never.
    _resolve_to(monkeypatch, "mixed.example.test", "169.254.169.254", "127.0.0.1")
    port = urlsplit(http_url).port
    result = HTTPAction(f"http://mixed.example.test:{port}/ok", timeout=5).run(None)
    assert result["content"]["path"] == "/ok"


def test_a_proxy_in_a_denied_range_is_refused() -> None:
    action = HTTPAction("http://example.test/", proxies={"http": "http://169.254.169.254:3128"})
    with pytest.raises(ActionException, match=r"169\.254\.169\.254, in 169\.254\.0\.0/16"):
        action.run(None)


def test_a_socks_proxy_is_refused() -> None:
    action = HTTPAction("http://example.test/", proxies={"http": "socks5://127.0.0.1:1080"})
    with pytest.raises(ActionException, match="only http\\(s\\) proxies"):
        action.run(None)


def test_an_empty_deny_list_allows_everything(http_url: str) -> None:
    CONF.set_override("denied_networks", [], group="action_http")
    assert http_guard.denied_network("169.254.169.254") is None
    assert HTTPAction(f"{http_url}/x").run(None)["status"] == 200


def test_a_bad_deny_list_entry_names_the_option(http_url: str) -> None:
    CONF.set_override("denied_networks", ["not-a-network"], group="action_http")
    with pytest.raises(ActionException, match=r"\[action_http\] denied_networks has an entry"):
        HTTPAction(f"{http_url}/x").run(None)


def test_a_silent_server_times_out_with_the_default_timeout(silent_url: str) -> None:
    CONF.set_override("default_timeout", 0.3, group="action_http")
    started = time.monotonic()
    with pytest.raises(ActionException, match=r"timed out.*\[action_http\] default_timeout of 0\.3 s"):
        HTTPAction(silent_url).run(None)
    assert time.monotonic() - started < 5


def test_the_actions_own_timeout_wins(silent_url: str) -> None:
    CONF.set_override("default_timeout", 30, group="action_http")
    started = time.monotonic()
    with pytest.raises(ActionException, match="timed out") as exc:
        HTTPAction(silent_url, timeout=0.3).run(None)
    assert "default_timeout" not in str(exc.value)
    assert time.monotonic() - started < 5


def test_an_endless_response_is_cut_at_the_cap(flood_url: str) -> None:
    CONF.set_override("max_response_size", 1_000_000, group="action_http")
    with pytest.raises(
        ActionException, match=r"larger than \[action_http\] max_response_size \(1000000 bytes\)"
    ):
        HTTPAction(f"{flood_url}/big", timeout=5).run(None)


def test_an_endless_redirect_body_is_cut_at_the_cap(flood_url: str, http_url: str) -> None:
    CONF.set_override("max_response_size", 1_000_000, group="action_http")
    with pytest.raises(ActionException, match=r"max_response_size"):
        HTTPAction(f"{flood_url}/?status=302&redirect={http_url}/", timeout=5).run(None)


def test_a_response_under_the_cap_is_read_whole(http_url: str) -> None:
    CONF.set_override("max_response_size", 100_000, group="action_http")
    assert HTTPAction(f"{http_url}/?text=1").run(None)["content"] == "plain text"


@pytest.fixture
def https_url(tmp_path: Any) -> Iterator[tuple[str, str]]:
    """(an HTTPS URL on 127.0.0.1, the CA file that trusts it)."""
    cert, key = self_signed(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}", str(cert)
    server.shutdown()
    server.server_close()


def test_https_goes_through_the_guard_and_still_verifies(https_url: tuple[str, str]) -> None:
    url, ca_file = https_url
    assert HTTPAction(f"{url}/secure", verify=ca_file, timeout=5).run(None)["content"]["path"] == "/secure"
    with pytest.raises(ActionException, match="CERTIFICATE_VERIFY_FAILED"):
        HTTPAction(f"{url}/secure", timeout=5).run(None)
    CONF.set_override("denied_networks", ["127.0.0.0/8"], group="action_http")
    with pytest.raises(ActionException, match=r"refused: 127\.0\.0\.1 is 127\.0\.0\.1"):
        HTTPAction(f"{url}/secure", verify=ca_file, timeout=5).run(None)
