"""``leitstand bench sla-watch``: one pass of the SLA warning step over N open tickets.

Builds N open tickets on the Webosa plan (P1 clock hours and P2 business
hours, opened over the last eight hours, a tenth of them waiting for the
customer) in a scratch database (bulk inserts, not timed), then times
:func:`leitstand.helpdesk.sla_watch.watch`: the first pass, which writes the
warnings and escalations due (with their alerts and outbox rows), and a second
pass a minute later, the steady state the worker repeats every minute.
The last line is JSON: ``{"tickets": ..., "notices": ..., "first_pass_s": ...,
"steady_pass_s": ..., "tickets_per_s": ...}``.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, date, datetime, timedelta

from django.core.management import call_command
from django.db import transaction

from leitstand.accounts.models import User
from leitstand.alerting.models import Channel, EscalationLevel, EscalationPolicy, Notification
from leitstand.contracts.catalog import load_file
from leitstand.contracts.models import Asset, Contract, Customer, Plan
from leitstand.core.demo import CATALOG
from leitstand.helpdesk.models import SlaNotice, Ticket, WaitingPeriod
from leitstand.helpdesk.sla_watch import watch

NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # a Tuesday afternoon


def build(tickets: int) -> None:
    """One customer per 10 tickets, each with a server on the Webosa plan."""
    load_file(CATALOG)
    plan = Plan.objects.get(name="webosa-managed")
    duty, _ = User.objects.get_or_create(
        username="bench-duty", defaults={"is_staff": True, "email": "duty@provider.example"}
    )
    Channel.objects.get_or_create(user=duty, kind="email", config={"to": "duty@provider.example"})
    policy, _ = EscalationPolicy.objects.get_or_create(name="bench", defaults={"is_default": True})
    EscalationLevel.objects.get_or_create(policy=policy, number=1, defaults={"user": duty})
    customers = max(1, tickets // 10)
    with transaction.atomic():
        Customer.objects.bulk_create(
            Customer(number=f"S{i:07d}", name=f"Customer {i}") for i in range(customers)
        )
        ids = list(Customer.objects.filter(number__startswith="S").values_list("pk", flat=True))
        Asset.objects.bulk_create(Asset(customer_id=c, name="server") for c in ids)
        assets = dict(Asset.objects.filter(customer_id__in=ids).values_list("customer_id", "pk"))
        Contract.objects.bulk_create(
            Contract(asset_id=assets[c], plan=plan, starts_on=date(2026, 1, 1)) for c in ids
        )
        contracts = dict(
            Contract.objects.filter(asset__customer_id__in=ids).values_list(
                "asset__customer_id", "pk"
            )
        )
        Ticket.objects.bulk_create(
            (
                Ticket(
                    number=f"S-{n:08d}",
                    customer_id=ids[n % len(ids)],
                    asset_id=assets[ids[n % len(ids)]],
                    contract_id=contracts[ids[n % len(ids)]],
                    kind="incident",
                    priority="P1" if n % 2 else "P2",
                    status="waiting" if n % 10 == 0 else "open",
                    channel="portal",
                    subject="bench",
                    # spread over the last 8 hours: some fine, some due, some breached
                    created_at=NOW - timedelta(seconds=(n * 7919) % (8 * 3600)),
                )
                for n in range(tickets)
            ),
            batch_size=5000,
        )
        waiting = Ticket.objects.filter(number__startswith="S-", status="waiting")
        WaitingPeriod.objects.bulk_create(
            (
                WaitingPeriod(ticket_id=pk, started_at=created + timedelta(minutes=10))
                for pk, created in waiting.values_list("pk", "created_at")
            ),
            batch_size=5000,
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="leitstand bench sla-watch")
    parser.add_argument("--tickets", type=int, default=10_000, help="open tickets with clocks")
    args = parser.parse_args(argv)
    call_command("migrate", verbosity=0, interactive=False)
    start = time.perf_counter()
    build(args.tickets)
    print(f"data: {args.tickets} open tickets ({time.perf_counter() - start:.1f} s, not counted)")
    start = time.perf_counter()
    written = watch(NOW)
    first = time.perf_counter() - start
    print(f"first pass: {written} notices in {first:.2f} s")
    start = time.perf_counter()
    again = watch(NOW + timedelta(minutes=1))
    steady = time.perf_counter() - start
    print(
        f"steady pass: {again} new notices in {steady:.2f} s "
        f"({args.tickets / steady:.0f} tickets/s)"
    )
    assert SlaNotice.objects.count() == written + again
    print(
        json.dumps(
            {
                "tickets": args.tickets,
                "notices": written + again,
                "notifications": Notification.objects.count(),
                "first_pass_s": round(first, 2),
                "steady_pass_s": round(steady, 2),
                "tickets_per_s": round(args.tickets / steady),
            }
        )
    )
    return 0
