"""POP3: the server greets with ``+OK``, optionally with STLS (RFC 2595) or on
the implicit-TLS port 995 (RFC 8314).

Seed 003 §2 "Mailsystem (SMTP, POP3, IMAP ...)"; seed 002 §2.1 Priority 1
Services "E-mail server IMAP, POP3, SMTP".
"""

from __future__ import annotations

from leitstand.monitoring.checks.mailbox import MailboxCheck
from leitstand.monitoring.checks.registry import register


@register("pop3")
class Pop3Check(MailboxCheck):
    """Read the greeting, optionally upgrade with STLS and log in, QUIT."""

    protocol = "POP3"
    plain_port = 110
    tls_port = 995
    greeting_ok = ("+OK",)
    starttls_command = b"STLS\r\n"
    starttls_ok = "+OK"
    goodbye = b"QUIT\r\n"
    login_ok = "+OK"

    @classmethod
    def login_commands(cls, user: str, password: str) -> list[bytes]:
        # RFC 1939 USER/PASS: the rest of the line is the argument.
        return [f"USER {user}\r\n".encode("ascii"), f"PASS {password}\r\n".encode("ascii")]
