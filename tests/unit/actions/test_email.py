from __future__ import annotations

import email
import ssl
from email.message import Message

import pytest
from mistral_lib.exceptions import ActionException

from mistral.actions import email as email_action
from mistral.actions.email import SendEmailAction
from tests.unit.actions.conftest import Mail, unused_port


def _parse(mail: Mail) -> Message:
    return email.message_from_string(mail.data)


def test_sends_plain_mail(smtp_server: tuple[str, list[Mail]]) -> None:
    address, mails = smtp_server
    action = SendEmailAction(
        from_addr="wf@example.org",
        to_addrs=["a@example.org", "b@example.org"],
        smtp_server=address,
        subject="Done",
        body="All tasks finished.",
    )
    assert action.run(None) is None
    (mail,) = mails
    assert mail.sender == "wf@example.org"
    assert mail.recipients == ["a@example.org", "b@example.org"]
    msg = _parse(mail)
    assert msg["Subject"] == "Done"
    assert msg["From"] == "wf@example.org"
    assert msg["To"] == "a@example.org, b@example.org"
    assert msg.get_payload().strip() == "All tasks finished."


def test_cc_bcc_and_reply_to(smtp_server: tuple[str, list[Mail]]) -> None:
    address, mails = smtp_server
    SendEmailAction(
        from_addr="wf@example.org",
        to_addrs="a@example.org",
        smtp_server=address,
        cc_addrs="c@example.org",
        bcc_addrs=["hidden@example.org"],
        reply_to="ops@example.org",
    ).run(None)
    (mail,) = mails
    assert mail.recipients == ["a@example.org", "c@example.org", "hidden@example.org"]
    msg = _parse(mail)
    assert msg["Cc"] == "c@example.org"
    assert msg["Reply-To"] == "ops@example.org"
    # Bcc recipients get the mail without the others learning of them.
    assert msg["Bcc"] is None
    assert "hidden@example.org" not in mail.data


def test_html_body_makes_an_alternative(smtp_server: tuple[str, list[Mail]]) -> None:
    address, mails = smtp_server
    SendEmailAction(
        from_addr="wf@example.org",
        to_addrs="a@example.org",
        smtp_server=address,
        body="plain",
        html_body="<p>rich</p>",
    ).run(None)
    msg = _parse(mails[0])
    assert msg.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part.get_payload().strip() for part in msg.get_payload()}
    assert parts == {"text/plain": "plain", "text/html": "<p>rich</p>"}


def test_no_recipient_is_an_error() -> None:
    with pytest.raises(ValueError, match="to_addrs"):
        SendEmailAction(from_addr="wf@example.org", to_addrs=[], smtp_server="127.0.0.1")


def test_unreachable_server_raises_action_exception() -> None:
    server = f"127.0.0.1:{unused_port()}"
    action = SendEmailAction(from_addr="wf@example.org", to_addrs="a@example.org", smtp_server=server)
    with pytest.raises(ActionException, match=f"Failed to send an email via {server}"):
        action.run(None)


class _RecordingSMTP:
    """Stands in for smtplib.SMTP to check the TLS and login sequence."""

    calls: list[tuple] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.calls.append(("connect", host, port))

    def __enter__(self) -> _RecordingSMTP:
        return self

    def __exit__(self, *exc: object) -> None:
        self.calls.append(("quit",))

    def starttls(self, context: ssl.SSLContext) -> None:
        verifies = context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        self.calls.append(("starttls", "verified" if verifies else "unverified"))

    def login(self, user: str, password: str) -> None:
        self.calls.append(("login", user, password))

    def send_message(self, msg: Message, from_addr: str, to_addrs: list[str]) -> None:
        self.calls.append(("send", from_addr, to_addrs))


def test_password_means_starttls_then_login(monkeypatch: pytest.MonkeyPatch) -> None:
    _RecordingSMTP.calls = []
    monkeypatch.setattr(email_action.smtplib, "SMTP", _RecordingSMTP)
    SendEmailAction(
        from_addr="wf@example.org",
        to_addrs="a@example.org",
        smtp_server="mail.example.org:587",
        smtp_password="pw",
    ).run(None)
    assert _RecordingSMTP.calls == [
        ("connect", "mail.example.org", 587),
        ("starttls", "verified"),
        ("login", "wf@example.org", "pw"),
        ("send", "wf@example.org", ["a@example.org"]),
        ("quit",),
    ]


@pytest.mark.parametrize(
    ("server", "expected"),
    [("smtp.example.org", ("smtp.example.org", 25)), ("h:2525", ("h", 2525)), ("[::1]:26", ("::1", 26))],
)
def test_host_port(server: str, expected: tuple[str, int]) -> None:
    assert email_action._host_port(server) == expected
