"""Local servers (HTTP, SMTP, SSH) on 127.0.0.1 and registry isolation for the action tests."""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from mistral.actions import registry
from mistral.config import CONF
from tests.unit.actions import ssh_server


def unused_port() -> int:
    """A port on 127.0.0.1 nobody listens on (free when asked; a race is very unlikely)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # A proxy from the environment would send our 127.0.0.1 requests elsewhere.
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    registry.reset_cache()
    yield
    CONF.clear_override("load_action_plugins", group="legacy_action_provider")
    CONF.clear_override("only_builtin_actions", group="legacy_action_provider")
    CONF.clear_override("allowlist", group="legacy_action_provider")
    CONF.clear_override("denylist", group="legacy_action_provider")
    registry.reset_cache()


class _EchoHandler(BaseHTTPRequestHandler):
    """Answers every request with JSON describing it.

    Query options: ``status=N`` sets the status, ``text=1`` answers plain text,
    ``redirect=PATH`` answers 302 to PATH.
    """

    def _answer(self) -> None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        if "redirect" in query:
            self.send_response(302)
            self.send_header("Location", query["redirect"])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        info = {
            "method": self.command,
            "path": self.path,
            "headers": dict(self.headers.items()),
            "body": body,
        }
        text = "plain text" if "text" in query else json.dumps(info)
        payload = text.encode()
        self.send_response(int(query.get("status", 200)))
        self.send_header("Content-Type", "text/plain" if "text" in query else "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Set-Cookie", "flavor=oat")
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@dataclass
class Mail:
    sender: str = ""
    recipients: list[str] = field(default_factory=list)
    data: str = ""


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO, MAIL, RCPT, DATA, QUIT; no extensions."""

    def _reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        mail = Mail()
        self._reply("220 test ESMTP")
        for raw in self.rfile:
            verb, _, arg = raw.decode().rstrip("\r\n").partition(" ")
            verb = verb.upper()
            if verb in ("EHLO", "HELO", "RSET", "NOOP"):
                self._reply("250 test")
            elif verb == "MAIL":
                mail.sender = arg.split(":", 1)[1].split()[0].strip("<>")
                self._reply("250 OK")
            elif verb == "RCPT":
                mail.recipients.append(arg.split(":", 1)[1].strip().strip("<>"))
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 go ahead")
                lines = []
                for data_line in self.rfile:
                    if data_line == b".\r\n":
                        break
                    lines.append(
                        data_line.decode()[1:] if data_line.startswith(b"..") else data_line.decode()
                    )
                mail.data = "".join(lines)
                self.server.mails.append(mail)  # type: ignore[attr-defined]
                mail = Mail()
                self._reply("250 queued")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("502 not implemented")


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, list[Mail]]]:
    """(``host:port``, the list the server appends each received mail to)."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.mails = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", server.mails  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


@pytest.fixture
def sshd() -> Iterator[ssh_server.FakeSSHServer]:
    server = ssh_server.FakeSSHServer()
    yield server
    server.close()
