"""``leitstand web``: the Django site (back office, portal, APIs).

The embedded server is Django's own, threaded; production deployments put a
WSGI server (``leitstand.wsgi:application``) behind a reverse proxy.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from leitstand.core import heap


class Command(BaseCommand):
    help = "Serve the web site."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000", help="address:port")

    def handle(self, *args: Any, **options: Any) -> None:
        heap.settle()
        call_command(
            "runserver",
            options["bind"],
            use_reloader=False,
            insecure_serving=True,
            skip_checks=False,
        )
