"""``leitstand demo``: a demo provider with three customers, ready to click through.

The catalog holds the five seed providers' offers; the customers' checks point
at services on this machine (the web site itself, PostgreSQL, MariaDB, Redis,
RabbitMQ) so that the monitoring engine has something real to watch. Loading
twice changes nothing: everything is looked up by its natural key first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from leitstand.accounts.models import User
from leitstand.contracts.catalog import LoadReport, load_file
from leitstand.contracts.models import (
    AddOn,
    Asset,
    Contact,
    Contract,
    Customer,
    Plan,
    VerifiedEmail,
)
from leitstand.monitoring.models import Check

CATALOG = Path(__file__).parent / "demo_data" / "catalog.yaml"

STAFF_LOGIN = "admin"
STAFF_PASSWORD = "leitstand-admin"  # noqa: S105 - a demo password, printed on purpose
CUSTOMER_PASSWORD = "leitstand-demo"  # noqa: S105


@dataclass(frozen=True)
class DemoCustomer:
    number: str
    name: str
    city: str
    login: str
    contact: str
    email: str
    asset: str
    hostnames: tuple[str, ...]
    plan: str
    addons: tuple[str, ...]
    checks: tuple[tuple[str, str, dict[str, Any], str], ...]
    sla_policy: str | None = None


CUSTOMERS = (
    DemoCustomer(
        number="C10001",
        name="Bäckerei Sonnenschein GmbH",
        city="Amsterdam",
        login="anna",
        contact="Anna Becker",
        email="anna@sonnenschein.example",
        asset="web01",
        hostnames=("web01.sonnenschein.example",),
        plan="webosa-managed",
        addons=(),
        checks=(
            ("Web site (HTTP)", "http", {"url": "http://127.0.0.1:8000/healthz"}, "P1"),
            (
                "PostgreSQL",
                "postgresql",
                {"host": "127.0.0.1", "port": 5432, "user": "postgres"},
                "P1",
            ),
            ("Ping", "icmp", {"host": "127.0.0.1"}, "P1"),
        ),
    ),
    DemoCustomer(
        number="C10002",
        name="Kanzlei Weber & Partner",
        city="Berlin",
        login="jonas",
        contact="Jonas Weber",
        email="jonas@weber-partner.example",
        asset="kanzlei-vm01",
        hostnames=("vm01.weber-partner.example",),
        plan="msp-advanced",
        addons=(),
        checks=(
            ("MariaDB", "mysql", {"host": "127.0.0.1", "port": 3306, "user": "root"}, "P1"),
            ("Redis (TCP)", "tcp", {"host": "127.0.0.1", "port": 6379}, "P2"),
        ),
    ),
    DemoCustomer(
        number="C10003",
        name="Stadtwerke Nordhafen",
        city="Stuttgart",
        login="lena",
        contact="Lena Hoffmann",
        email="lena@stadtwerke-nordhafen.example",
        asset="portal01",
        hostnames=("portal.stadtwerke-nordhafen.example",),
        plan="it-hafen-managed",
        addons=("smartsupport",),
        checks=(
            ("Web site (HTTP)", "http", {"url": "http://127.0.0.1:8000/"}, "P1"),
            ("RabbitMQ (TCP)", "tcp", {"host": "127.0.0.1", "port": 5672}, "P2"),
        ),
    ),
)


def load_demo() -> LoadReport:
    """Create (or leave as they are) the demo catalog, customers and logins."""
    with transaction.atomic():
        report = load_file(CATALOG)
        _staff()
        for spec in CUSTOMERS:
            _customer(spec)
    return report


def _staff() -> None:
    if not User.objects.filter(username=STAFF_LOGIN).exists():
        User.objects.create_superuser(
            STAFF_LOGIN,
            "admin@leitstand.example",
            STAFF_PASSWORD,
            first_name="Demo",
            last_name="Admin",
        )


def _customer(spec: DemoCustomer) -> None:
    customer, _ = Customer.objects.get_or_create(
        number=spec.number, defaults={"name": spec.name, "city": spec.city}
    )
    contact, created = Contact.objects.get_or_create(
        customer=customer,
        name=spec.contact,
        defaults={
            "may_order_paid_work": True,
            "is_technical": True,
            "is_billing": True,
            "receives_alarms": True,
        },
    )
    VerifiedEmail.objects.get_or_create(
        contact=contact, address=spec.email, defaults={"verified_at": timezone.now()}
    )
    if not User.objects.filter(customer=customer, login=spec.login).exists():
        user = User(customer=customer, login=spec.login, email=spec.email)
        first, _, last = spec.contact.partition(" ")
        user.first_name, user.last_name = first, last
        user.set_password(CUSTOMER_PASSWORD)
        user.save()
    asset, _ = Asset.objects.get_or_create(
        customer=customer,
        name=spec.asset,
        defaults={
            "kind": Asset.Kind.VM,
            "hostnames": list(spec.hostnames),
            "addresses": ["127.0.0.1"],
        },
    )
    plan = Plan.objects.get(name=spec.plan)
    contract, created = Contract.objects.get_or_create(
        asset=asset,
        plan=plan,
        defaults={"starts_on": date(2026, 1, 1), "reference": f"{spec.number}-1"},
    )
    if created and spec.addons:
        contract.addons.set(AddOn.objects.filter(plan=plan, code__in=spec.addons))
    for name, kind, params, priority in spec.checks:
        Check.objects.get_or_create(
            asset=asset, name=name, defaults={"kind": kind, "params": params, "priority": priority}
        )


def login_banner(url: str) -> str:
    """How to log in, for ``make run``; mentions only what exists."""
    lines = [f"Leitstand is running at {url}", ""]
    if User.objects.filter(username=STAFF_LOGIN).exists():
        lines.append(
            f"  Back office:     user {STAFF_LOGIN!r}, password {STAFF_PASSWORD!r} "
            "(leave the customer number empty)"
        )
    else:
        lines.append("  Back office:     create a login with `leitstand createsuperuser`")
    for spec in CUSTOMERS:
        if User.objects.filter(customer__number=spec.number, login=spec.login).exists():
            lines.append(
                f"  Customer portal: customer number {spec.number!r}, user {spec.login!r}, "
                f"password {CUSTOMER_PASSWORD!r}  ({spec.name})"
            )
    lines += ["", "Press Ctrl-C to stop.", ""]
    return "\n".join(lines)
