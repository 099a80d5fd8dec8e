"""Fetching support mail from an IMAP mailbox, one step at a time.

Nothing is deleted from the mailbox before the ticket is committed: each mail
is fetched with ``BODY.PEEK[]`` (it stays unread), handed to
:func:`leitstand.helpdesk.inbound.receive`, which stores and commits it, and
only then flagged ``\\Deleted`` (or moved to the processed folder). A crash in
between fetches the mail again next time; ``receive`` recognises it by its
Message-ID and stores nothing twice.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import ssl
from dataclasses import dataclass
from typing import Any, Literal

from leitstand.helpdesk import inbound

log = logging.getLogger(__name__)

Security = Literal["ssl", "starttls", "plain"]


@dataclass(frozen=True)
class ImapAccount:
    """Where to fetch from (settings ``HELPDESK_IMAP`` holds these keys)."""

    host: str
    port: int
    user: str
    password: str
    security: Security = "ssl"
    folder: str = "INBOX"
    processed_folder: str = ""  # "": delete after processing


def _connect(account: ImapAccount, context: ssl.SSLContext | None) -> imaplib.IMAP4:
    if account.security == "ssl":
        return imaplib.IMAP4_SSL(
            account.host,
            account.port,
            ssl_context=context or ssl.create_default_context(),
            timeout=30,
        )
    conn = imaplib.IMAP4(account.host, account.port, timeout=30)
    if account.security == "starttls":
        conn.starttls(ssl_context=context or ssl.create_default_context())
    return conn


def _check(result: tuple[str, list[Any]], what: str) -> list[Any]:
    typ, data = result
    if typ != "OK":
        raise imaplib.IMAP4.error(f"{what}: {typ} {data!r}")
    return data


def _raw_message(data: list[Any]) -> bytes | None:
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def poll_imap(
    account: ImapAccount,
    *,
    limit: int = 50,
    ssl_context: ssl.SSLContext | None = None,
    mailbox: inbound.Mailbox | None = None,
) -> int:
    """Fetch up to ``limit`` mails, store each, then remove it from the folder.

    Returns how many mails were handled. If storing fails (the database is
    down), the mail stays in the folder and the step stops.
    """
    conn = _connect(account, ssl_context)
    handled = 0
    try:
        conn.login(account.user, account.password)
        _check(conn.select(_quote(account.folder)), "SELECT")
        uids = _check(conn.uid("SEARCH", "UNDELETED"), "SEARCH")
        source = f"imap://{account.user}@{account.host}/{account.folder}"
        found = uids[0].decode() if isinstance(uids[0], bytes) else ""
        for uid in found.split()[:limit]:
            raw = _raw_message(_check(conn.uid("FETCH", uid, "(BODY.PEEK[])"), "FETCH"))
            if raw is None:
                continue  # expunged by someone else meanwhile
            outcome = inbound.receive(raw, mailbox=mailbox, source=source)
            log.info("imap %s uid %s: %s", account.folder, uid, outcome.line())
            # Committed: now, and only now, the mail may leave the folder.
            if account.processed_folder:
                _check(conn.uid("COPY", uid, _quote(account.processed_folder)), "COPY")
            _check(conn.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)"), "STORE")
            handled += 1
        if handled:
            conn.expunge()
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            conn.logout()
    return handled


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
