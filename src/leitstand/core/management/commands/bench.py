"""``leitstand bench NAME [options]``: the benchmarks that measure the issues' figures.

Each benchmark prints human-readable lines and, last, one line of JSON with its
figures. A benchmark is a ``main(argv) -> int`` function registered below.
"""

from __future__ import annotations

import importlib
from argparse import REMAINDER, ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

BENCHMARKS = {
    "sla": "leitstand.sla.bench:main",
    "monitor": "leitstand.monitoring.bench:main",
    "billing": "leitstand.billing.bench:main",
    "helpdesk": "leitstand.helpdesk.bench:main",
    "alerting": "leitstand.alerting.bench:main",
    "portal": "leitstand.portal.bench:main",
    "sla-watch": "leitstand.helpdesk.sla_bench:main",
}


class Command(BaseCommand):
    help = "Run a benchmark: " + ", ".join(sorted(BENCHMARKS))

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name", choices=sorted(BENCHMARKS))
        parser.add_argument("bench_args", nargs=REMAINDER, metavar="ARGS")

    def handle(self, *args: Any, **options: Any) -> None:
        module_name, func_name = BENCHMARKS[options["name"]].split(":")
        main = getattr(importlib.import_module(module_name), func_name)
        status = main(list(options["bench_args"]))
        if status:
            raise CommandError(f"benchmark {options['name']} failed")
