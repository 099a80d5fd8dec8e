"""``leitstand worker``: background jobs (Django Tasks, database backend) and the
periodic steps of :mod:`leitstand.core.periodic` in a thread beside them."""

from __future__ import annotations

import threading
from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from leitstand.core.periodic import run_forever


class Command(BaseCommand):
    help = "Run background jobs until stopped."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--batch", action="store_true", help="run what is queued, then exit")
        parser.add_argument(
            "--no-periodic", action="store_true", help="only the task queue, no periodic steps"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        thread = None
        if not options["batch"] and not options["no_periodic"]:
            thread = threading.Thread(
                target=run_forever, args=(stop,), name="periodic", daemon=True
            )
            thread.start()
        extra = ["--batch"] if options["batch"] else []
        try:
            call_command("db_worker", "--queue-name=*", "--no-startup-delay", *extra)
        finally:
            stop.set()
            if thread is not None:
                thread.join(timeout=10)
