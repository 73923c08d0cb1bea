"""std.email's STARTTLS against a real SMTP server (aiosmtpd) with a self-signed certificate."""

from __future__ import annotations

import pathlib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from mistral_lib.exceptions import ActionException

from mistral.actions.email import SendEmailAction
from mistral.config import CONF
from tests.unit.actions.certs import self_signed
from tests.unit.actions.conftest import unused_port


@dataclass
class _Inbox:
    mails: list[Any] = field(default_factory=list)
    logins: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd
        self.mails.append(envelope)
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        self.logins.append(data.login)
        return AuthResult(success=data.password == b"pw")


@dataclass
class TLSServer:
    address: str
    cert: pathlib.Path
    inbox: _Inbox


@pytest.fixture
def tls_smtp(tmp_path: pathlib.Path) -> Iterator[TLSServer]:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = _Inbox()
    port = unused_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=inbox.authenticate,
    )
    controller.start()
    yield TLSServer(f"127.0.0.1:{port}", cert, inbox)
    controller.stop()
    CONF.clear_override("ca_file", group="action_email")


def _send(server: TLSServer) -> None:
    SendEmailAction(
        from_addr="wf@example.org",
        to_addrs="a@example.org",
        smtp_server=server.address,
        smtp_password="pw",
        subject="s",
        body="b",
    ).run(None)


def test_a_self_signed_certificate_is_refused_by_default(tls_smtp: TLSServer) -> None:
    with pytest.raises(ActionException) as exc:
        _send(tls_smtp)
    message = str(exc.value)
    assert "TLS certificate is not trusted (self-signed certificate)" in message
    assert "[action_email] ca_file" in message
    # Refused before the password left: no login, no mail.
    assert tls_smtp.inbox.logins == []
    assert tls_smtp.inbox.mails == []


def test_the_certificate_is_accepted_with_its_ca_configured(tls_smtp: TLSServer) -> None:
    CONF.set_override("ca_file", str(tls_smtp.cert), group="action_email")
    _send(tls_smtp)
    assert tls_smtp.inbox.logins == [b"wf@example.org"]
    (mail,) = tls_smtp.inbox.mails
    assert mail.rcpt_tos == ["a@example.org"]


def test_an_unreadable_ca_file_names_the_option(tls_smtp: TLSServer, tmp_path: pathlib.Path) -> None:
    CONF.set_override("ca_file", str(tmp_path / "missing.pem"), group="action_email")
    with pytest.raises(ActionException, match=r"Cannot read \[action_email\] ca_file"):
        _send(tls_smtp)
    assert tls_smtp.inbox.logins == []
