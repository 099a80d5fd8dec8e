"""``leitstand bench monitor``: check throughput, CPU cost and scheduling lag of one engine.

Runs the real engine with the real database store (a scratch SQLite database,
never the live one) against targets served by a separate process on loopback:

1. N HTTP checks, then N TCP checks, each at a 1 s interval: checks per second
   sustained, CPU seconds of the engine process per 1,000 checks, and lag.
2. 10,000 TCP checks at a 60 s interval: the engine's CPU use in percent of
   one core, and the p99 lag.

The last line is JSON with every figure.

CPU seconds per 1,000 checks is the figure to optimise against: unlike checks
per second it barely moves when other processes share the cores. Before and
after the per-check work of November 2026 (same machine, same load, run back
to back with ``--seconds 6 --idle-seconds 15``; the machine was busy, load
average 11-13 on 2 cores, so the rates are low for both):

=====================  ======  =====
engine                 before  after
=====================  ======  =====
HTTP, CPU s/1000        0.73    0.47
TCP, CPU s/1000         0.42    0.22
10,000 at 60 s, % CPU   15.5     7.2
=====================  ======  =====

Where it came from: a timer instead of an ``asyncio.wait`` per wake-up (~50 us
a check at low rates), one write transaction per flush interval instead of a
few dozen small ones, rows prepared without Django's per-field preparation
(~80 us of database-thread CPU a result), ``one_line`` and the unchanged-OK
state without work, a TCP connect with one writer callback and a cached
literal check, one shared aiohttp connector (and TLS contexts) per engine, and
a frozen heap with a higher collector threshold.

On the same machine when quiet (3 December 2026, load average 0.3), the
defaults give 2,501 HTTP/s and 6,004 TCP/s (the offered load, every result OK),
0.21 and 0.08 CPU s/1000, lag p99 7 ms and 15 ms, and 4.0 % of one core for
10,000 checks at 60 s (lag p99 5 ms). Offered more (``--http 4000 --tcp
12000``) one engine saturates at about 3,900 HTTP/s and 9,900 TCP/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.management import call_command
from django.db import connection

from leitstand.contracts.models import Asset, Customer
from leitstand.monitoring import loop
from leitstand.monitoring.engine import Engine
from leitstand.monitoring.models import Check, CheckResult, CheckStatus
from leitstand.monitoring.store import DatabaseStore

# The target must never be what limits the figures. TCP: blocking accept loops
# in threads, which spend their time in the kernel. HTTP: a bare asyncio
# protocol (no framework) that answers every request on its own connection.
TARGET = textwrap.dedent(
    """
    import asyncio, socket, sys, threading

    RESPONSE = b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\nOK"

    class Http(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport, self.data = transport, b""

        def data_received(self, data):
            self.data += data
            if b"\\r\\n\\r\\n" in self.data:
                self.transport.write(RESPONSE)
                self.transport.close()

    def tcp(sock):
        while True:
            conn, _ = sock.accept()
            conn.close()

    async def main():
        loop = asyncio.get_running_loop()
        for host in sys.argv[3:]:
            tcp_sock = socket.socket()
            tcp_sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp_sock.bind((host, int(sys.argv[2])))
            tcp_sock.listen(4096)
            threading.Thread(target=tcp, args=(tcp_sock,), daemon=True).start()
            await loop.create_server(Http, host, int(sys.argv[1]), backlog=4096)
        print("ready", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Figures:
    """What one phase measured."""

    runs: int
    seconds: float
    cpu_seconds: float
    lags: list[float]

    @property
    def per_second(self) -> float:
        return self.runs / self.seconds if self.seconds else 0.0

    def lag(self, q: float) -> float:
        if not self.lags:
            return 0.0
        ordered = sorted(self.lags)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# A monitor talks to many servers; one target on one address would run out of
# ephemeral ports (every closed connection waits 60 s in TIME_WAIT, 28k ports)
# long before the engine runs out of CPU. So the target listens on 16 loopback
# addresses and the checks are spread over them.
TARGET_HOSTS = [f"127.0.0.{i}" for i in range(1, 17)]


def make_checks(
    asset: Asset, kind: str, params: Callable[[str], dict[str, object]], count: int, interval: int
) -> None:
    Check.objects.all().delete()
    Check.objects.bulk_create(
        Check(
            asset=asset,
            name=f"{kind}-{i}",
            kind=kind,
            params=params(TARGET_HOSTS[i % len(TARGET_HOSTS)]),
            interval_seconds=interval,
            timeout_seconds=5,
            max_attempts=3,
        )
        for i in range(count)
    )


async def measure(warmup: float, seconds: float) -> Figures:
    engine = Engine(DatabaseStore(), reload_interval=30.0, flush_interval=0.5, batch_size=5000)
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    await asyncio.sleep(warmup)
    runs0, cpu0, lags0, t0 = (
        engine.stats.runs,
        time.process_time(),
        len(engine.stats.lags),
        time.monotonic(),
    )
    await asyncio.sleep(seconds)
    runs1, cpu1, t1 = engine.stats.runs, time.process_time(), time.monotonic()
    lags = engine.stats.lags[lags0:]
    stop.set()
    await task
    return Figures(runs1 - runs0, t1 - t0, cpu1 - cpu0, lags)


def phase(name: str, figures: Figures) -> None:
    print(
        f"{name:<28} {figures.per_second:>9,.0f} checks/s   "
        f"{figures.cpu_seconds / max(1, figures.runs) * 1000:6.2f} CPU s/1000   "
        f"lag p50 {figures.lag(0.5) * 1000:6.1f} ms  p99 {figures.lag(0.99) * 1000:7.1f} ms"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="leitstand bench monitor")
    parser.add_argument("--http", type=int, default=2500, help="HTTP checks at a 1 s interval")
    parser.add_argument("--tcp", type=int, default=6000, help="TCP checks at a 1 s interval")
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring window per phase")
    parser.add_argument("--idle-checks", type=int, default=10_000)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    args = parser.parse_args(argv)

    call_command("migrate", verbosity=0, interactive=False)
    CheckResult.objects.all().delete()
    CheckStatus.objects.all().delete()
    customer, _ = Customer.objects.get_or_create(number="BENCH", defaults={"name": "Benchmark"})
    asset, _ = Asset.objects.get_or_create(customer=customer, name="bench")
    http_port, tcp_port = free_port(), free_port()
    target = subprocess.Popen(  # noqa: S603 - our interpreter, our script
        [sys.executable, "-c", TARGET, str(http_port), str(tcp_port), *TARGET_HOSTS],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert target.stdout is not None
        if target.stdout.readline().strip() != "ready":
            print("the target server did not start", file=sys.stderr)
            return 1
        print(f"engine pid {os.getpid()}, target pid {target.pid}, {os.cpu_count()} cores")
        make_checks(asset, "http", lambda h: {"url": f"http://{h}:{http_port}/"}, args.http, 1)
        http = loop.run(measure(2.0, args.seconds))
        phase(f"HTTP, {args.http} at 1 s", http)
        make_checks(asset, "tcp", lambda h: {"host": h, "port": tcp_port}, args.tcp, 1)
        tcp = loop.run(measure(2.0, args.seconds))
        phase(f"TCP, {args.tcp} at 1 s", tcp)
        make_checks(asset, "tcp", lambda h: {"host": h, "port": tcp_port}, args.idle_checks, 60)
        idle = loop.run(measure(2.0, args.idle_seconds))
        idle_pct = idle.cpu_seconds / idle.seconds * 100
        phase(f"TCP, {args.idle_checks} at 60 s", idle)
        print(f"{'':<28} engine CPU {idle_pct:.1f} % of one core")
        failed = CheckResult.objects.exclude(state="ok").count()
        print(f"results not OK: {failed}")
    finally:
        target.send_signal(signal.SIGTERM)
        target.wait(10)
        connection.close()
    cpu_per_1000 = (http.cpu_seconds + tcp.cpu_seconds) / max(1, http.runs + tcp.runs) * 1000
    print(
        json.dumps(
            {
                "http_per_s": round(http.per_second),
                "tcp_per_s": round(tcp.per_second),
                "cpu_s_per_1000": round(cpu_per_1000, 3),
                "lag_p50_s": round(max(http.lag(0.5), tcp.lag(0.5)), 4),
                "lag_p99_s": round(max(http.lag(0.99), tcp.lag(0.99)), 4),
                "idle_10k_cpu_pct": round(idle_pct, 1),
            }
        )
    )
    return 0
