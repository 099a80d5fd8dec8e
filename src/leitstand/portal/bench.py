"""``leitstand bench portal``: the portal overview for a big customer.

Issue 8: "Dashboard p95 under 200 ms for a customer with 500 services and 10,000
tickets". Builds, in a scratch database (``leitstand bench`` never touches the
live one), one customer with N services (checks with a confirmed state and
recent results) on several servers under the Webosa SLA, M tickets of which a
share is open with running, waiting and breached clocks, plus other customers'
data around it. Then requests the real overview view through Django's test
client as that customer's logged-in user and prints the latency percentiles.

The last line is JSON: ``{"services": ..., "tickets": ..., "dashboard_p95_ms": ...}``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import date, datetime, timedelta

from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

from leitstand.accounts.models import User
from leitstand.contracts.catalog import load_file
from leitstand.contracts.models import Asset, Contract, Customer, Plan
from leitstand.core import heap
from leitstand.core.demo import CATALOG
from leitstand.helpdesk.models import Ticket, WaitingPeriod
from leitstand.maintenance.models import PlannedWork
from leitstand.monitoring.models import Check, CheckResult, CheckStatus

STATES = ("ok",) * 17 + ("warning", "critical", "unknown")
RESULTS_PER_CHECK = 5


def build_customer(
    number: str, *, services: int, tickets: int, open_tickets: int, per_asset: int, now: datetime
) -> Customer:
    """One customer: ``services`` checks on servers of ``per_asset`` each, ``tickets``
    tickets of which ``open_tickets`` are open (P1/P2, some waiting for the customer)."""
    plan = Plan.objects.get(name="webosa-managed")
    customer = Customer.objects.create(number=number, name=f"Customer {number}")
    servers = max(1, -(-services // per_asset))
    Asset.objects.bulk_create(
        Asset(customer=customer, name=f"srv-{i:03d}", hostnames=[f"srv-{i:03d}.example"])
        for i in range(servers)
    )
    assets = list(customer.assets.order_by("name"))
    Contract.objects.bulk_create(
        Contract(asset=a, plan=plan, starts_on=date(2025, 1, 1)) for a in assets
    )
    contracts = dict(Contract.objects.filter(asset__customer=customer).values_list("asset", "pk"))
    Check.objects.bulk_create(
        Check(asset=assets[i % servers], name=f"service-{i:04d}", kind="tcp", params={})
        for i in range(services)
    )
    checks = list(Check.objects.filter(asset__customer=customer).values_list("pk", flat=True))
    CheckStatus.objects.bulk_create(
        CheckStatus(
            service_check_id=pk,
            state=STATES[i % len(STATES)],
            hard_state=STATES[i % len(STATES)],
            summary="" if STATES[i % len(STATES)] == "ok" else "connection refused",
            last_run_at=now,
            last_change_at=now - timedelta(hours=i % 48),
        )
        for i, pk in enumerate(checks)
    )
    CheckResult.objects.bulk_create(
        (
            CheckResult(
                service_check_id=pk,
                at=now - timedelta(minutes=r),
                state=STATES[i % len(STATES)],
                latency_s=0.01,
            )
            for i, pk in enumerate(checks)
            for r in range(RESULTS_PER_CHECK)
        ),
        batch_size=5000,
    )
    rows = []
    for i in range(tickets):
        asset = assets[i % servers]
        is_open = i < open_tickets
        created = now - (timedelta(hours=i % 72) if is_open else timedelta(days=3 + i % 700))
        status = Ticket.Status.CLOSED
        if is_open:
            status = (Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.WAITING)[i % 3]
        rows.append(
            Ticket(
                number=f"{number}-{i:06d}",
                customer=customer,
                asset=asset,
                contract_id=contracts[asset.pk],
                kind=Ticket.Kind.INCIDENT if i % 2 else Ticket.Kind.REQUEST,
                priority=("P1", "P2")[i % 2],
                status=status,
                channel=Ticket.Channel.PORTAL,
                subject=f"Ticket {i}",
                created_at=created,
                first_response_at=None if is_open else created + timedelta(minutes=30),
                resolved_at=None if is_open else created + timedelta(hours=5),
                closed_at=None if is_open else created + timedelta(days=1),
            )
        )
    Ticket.objects.bulk_create(rows, batch_size=5000)
    waiting = Ticket.objects.filter(customer=customer, status=Ticket.Status.WAITING)
    WaitingPeriod.objects.bulk_create(
        WaitingPeriod(ticket=t, started_at=t.created_at + timedelta(minutes=10)) for t in waiting
    )
    work = PlannedWork.objects.create(
        title=f"Kernel updates {number}",
        starts_at=now + timedelta(days=2),
        ends_at=now + timedelta(days=2, hours=2),
    )
    work.assets.add(*assets[:3])
    return customer


def measure(client: Client, requests: int) -> tuple[list[float], list[float]]:
    """Milliseconds per overview request: wall clock, and CPU of this process (the
    second shows the cost of the page itself when the machine is busy otherwise)."""
    wall, cpu = [], []
    for _ in range(requests):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get("/portal/")
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"the overview answered {response.status_code}")
    return wall, cpu


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="leitstand bench portal")
    parser.add_argument("--services", type=int, default=500)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--open", type=int, default=200, help="of the tickets, open ones")
    parser.add_argument("--per-asset", type=int, default=10, help="services per server")
    parser.add_argument("--others", type=int, default=20, help="other customers around it")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args(argv)
    if min(args.services, args.tickets, args.requests) < 1 or args.open > args.tickets:
        parser.error("need at least one service, ticket and request, and open <= tickets")

    call_command("migrate", verbosity=0, interactive=False)
    if Customer.objects.filter(number="BIG").exists():
        print("this database holds a previous run's data: use an empty one", file=sys.stderr)
        return 1
    load_file(CATALOG)
    now = timezone.now()
    start = time.perf_counter()
    with transaction.atomic():
        customer = build_customer(
            "BIG",
            services=args.services,
            tickets=args.tickets,
            open_tickets=args.open,
            per_asset=args.per_asset,
            now=now,
        )
        for i in range(args.others):
            build_customer(
                f"OTHER{i:03d}",
                services=max(1, args.services // 10),
                tickets=max(1, args.tickets // 20),
                open_tickets=min(args.open // 10, args.tickets // 20),
                per_asset=args.per_asset,
                now=now,
            )
        user = User(customer=customer, login="bench", email="bench@big.example")
        user.set_unusable_password()
        user.save()
    print(
        f"data: {args.services} services and {args.tickets} tickets ({args.open} open) for one "
        f"customer, {args.others} other customers; {time.perf_counter() - start:.1f} s to build"
    )
    with override_settings(ALLOWED_HOSTS=["testserver"]):
        client = Client()
        client.force_login(user)
        measure(client, args.warmup)
        heap.settle()  # what `leitstand web` and the WSGI entry point do at start-up
        connection.force_debug_cursor = True  # count the queries of one request
        connection.queries_log.clear()
        client.get("/portal/")
        queries = len(connection.queries_log)
        connection.force_debug_cursor = False
        timings, cpu = measure(client, args.requests)
    p50, p95 = statistics.median(timings), percentile(timings, 0.95)
    print(
        f"dashboard: {args.requests} requests, p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
        f"max {max(timings):.1f} ms; CPU p50 {statistics.median(cpu):.1f} ms, "
        f"p95 {percentile(cpu, 0.95):.1f} ms; {queries} queries per request ({connection.vendor})"
    )
    print(
        json.dumps(
            {
                "services": args.services,
                "tickets": args.tickets,
                "dashboard_p95_ms": round(p95, 1),
            }
        )
    )
    return 0
