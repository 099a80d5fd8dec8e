"""``leitstand bench helpdesk``: ticket creation and back-office queue views at scale.

Issue 6: "``leitstand bench helpdesk`` with 1,000,000 tickets on PostgreSQL:
ticket creation p95 and queue view p95. Targets: under 50 ms and under 200 ms."

1. A scratch database (PostgreSQL: ``<name>_bench_helpdesk`` on the same
   server, dropped afterwards unless ``--keep``; SQLite: a temporary file),
   migrated, with the demo catalog (Webosa SLA: P1 clock hours, P2 business hours).
2. N tickets written with COPY (PostgreSQL) or ``core.bulk.insert_rows``,
   one message each, spread over customers, kinds, states, priorities and
   assignees: 90 % closed or resolved, 10 % open (new, open, waiting), open ones
   from the last 30 days with their stored next deadline, a fifth breached.
3. ``create_p95_ms``: the real :func:`~leitstand.helpdesk.actions.open_ticket`
   (number sequence, contract lookup, SLA clocks for the queue column).
4. ``queue_p95_ms``: the real back-office queue pages ("breaching soon",
   "unassigned", "mine", "all open"), rendered through Django's test Client as
   a logged-in staff user, including pagination's COUNT and the deadline column.

The last line is JSON: ``{"tickets": ..., "create_p95_ms": ..., "queue_p95_ms": ...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.models import Model
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

SQLITE_LIMIT = 50_000
STATUSES = (
    # (status, share): a provider's history is mostly closed tickets.
    ("closed", 0.85),
    ("resolved", 0.05),
    ("open", 0.04),
    ("new", 0.03),
    ("waiting", 0.03),
)
KINDS = ("incident", "request", "request", "request", "change", "restore", "abuse", "claim")
CHANNELS = ("portal", "email", "email", "phone", "monitoring")
STAFF = 20
QUEUES = ("breaching", "unassigned", "mine", "open")


def p95(samples: Sequence[float]) -> float:
    """The 95th percentile (inclusive method), in the samples' unit."""
    if len(samples) < 2:
        return samples[0] if samples else 0.0
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


# --- the scratch database ----------------------------------------------------


def use_scratch_database(keep: bool) -> Callable[[], None]:
    """Point the default connection at a fresh scratch database; returns the cleanup."""
    conn = connections["default"]
    if conn.vendor == "postgresql":
        name = f"{conn.settings_dict['NAME']}_bench_helpdesk"[:63]
        with conn._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        conn.settings_dict["NAME"] = name

        def drop() -> None:
            conn.close()
            if keep:
                print(f"scratch database kept: {name}")
                return
            with conn._nodb_cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')

        return drop
    scratch = Path(tempfile.mkdtemp(prefix="leitstand-bench-helpdesk-")) / "bench.sqlite3"
    conn.close()
    conn.settings_dict["NAME"] = str(scratch)

    def remove() -> None:
        conn.close()
        if not keep:
            shutil.rmtree(scratch.parent, ignore_errors=True)

    return remove


# --- data ------------------------------------------------------------------------


def _columns(model: type[Model], given: dict[str, Any]) -> list[tuple[str, Any]]:
    """Every concrete column of ``model`` (but the id) with the given value or its default,
    so that fields added by others later are filled too."""
    out = []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        name = field.attname
        out.append((name, given[name] if name in given else field.get_default()))
    return out


