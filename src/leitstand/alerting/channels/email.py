"""E-mail through Django's SMTP backend.

Seed 001 §3.2: "Alarmierung per E-Mail und/oder SMS". The SMTP backend is
named explicitly rather than taken from ``EMAIL_BACKEND``: alarms must reach a
real mail server even where the site's own mail goes to the console, and the
reply codes are what tells a retry from a permanent failure.
"""

from __future__ import annotations

import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import BadHeaderError, EmailMessage, get_connection
from django.core.validators import validate_email

from leitstand.alerting.channels.base import (
    ConfigError,
    Message,
    SendResult,
    check_keys,
    text,
)
from leitstand.alerting.channels.registry import register

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
TIMEOUT_SECONDS = 15


def classify_smtp_error(error: Exception) -> SendResult:
    """Map what smtplib raised to retry or permanent (RFC 5321: 4xx transient, 5xx final)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        detail = f"recipient refused: {error.recipients}"
        if codes and all(500 <= code < 600 for code in codes):
            return SendResult.permanent(detail)
        return SendResult.retry(detail)
    if isinstance(error, smtplib.SMTPResponseException):
        code = error.smtp_code
        raw = error.smtp_error
        reason = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
        detail = f"SMTP {code} {reason}".strip()
        # SMTPConnectError carries -1 when no greeting came: the server is down.
        if 500 <= code < 600:
            return SendResult.permanent(detail)
        return SendResult.retry(detail)
    # SMTPServerDisconnected, ConnectionRefusedError, socket.timeout ...: the
    # server may come back.
    return SendResult.retry(f"{type(error).__name__}: {error}")


@register
@dataclass(frozen=True)
class EmailChannel:
    """One address; the message carries the idempotency key as its Message-ID."""

    kind: ClassVar[str] = "email"
    to: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Self:
        check_keys(config, {"to"})
        address = text(config, "to").strip()
        try:
            validate_email(address)
        except ValidationError:
            raise ConfigError(f"to: {address!r} is not an e-mail address") from None
        return cls(address)

    def send(self, message: Message) -> SendResult:
        sender: str = settings.DEFAULT_FROM_EMAIL
        domain = sender.rpartition("@")[2].strip("> ") or "leitstand.invalid"
        mail = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=sender,
            to=[self.to],
            headers={
                # The same Message-ID on every attempt lets mail clients and
                # ticket intake fold the duplicate a crash can cause.
                "Message-ID": f"<{message.idempotency_key}@{domain}>",
                "X-Leitstand-Kind": message.kind,
                # Vacation responders must not answer an alarm.
                "Auto-Submitted": "auto-generated",
            },
        )
        try:
            connection = get_connection(SMTP_BACKEND, fail_silently=False, timeout=TIMEOUT_SECONDS)
            connection.send_messages([mail])
        except BadHeaderError as error:
            return SendResult.permanent(f"bad header: {error}")
        except (smtplib.SMTPException, OSError) as error:
            return classify_smtp_error(error)
        return SendResult.ok(f"accepted for {self.to}")
