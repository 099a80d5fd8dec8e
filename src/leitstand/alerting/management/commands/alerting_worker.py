"""``leitstand alerting_worker``: process events, escalate, deliver notifications."""

from __future__ import annotations

import signal
import threading
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from leitstand.alerting import worker


class Command(BaseCommand):
    help = "Process check events, escalate alerts and deliver notifications until stopped."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--once", action="store_true", help="run until idle, then exit")
        parser.add_argument("--id", default=None, help="worker id shown in claimed leases")

    def handle(self, *args: Any, **options: Any) -> None:
        worker_id = options["id"] or worker.default_worker_id()
        if options["once"]:
            worker.run_until_idle(worker_id)
            return
        stop = threading.Event()
        # Finish the current send and record it, then exit: a lease left
        # behind would only delay that notification until the lease expires.
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        worker.run(worker_id, stop)
