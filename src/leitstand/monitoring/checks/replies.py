"""Numbered replies as SMTP (RFC 5321 §4.2) and FTP (RFC 959 §4.2) send them:
``220-first line``, ``220 last line``.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from leitstand.monitoring.checks.base import one_line, printable, read_until

_LINE = re.compile(rb"^(\d{3})(?:([ -])(.*))?$")


class ReplyError(ValueError):
    """The peer's answer is not a reply (RFC 5321 §4.2, RFC 959 §4.2)."""


@dataclass(frozen=True)
class Reply:
    """One reply: a code and its text lines."""

    code: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        """``"220 mail.example ESMTP"``: code and first line for a summary."""
        return one_line(f"{self.code} {self.lines[0]}" if self.lines[0] else str(self.code))

    @property
    def extensions(self) -> frozenset[str]:
        """EHLO keywords (``STARTTLS``, ``SIZE``, ...) from lines after the greeting."""
        return frozenset(line.split()[0].upper() for line in self.lines[1:] if line.split())


def parse_reply(data: bytes, *, lenient: bool = False) -> Reply | None:
    """A complete reply from the start of ``data``, or None while incomplete;
    ``ReplyError`` when a line is no reply line or codes disagree. ``lenient``
    (FTP, RFC 959 §4.2) lets the inner lines of a multi-line reply be free text.
    """
    code: bytes | None = None
    lines: list[str] = []
    *complete, _ = data.split(b"\n")
    for raw_line in complete:
        line = raw_line.rstrip(b"\r")
        match = _LINE.match(line)
        if match is None or (code is not None and match.group(1) != code):
            if lenient and code is not None:
                lines.append(line.decode("utf-8", errors="replace"))
                continue
            raise ReplyError(f"got {printable(data)}")
        code = match.group(1)
        lines.append((match.group(3) or b"").decode("utf-8", errors="replace"))
        if match.group(2) != b"-":
            return Reply(int(code), tuple(lines))
    return None


async def read_reply(reader: asyncio.StreamReader, *, lenient: bool = False) -> Reply:
    """Read one reply (at most a few KiB); ``ReplyError`` when there is none."""

    def complete(data: bytes) -> bool:
        try:
            return parse_reply(data, lenient=lenient) is not None
        except ReplyError:
            return True

    data = await read_until(reader, complete)
    reply = parse_reply(data, lenient=lenient)
    if reply is not None:
        return reply
    if not data:
        raise ReplyError("connection closed without a word")
    raise ReplyError(f"incomplete reply {printable(data)}")
