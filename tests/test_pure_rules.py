"""The rule modules stay pure: they import without Django.

DESIGN.md: "Each domain app keeps its rules in a pure module ... that takes plain
values and returns plain values". The tickets, the invoices and ``leitstand
scenarios check`` call the same modules; this test keeps a stray model import
from creeping into them. It runs in a fresh interpreter in which importing
Django fails, so anything that pulls Django in, however indirectly, shows up.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

PURE = [
    "leitstand.lib.durations",
    "leitstand.lib.money",
    "leitstand.lib.validation",
    "leitstand.lib.versions",
    "leitstand.sla.calendar",
    "leitstand.sla.deadlines",
    "leitstand.billing.charges",
    "leitstand.billing.invoicing",
    "leitstand.reports.availability",
    "leitstand.reports.claims",
    "leitstand.backups.retention",
    "leitstand.maintenance.windows",
    "leitstand.maintenance.updates",
    "leitstand.operations.intervention",
    "leitstand.operations.licences",
    "leitstand.operations.process_policy",
    "leitstand.operations.restart_policy",
    "leitstand.helpdesk.rules",
    "leitstand.monitoring.states",
]

HARNESS = textwrap.dedent(
    """
    import importlib, sys

    class NoDjango:
        def find_spec(self, name, path=None, target=None):
            if name == "django" or name.startswith("django."):
                raise ImportError(f"imports {name}")
            return None

    sys.meta_path.insert(0, NoDjango())
    for name in sys.argv[1:]:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            print(f"{name}: {exc}")
    """
)


def impure(modules: list[str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", HARNESS, *modules],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.splitlines()


def test_rule_modules_import_without_django() -> None:
    assert impure(PURE) == []


@pytest.mark.parametrize("module", ["leitstand.sla.models", "leitstand.billing.documents"])
def test_the_harness_catches_a_module_that_needs_django(module: str) -> None:
    (line,) = impure([module])
    assert line.startswith(f"{module}: imports django")
