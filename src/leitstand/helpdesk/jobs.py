"""The helpdesk's periodic steps."""

from __future__ import annotations

from leitstand.core.periodic import periodic
from leitstand.helpdesk import actions


@periodic(every=5.0)
def monitoring_intake() -> int:
    """Turn new monitoring events into incidents."""
    return actions.process_new_events()


@periodic(every=60.0)
def imap_intake() -> int:
    """Fetch support mail from the IMAP mailbox in the setting ``HELPDESK_IMAP``
    (a dict of :class:`~leitstand.helpdesk.imap.ImapAccount` fields), if set."""
    from django.conf import settings  # noqa: PLC0415 - read at run time, tests override it

    from leitstand.helpdesk.imap import ImapAccount, poll_imap  # noqa: PLC0415

    config = getattr(settings, "HELPDESK_IMAP", None)
    if not config:
        return 0
    return poll_imap(ImapAccount(**config))