def write_rows(model: type[Model], names: Sequence[str], rows: Iterator[Sequence[Any]]) -> None:
    """COPY on PostgreSQL (the fastest way in), batched INSERTs elsewhere."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(model._meta.db_table)
        column = {f.attname: str(f.column) for f in model._meta.concrete_fields}
        cols = ", ".join(connection.ops.quote_name(column[n]) for n in names)
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg's own cursor: COPY is not in the DB-API
            with raw.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    from leitstand.core.bulk import insert_rows  # noqa: PLC0415

    batch: list[Sequence[Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= 5000:
            insert_rows(model, names, batch)
            batch = []
    insert_rows(model, names, batch)


def build(tickets: int, now: datetime, seed: int = 6) -> dict[str, Any]:
    """Customers, assets, contracts, staff and ``tickets`` tickets with one message each."""
    from leitstand.accounts.models import User  # noqa: PLC0415
    from leitstand.contracts.catalog import load_file  # noqa: PLC0415
    from leitstand.contracts.models import Asset, Contract, Customer, Plan  # noqa: PLC0415
    from leitstand.core.demo import CATALOG  # noqa: PLC0415
    from leitstand.helpdesk.models import Message, Ticket  # noqa: PLC0415

    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    load_file(CATALOG)
    plan = Plan.objects.get(name="webosa-managed")
    customers = max(10, min(2000, tickets // 500))
    with transaction.atomic():
        Customer.objects.bulk_create(
            Customer(number=f"B{i:06d}", name=f"Bench customer {i}") for i in range(customers)
        )
        ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
        Asset.objects.bulk_create(Asset(customer_id=c, name=f"server-{c}") for c in ids)
        assets = dict(Asset.objects.values_list("customer_id", "pk"))
        Contract.objects.bulk_create(
            Contract(asset_id=assets[c], plan=plan, starts_on=date(2020, 1, 1)) for c in ids
        )
        contracts = dict(Contract.objects.values_list("asset__customer_id", "pk"))
        User.objects.bulk_create(
            # "!" is Django's unusable password: nobody logs in as these.
            User(username=f"bench-staff-{i}", is_staff=True, password="!")  # noqa: S106
            for i in range(STAFF)
        )
        staff = list(
            User.objects.filter(username__startswith="bench-staff-").values_list("pk", flat=True)
        )

    shares = [s for _, s in STATUSES]

    def ticket_rows() -> Iterator[Sequence[Any]]:
        for i in range(tickets):
            customer = ids[rng.randrange(customers)]
            status = rng.choices([s for s, _ in STATUSES], shares)[0]
            priority = "P1" if rng.random() < 0.2 else "P2"
            is_open = status in {"new", "open", "waiting"}
            if is_open:
                created = now - timedelta(seconds=rng.randrange(30 * 86400))
            else:
                created = now - timedelta(seconds=rng.randrange(3 * 365 * 86400))
            due = None
            target = ""
            if status in {"new", "open"}:
                # Spread around now: a fifth already breached, the rest due within days.
                due = now + timedelta(minutes=rng.randrange(-24 * 60, 4 * 24 * 60))
                target = "initial_response" if status == "new" else "diagnosis"
            assignee = None
            if not is_open or rng.random() > 0.3:
                assignee = staff[rng.randrange(STAFF)]
            values = {
                "number": f"B{i:09d}",
                "customer_id": customer,
                "asset_id": assets[customer],
                "contract_id": contracts[customer],
                "kind": KINDS[i % len(KINDS)],
                "priority": priority,
                "status": status,
                "channel": CHANNELS[i % len(CHANNELS)],
                "subject": f"Bench ticket {i}",
                "requester_id": None,
                "requester_email": "",
                "verified": True,
                "out_of_scope": False,
                "assignee_id": assignee,
                "group_key": "",
                "created_at": created,
                "first_response_at": None if status == "new" else created + timedelta(minutes=20),
                "diagnosed_at": None,
                "restored_at": None,
                "resolved_at": None if is_open else created + timedelta(hours=6),
                "closed_at": created + timedelta(days=3) if status == "closed" else None,
                "updated_at": created,
                "sla_due_at": due,
                "sla_due_target": target,
            }
            yield [v for _, v in _columns(Ticket, values)]

    write_rows(Ticket, [n for n, _ in _columns(Ticket, {})], ticket_rows())
    lo = Ticket.objects.order_by("pk").values_list("pk", flat=True).first() or 0

    def message_rows() -> Iterator[Sequence[Any]]:
        for offset in range(tickets):
            values = {
                "ticket_id": lo + offset,
                "created_at": now - timedelta(days=1),
                "author_user_id": None,
                "author_contact_id": None,
                "author_email": "",
                "body": "The shop is slow since this morning.",
                "internal": False,
                "channel": "portal",
                "message_id": "",
            }
            yield [v for _, v in _columns(Message, values)]

    message_names = [n for n, _ in _columns(Message, {})]
    write_rows(Message, message_names, message_rows())
    if connection.vendor == "postgresql":
        # What autovacuum does to a live table: statistics and the visibility map
        # (without it every index-only scan visits the heap).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return {"customers": ids, "assets": assets, "staff": staff}


# --- measuring ---------------------------------------------------------------------


def explain(user_id: int, now: datetime) -> None:
    """Show how PostgreSQL answers two queues (the plans the indexes are for)."""
    from leitstand.accounts.models import User  # noqa: PLC0415
    from leitstand.helpdesk import queues  # noqa: PLC0415

    user = User.objects.get(pk=user_id)
    for key in ("breaching", "unassigned"):
        qs = queues.tickets_in(key, user, now)[:50]
        sql, params = qs.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            lines = [row[0] for row in cursor.fetchall()]
        scans = [ln.strip() for ln in lines if "Scan" in ln]
        total = [ln for ln in lines if ln.startswith("Execution Time")]
        print(f"EXPLAIN {key}: {scans[0] if scans else lines[0]} | {total[0] if total else ''}")


def measure_create(built: dict[str, Any], samples: int, rng: random.Random) -> list[float]:
    from leitstand.contracts.models import Asset  # noqa: PLC0415
    from leitstand.helpdesk.actions import open_ticket  # noqa: PLC0415

    assets = {a.customer_id: a for a in Asset.objects.select_related("customer")}
    customers = built["customers"]
    times = []
    for i in range(samples + 10):
        asset = assets[customers[rng.randrange(len(customers))]]
        start = time.perf_counter()
        open_ticket(
            asset.customer,
            f"Measured ticket {i}",
            "The shop answers with 502.",
            channel="portal",
            kind="incident",
            priority="P1" if i % 3 == 0 else "P2",
            asset=asset,
            verified=True,
        )
        elapsed = (time.perf_counter() - start) * 1000
        if i >= 10:  # the first ones warm caches and the connection
            times.append(elapsed)
    return times


def measure_queues(user_id: int, samples: int) -> dict[str, list[float]]:
    from leitstand.accounts.models import User  # noqa: PLC0415

    client = Client()
    client.force_login(User.objects.get(pk=user_id))
    out: dict[str, list[float]] = {k: [] for k in QUEUES}
    for i in range(samples + 2):
        for key in QUEUES:
            page = 1 + (i % 3)
            start = time.perf_counter()
            response = client.get(f"/staff/tickets/queue/{key}/?page={page}")
            elapsed = (time.perf_counter() - start) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"queue {key} answered {response.status_code}")
            if i >= 2:
                out[key].append(elapsed)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="leitstand bench helpdesk")
    parser.add_argument("--tickets", type=int, default=1_000_000, help="tickets to generate")
    parser.add_argument("--samples", type=int, default=200, help="measurements per figure")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    if args.tickets < 1 or args.samples < 1:
        print("--tickets and --samples must be positive", file=sys.stderr)
        return 2
    vendor = connections["default"].vendor
    if vendor != "postgresql":
        if args.tickets > SQLITE_LIMIT:
            print(
                f"leitstand bench helpdesk measures PostgreSQL (the production database); "
                f"on {vendor} it runs only with --tickets {SQLITE_LIMIT} or fewer. "
                "Set LEITSTAND_DATABASE_URL=postgresql://... to measure the target.",
                file=sys.stderr,
            )
            return 2
        print(f"note: measured on {vendor}, not PostgreSQL: not the issue's figures")
    cleanup = use_scratch_database(args.keep)
    try:
        call_command("migrate", verbosity=0, interactive=False)
        now = timezone.now()
        start = time.perf_counter()
        built = build(args.tickets, now)
        generated = time.perf_counter() - start
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"machine: {os.cpu_count()} cores, load average {load} (other work slows every figure)"
        )
        print(
            f"data: {args.tickets} tickets and messages, {len(built['customers'])} customers, "
            f"{STAFF} staff in {generated:.1f} s ({args.tickets / generated:,.0f} tickets/s, "
            f"not counted)"
        )
        me = built["staff"][0]
        if vendor == "postgresql":
            explain(me, now)
        rng = random.Random(60)  # noqa: S311 - test data, not secrets
        created = measure_create(built, args.samples, rng)
        print(
            f"open_ticket: p50 {statistics.median(created):.1f} ms, p95 {p95(created):.1f} ms "
            f"over {len(created)} tickets"
        )
        with override_settings(ALLOWED_HOSTS=["testserver"], STAFF_REQUIRE_TOTP=False):
            # Staff need a second factor in production; the bench user has none.
            per_queue = measure_queues(me, max(1, args.samples // len(QUEUES)))
        print(f"load average afterwards: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        for key, times in per_queue.items():
            print(
                f"queue {key:<10}: p50 {statistics.median(times):.1f} ms, p95 {p95(times):.1f} ms"
            )
        all_queue = [t for times in per_queue.values() for t in times]
    finally:
        cleanup()
    print(
        json.dumps(
            {
                "tickets": args.tickets,
                "create_p95_ms": round(p95(created), 1),
                "queue_p95_ms": round(p95(all_queue), 1),
            }
        )
    )
    return 0
