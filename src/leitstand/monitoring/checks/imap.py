"""IMAP: the server greets with ``* OK`` (or ``* PREAUTH``), optionally with
STARTTLS (RFC 3501) or on the implicit-TLS port 993 (RFC 8314).

Seed 003 §2 "Mailsystem (SMTP, POP3, IMAP ...)"; seed 002 §2.1 Priority 1
Services "E-mail server IMAP, POP3, SMTP".
"""

from __future__ import annotations

from leitstand.monitoring.checks.mailbox import MailboxCheck
from leitstand.monitoring.checks.registry import register


@register("imap")
class ImapCheck(MailboxCheck):
    """Read the greeting, optionally upgrade with STARTTLS and LOGIN, LOGOUT."""

    protocol = "IMAP"
    plain_port = 143
    tls_port = 993
    greeting_ok = ("* OK", "* PREAUTH")
    starttls_command = b"a1 STARTTLS\r\n"
    starttls_ok = "a1 OK"
    goodbye = b"a2 LOGOUT\r\n"
    login_ok = "a3 OK"

    @classmethod
    def login_commands(cls, user: str, password: str) -> list[bytes]:
        # RFC 3501 quoted strings: backslash and double quote are escaped;
        # fields.login has already refused CR, LF and anything not ASCII.
        return [f"a3 LOGIN {_quoted(user)} {_quoted(password)}\r\n".encode("ascii")]


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
