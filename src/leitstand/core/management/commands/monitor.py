"""``leitstand monitor [--shard I/N]``: the check engine (:mod:`leitstand.monitoring.engine`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from argparse import ArgumentParser
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from leitstand.monitoring import history, loop, passive
from leitstand.monitoring.engine import Engine
from leitstand.monitoring.shards import Shard
from leitstand.monitoring.store import DatabaseStore

log = logging.getLogger("leitstand.monitor")


class Command(BaseCommand):
    help = "Run the check engine until stopped."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--shard", default="0/1", help="I/N: run shard I of N")
        parser.add_argument(
            "--reload", type=float, default=5.0, help="seconds between looking for changed checks"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            shard = Shard.parse(options["shard"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        loop.run(self._run(shard, options["reload"]))

    async def _run(self, shard: Shard, reload_interval: float) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        engine = Engine(DatabaseStore(), shard, reload_interval=reload_interval)
        tasks = [engine.run(stop)]
        if shard.index == 0:  # one process does the housekeeping for all shards
            tasks.append(housekeeping(stop))
        await asyncio.gather(*tasks)
        log.info("monitor: stopped after %d runs", engine.stats.runs)


def close_this_threads_connection() -> None:
    """``connection`` is looked up in the calling thread. Passing the bound method
    ``connection.close`` to an executor would close the *submitting* thread's
    connection, which Django refuses."""
    connection.close()


async def housekeeping(stop: asyncio.Event, every: float = 60.0) -> None:
    """Rollups every minute, pruning every hour, in a thread of their own."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="monitor-history")
    loop = asyncio.get_running_loop()
    last_prune = 0.0

    def step(prune_now: bool) -> None:
        now = timezone.now()
        history.run_rollups(now)
        passive.sweep_silent(now)
        if prune_now:
            deleted = history.prune(now)
            if deleted:
                log.info("monitor: pruned %d old results and rollups", deleted)

    while not stop.is_set():
        prune_now = time.monotonic() - last_prune > 3600
        try:
            await loop.run_in_executor(pool, step, prune_now)
            if prune_now:
                last_prune = time.monotonic()
        except Exception:
            log.exception("monitor: housekeeping failed; trying again later")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
    await loop.run_in_executor(pool, close_this_threads_connection)
    pool.shutdown()
