"""``leitstand run``: see :mod:`leitstand.core.supervisor`."""

from __future__ import annotations

import threading
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from leitstand.core.demo import login_banner
from leitstand.core.supervisor import Part, command, install_stop_handlers, supervise


class Command(BaseCommand):
    help = "Run web, monitor and worker together until Ctrl-C."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000", help="address:port of the web site")

    def handle(self, *args: Any, **options: Any) -> None:
        bind = options["bind"]
        self.stdout.write(login_banner(f"http://{bind}/"))
        stop = threading.Event()
        install_stop_handlers(stop)
        parts = [
            Part("web", command("web", "--bind", bind)),
            Part("monitor", command("monitor")),
            Part("worker", command("worker")),
        ]
        supervise(parts, stop)
        self.stdout.write("Leitstand stopped.")
