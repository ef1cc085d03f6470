"""The only module that talks SMTP. Failures map to the connector error tree: a server
that cannot be reached or answers 4xx is Unavailable (retry later); a 5xx answer is
Rejected (a person must fix the address, the credentials or the server's policy)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from orderhub.connectors.base import Rejected, Unavailable
from orderhub.domain.alerts import Alert, make_digest

__all__ = ["EmailNotifier", "SmtpSettings", "build_message", "send_mail"]


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail; `recipients` get every digest."""

    host: str
    sender: str
    recipients: tuple[str, ...] = field(default_factory=tuple)
    port: int = 587
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True
    timeout: float = 10.0


def build_message(settings: SmtpSettings, alerts: Sequence[Alert]) -> EmailMessage:
    """The digest as a plain-text email."""
    digest = make_digest(alerts)
    message = EmailMessage()
    message["Subject"] = digest.subject
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="orderhub")
    message.set_content(digest.text)
    return message


def _rejected_or_unavailable(code: int, text: str) -> Rejected | Unavailable:
    if code >= 500:
        return Rejected(f"the mail server refused: {code} {text}", code=str(code))
    return Unavailable(f"the mail server deferred: {code} {text}")


def send_mail(settings: SmtpSettings, message: EmailMessage) -> None:
    """Deliver one message to the configured server."""
    if not settings.recipients:
        raise Rejected("no recipients for alert email", code="no_recipients")
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            smtp.send_message(message, to_addrs=list(settings.recipients))
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise _rejected_or_unavailable(
            min(codes, default=550), f"recipients refused: {', '.join(exc.recipients)}"
        ) from exc
    except smtplib.SMTPResponseException as exc:
        error = exc.smtp_error
        text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
        raise _rejected_or_unavailable(exc.smtp_code, text) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise Rejected(f"the mail server cannot do this: {exc}", code="not_supported") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise Unavailable(
            f"cannot reach the mail server {settings.host}:{settings.port}: {exc}"
        ) from exc


class EmailNotifier:
    """Sends each digest as one email."""

    channel = "email"

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, alerts: Sequence[Alert]) -> None:
        if alerts:
            send_mail(self.settings, build_message(self.settings, alerts))
