"""``leitstand scenarios check FILE...``: see :mod:`leitstand.core.scenarios`."""

from __future__ import annotations

import os
from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from leitstand.core.scenarios import check_files


class Command(BaseCommand):
    help = "Answer the cases of scenario files with the platform's rules."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check", help="check scenario files")
        check.add_argument("files", nargs="+")

    def handle(self, *args: Any, **options: Any) -> None:
        if os.environ.get("LEITSTAND_SCENARIOS_MIGRATE") == "1":
            # The CLI chose a private in-memory database; give it the schema.
            call_command("migrate", verbosity=0, interactive=False)
        outcome = check_files(options["files"], self.stdout.write)
        if outcome.failed:
            raise SystemExit(1)
