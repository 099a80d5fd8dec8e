"""The ``leitstand`` console command: a thin wrapper over Django's management commands.

``leitstand web | monitor | worker | run | catalog | scenarios | demo | bench`` and
every other Django command (``leitstand migrate``, ``leitstand createsuperuser``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    """Run a management command with Leitstand's settings."""
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leitstand.settings")
    if args[:2] == ["scenarios", "check"] and "LEITSTAND_DATABASE_URL" not in os.environ:
        # Checking a contract file must never write into the live catalog: it runs
        # in a private in-memory database that is migrated on the spot.
        os.environ["LEITSTAND_DATABASE_URL"] = "sqlite://:memory:"
        os.environ["LEITSTAND_SCENARIOS_MIGRATE"] = "1"
    # Imported late: the settings module must be chosen before Django is imported.
    scratch_benches = {"monitor", "billing", "alerting", "portal", "sla-watch"}
    if (
        len(args) >= 2
        and args[0] == "bench"
        and args[1] in scratch_benches
        and "LEITSTAND_DATABASE_URL" not in os.environ
    ):
        # Benchmarks create and delete thousands of rows: never in the live database.
        scratch = Path(tempfile.mkdtemp(prefix="leitstand-bench-")) / "bench.sqlite3"
        os.environ["LEITSTAND_DATABASE_URL"] = f"sqlite:///{scratch}"
    from django.core.management import execute_from_command_line  # noqa: PLC0415

    execute_from_command_line(["leitstand", *args])


if __name__ == "__main__":
    main()
