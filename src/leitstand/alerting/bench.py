"""``leitstand bench alerting``: from a state change to the mail server accepting the alarm.

Issue 5: "``leitstand bench alerting`` prints the latency from a state change
to the SMTP server accepting the message, p50/p99 over 1,000 alarms. Target:
p99 under 2 s."

Everything on the way is the real thing, in a scratch database (never the
live one):

1. a state change is written as the check engine writes it, through
   :class:`~leitstand.monitoring.store.DatabaseStore` (result, CheckEvent,
   status), whose event hook opens the alert and queues the outbox row in the
   same transaction;
2. ``leitstand alerting_worker`` processes (``--workers`` of them, default
   two: one per core) claim, send over SMTP and record;
3. a real SMTP server (aiosmtpd) on loopback notes when it accepted each
   message.

Alarms arrive at ``--rate`` per second, 20 by default: 1,200 hosts a minute,
a storm far beyond a normal night (each a different host, so each is its own
alert, to one on-call operator by e-mail). Above what the machine sustains
(between 20 and 50 a second on two cores) alarms queue up and the figure
measures the queue, not the path. The latency of an alarm is the
mail server's acceptance time minus the time of its state change; an alarm
not accepted within ``--timeout`` seconds after the last one was injected
counts as lost. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from leitstand.accounts.models import User
from leitstand.alerting.models import Alert, Channel, EscalationLevel, EscalationPolicy
from leitstand.contracts.models import Asset, Customer
from leitstand.monitoring.checks.base import Result, State
from leitstand.monitoring.engine import Outcome
from leitstand.monitoring.models import Check
from leitstand.monitoring.states import CheckState, Event, EventKind, Status
from leitstand.monitoring.store import DatabaseStore

CUSTOMER = "BENCH-ALERTING"
TICK = 0.05  # the engine writes its outcomes in batches; this is one batch's span
BATCH = 50  # and no more than this many in one transaction


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# The mail server runs in a process of its own, as a real one would: in the
# bench's process it would wait for the GIL behind the injecting thread, and
# its acceptance times would measure the bench, not the platform. It prints
# "<alert id> <unix time>" for every message it accepts.
SMTP_SERVER = textwrap.dedent(
    """
    import re, sys, time, threading
    from aiosmtpd.controller import Controller

    MESSAGE_ID = re.compile(rb"^Message-ID:\\s*<a(\\d+)-", re.IGNORECASE | re.MULTILINE)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            now = time.time()
            match = MESSAGE_ID.search(bytes(envelope.original_content or b""))
            if match:
                print(match.group(1).decode(), repr(now), flush=True)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()  # until the bench closes our stdin
    controller.stop()
    """
)


class Sink:
    """The SMTP server process and what it reported: acceptance time per alert id."""

    def __init__(self, port: int) -> None:
        self.accepted: dict[int, float] = {}
        self.duplicates = 0
        self.lock = threading.Lock()
        self.process = subprocess.Popen(  # noqa: S603 - our interpreter, our script
            [sys.executable, "-c", SMTP_SERVER, str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP server did not start")
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            alert, _, accepted = line.partition(" ")
            with self.lock:
                if int(alert) in self.accepted:
                    self.duplicates += 1
                else:
                    self.accepted[int(alert)] = float(accepted)

    def count(self) -> int:
        with self.lock:
            return len(self.accepted)

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def quantile(values: list[float], q: float) -> float:
    """The nearest-rank quantile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]


def build(count: int) -> tuple[list[Check], User]:
    """The hosts (one check each) and the on-call operator, not timed."""
    customer = Customer.objects.create(number=CUSTOMER, name="Alerting benchmark")
    Asset.objects.bulk_create(
        Asset(customer=customer, name=f"bench-{i:05d}") for i in range(count + 1)
    )
    assets = list(Asset.objects.filter(customer=customer).order_by("name"))
    # Disabled: should an engine ever share this database, it leaves them alone.
    Check.objects.bulk_create(
        Check(asset=asset, name="TCP", kind="tcp", params={}, enabled=False) for asset in assets
    )
    checks = list(Check.objects.filter(asset__customer=customer).order_by("asset__name"))
    user = User.objects.create_user(
        "bench-oncall", "bench-oncall@provider.example", None, is_staff=True
    )
    Channel.objects.create(kind="email", config={"to": "oncall@provider.example"}, user=user)
    policy = EscalationPolicy.objects.create(name="bench-alerting", is_default=True)
    EscalationLevel.objects.create(policy=policy, number=1, user=user)
    return checks, user


def clean_up() -> None:
    """Remove what :func:`build` made: a scratch database goes anyway, a real one must not."""
    Alert.objects.filter(asset__customer__number=CUSTOMER).delete()
    Check.objects.filter(asset__customer__number=CUSTOMER).delete()
    Asset.objects.filter(customer__number=CUSTOMER).delete()
    Customer.objects.filter(number=CUSTOMER).delete()
    EscalationPolicy.objects.filter(name="bench-alerting").delete()
    User.objects.filter(username="bench-oncall").delete()


