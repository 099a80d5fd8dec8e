"""``leitstand catalog load FILE... | dump [-o FILE]``."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from leitstand.contracts.catalog import CatalogError, dump_yaml, load_file


class Command(BaseCommand):
    help = "Load the provider's catalog from YAML files, or dump it."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="validate and upsert catalog files")
        load.add_argument("files", nargs="+")
        dump = sub.add_parser("dump", help="write the catalog as YAML")
        dump.add_argument("-o", "--output", help="file to write (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "dump":
            text = dump_yaml()
            if options["output"]:
                with open(options["output"], "w", encoding="utf-8") as fh:
                    fh.write(text)
            else:
                sys.stdout.write(text)
            return
        for path in options["files"]:
            try:
                report = load_file(path)
            except CatalogError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"{path}: {report.summary()}")
