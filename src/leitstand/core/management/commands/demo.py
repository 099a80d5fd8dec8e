"""``leitstand demo``: see :mod:`leitstand.core.demo`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from leitstand.core.demo import load_demo


class Command(BaseCommand):
    help = "Load the demo provider, customers and logins (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = load_demo()
        self.stdout.write(f"Demo data ready (catalog: {report.summary()}).")