def down(check: Check, at: datetime) -> Outcome:
    """The engine's outcome for a check whose failure has just been confirmed."""
    critical = CheckState(Status.CRITICAL, Status.CRITICAL, attempt=3)
    return Outcome(
        check_id=check.pk,
        at=at,
        result=Result(State.CRITICAL, "connection refused"),
        state=critical,
        events=(Event(EventKind.STATE, Status.OK, Status.CRITICAL, False),),
        priority=check.priority,
        in_maintenance=False,
    )


def start_workers(count: int, smtp_port: int) -> list[subprocess.Popen[bytes]]:
    """``leitstand alerting_worker`` processes on this database and the bench's mail server."""
    env = dict(os.environ)
    env["LEITSTAND_EMAIL_PORT"] = str(smtp_port)
    env["LEITSTAND_EMAIL_HOST"] = "127.0.0.1"
    env.setdefault("LEITSTAND_LOG_LEVEL", "WARNING")
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        env["LEITSTAND_DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    return [
        subprocess.Popen(  # noqa: S603 - our interpreter, our command
            [sys.executable, "-m", "leitstand.cli", "alerting_worker", "--id", f"bench-{i}"],
            env=env,
        )
        for i in range(count)
    ]


def wait_for(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


def inject(store: DatabaseStore, checks: list[Check], rate: float) -> None:
    """Write the checks' state changes at ``rate`` per second, in engine-sized batches."""
    started = time.monotonic()
    sent = 0
    while sent < len(checks):
        due = min(len(checks), int((time.monotonic() - started) * rate) + 1, sent + BATCH)
        if due > sent:
            at = timezone.now()
            store.write([down(check, at) for check in checks[sent:due]])
            sent = due
        time.sleep(TICK)


def measure(sink: Sink, checks: list[Check], warm_up: Check) -> tuple[list[float], int]:
    """Latency of each accepted alarm, and the duplicates the sink saw."""
    opened = dict(
        Alert.objects.filter(asset__customer__number=CUSTOMER)
        .exclude(asset=warm_up.asset)
        .values_list("pk", "opened_at")
    )
    with sink.lock:
        latencies = [
            accepted - opened[alert].timestamp()
            for alert, accepted in sink.accepted.items()
            if alert in opened
        ]
        return latencies, sink.duplicates


def run(args: argparse.Namespace, sink: Sink, smtp_port: int) -> int:
    """Build, start the workers, inject, wait, report; the workers stop in any case."""
    start = time.perf_counter()
    checks, _user = build(args.alarms)
    warm_up, checks = checks[0], checks[1:]
    print(f"data: {args.alarms} hosts, one on-call operator ({time.perf_counter() - start:.1f} s)")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    workers = start_workers(args.workers, smtp_port)
    try:
        store = DatabaseStore()
        # One alarm first, not counted: the workers are up once it arrives.
        store.write([down(warm_up, timezone.now())])
        if not wait_for(lambda: sink.count() >= 1, 60):
            print("bench alerting: the workers did not deliver the warm-up alarm", file=sys.stderr)
            return 1
        with sink.lock:
            sink.accepted.clear()
        print(f"injecting {args.alarms} alarms at {args.rate:g}/s into {args.workers} worker(s)")
        inject(store, checks, args.rate)
        wait_for(lambda: sink.count() >= len(checks), args.timeout)
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        for process in workers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    latencies, duplicates = measure(sink, checks, warm_up)
    lost = len(checks) - len(latencies)
    p50, p99 = quantile(latencies, 0.50), quantile(latencies, 0.99)
    print(
        f"state change -> SMTP accepted: p50 {p50:.3f} s, p99 {p99:.3f} s, "
        f"max {max(latencies, default=0.0):.3f} s; lost {lost}, duplicates {duplicates}"
    )
    print(
        json.dumps(
            {"alarms": len(checks), "p50_s": round(p50, 3), "p99_s": round(p99, 3), "lost": lost}
        )
    )
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="leitstand bench alerting")
    parser.add_argument("--alarms", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0, help="alarms per second")
    parser.add_argument("--workers", type=int, default=2, help="alerting_worker processes")
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for stragglers"
    )
    args = parser.parse_args(argv)
    if args.alarms < 1 or args.rate <= 0 or args.workers < 1:
        parser.error("--alarms, --rate and --workers must be positive")
    call_command("migrate", verbosity=0, interactive=False)
    if (
        EscalationPolicy.objects.filter(is_default=True).exists()
        or Customer.objects.filter(number=CUSTOMER).exists()
    ):
        print(
            "bench alerting: this database already has a default escalation policy or an "
            "earlier run's data; run it in a scratch database (the default without "
            "LEITSTAND_DATABASE_URL)",
            file=sys.stderr,
        )
        return 2
    smtp_port = free_port()
    sink = Sink(smtp_port)
    try:
        return run(args, sink, smtp_port)
    finally:
        sink.stop()
        clean_up()
        connection.close()
