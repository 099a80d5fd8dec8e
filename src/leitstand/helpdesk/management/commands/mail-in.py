"""``leitstand mail-in``: one mail from standard input, for an MTA pipe.

Postfix ``master.cf``/``aliases``: ``support: "|/usr/bin/leitstand mail-in"``.
Exit 0 once the mail is stored as a ticket, a follow-up or a quarantined
record (one line on standard output says which); exit 75 (EX_TEMPFAIL) when
nothing could be stored, so that the MTA keeps the mail and tries again.
The file name carries the hyphen: Django names a command after its module.
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from leitstand.helpdesk import inbound

EX_TEMPFAIL = 75  # sysexits.h: the MTA defers and retries


class Command(BaseCommand):
    help = "Store one e-mail from standard input as a ticket, a follow-up or in the quarantine."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--source", default="mail-in", help="recorded with the mail")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = sys.stdin.buffer.read()
        try:
            outcome = inbound.receive(raw, source=options["source"])
        except Exception as exc:  # the database is down or refuses: let the MTA retry
            self.stderr.write(f"not stored, try again later: {type(exc).__name__}: {exc}")
            sys.exit(EX_TEMPFAIL)
        self.stdout.write(outcome.line())
