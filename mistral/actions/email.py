"""std.email: send a mail through an SMTP server."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from mistral_lib import actions
from mistral_lib.actions.context import ActionContext
from mistral_lib.exceptions import ActionException

from mistral.config import CONF

LOG = logging.getLogger(__name__)

# An unreachable server must not hold an executor worker forever.
SMTP_TIMEOUT = 60


class SendEmailAction(actions.Action):
    """Send an email message over SMTP."""

    def __init__(
        self,
        from_addr: str,
        to_addrs: str | list[str],
        smtp_server: str,
        reply_to: str | list[str] | None = None,
        cc_addrs: str | list[str] | None = None,
        bcc_addrs: str | list[str] | None = None,
        smtp_password: str | None = None,
        subject: str | None = None,
        body: str | None = None,
        html_body: str | None = None,
    ) -> None:
        self.from_addr = from_addr
        self.to_addrs = _addresses(to_addrs)
        if not self.to_addrs:
            raise ValueError("to_addrs must name at least one recipient")
        self.smtp_server = smtp_server
        self.reply_to = _addresses(reply_to)
        self.cc_addrs = _addresses(cc_addrs)
        self.bcc_addrs = _addresses(bcc_addrs)
        self.smtp_password = smtp_password
        self.subject = subject or ""
        self.body = body or ""
        self.html_body = html_body

    def run(self, context: ActionContext) -> None:
        msg = self._message()
        recipients = self.to_addrs + self.cc_addrs + self.bcc_addrs
        host, port = _host_port(self.smtp_server)
        LOG.debug("Sending email from %s to %d recipient(s) via %s", self.from_addr, len(recipients), host)
        try:
            with smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT) as smtp:
                if self.smtp_password:
                    # Never send the password in clear text, nor to a server that is not who it says.
                    smtp.starttls(context=tls_context())
                    smtp.login(self.from_addr, self.smtp_password)
                smtp.send_message(msg, from_addr=self.from_addr, to_addrs=recipients)
        except ssl.SSLCertVerificationError as exc:
            raise ActionException(
                f"Failed to send an email via {self.smtp_server}: its TLS certificate is not trusted "
                f"({exc.verify_message}); set [action_email] ca_file to the CA that signed it"
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise ActionException(f"Failed to send an email via {self.smtp_server}: {exc}") from exc
        return None

    def _message(self) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = self.subject
        msg["From"] = self.from_addr
        msg["To"] = ", ".join(self.to_addrs)
        if self.cc_addrs:
            msg["Cc"] = ", ".join(self.cc_addrs)
        if self.reply_to:
            msg["Reply-To"] = ", ".join(self.reply_to)
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = make_msgid()
        # Bcc stays out of the headers: only the envelope carries it.
        msg.set_content(self.body)
        if self.html_body:
            msg.add_alternative(self.html_body, subtype="html")
        return msg


def tls_context() -> ssl.SSLContext:
    """Verify the certificate and host name against [action_email] ca_file, or the system's CAs."""
    cafile = CONF.action_email.ca_file
    try:
        return ssl.create_default_context(cafile=cafile or None)
    except OSError as exc:
        raise ActionException(f"Cannot read [action_email] ca_file {cafile}: {exc}") from exc


def _addresses(value: str | list[str] | None) -> list[str]:
    """One address, a comma-separated string or a list, as a list."""
    if not value:
        return []
    if isinstance(value, str):
        return [a.strip() for a in value.split(",") if a.strip()]
    return [str(a) for a in value]


def _host_port(server: str) -> tuple[str, int]:
    """``host`` or ``host:port`` (port 25 by default)."""
    host, sep, port = server.rpartition(":")
    if sep and port.isdigit() and "]" not in port:
        return host.strip("[]"), int(port)
    return server.strip("[]"), 25
