"""The check engine behind ``leitstand monitor``: one asyncio process per shard.

- **Schedule.** Each check runs every ``interval`` seconds at a fixed phase
  (``crc32(id) mod interval``), so 10,000 checks at 60 s spread evenly instead
  of firing together; the next run is planned from the previous due time, not
  from when the run finished, so slow targets do not make schedules drift. A
  soft failure is retried after ``retry_interval`` until it is confirmed.
- **Bounded.** A semaphore per check type limits concurrency, and every probe
  runs under its own hard timeout (``registry.run_check``): a target that
  accepts and never answers costs one timeout, never a stalled engine.
- **State.** :mod:`leitstand.monitoring.states` folds each result into the
  check's state (soft/hard, parent unreachable, flapping); hard changes become
  :class:`~leitstand.monitoring.models.CheckEvent` rows.
- **Writes in batches.** Results, events and states go to the database in one
  transaction per batch, from a worker thread; a failed write is kept and
  retried, so a database hiccup loses no result.
- **Hot reload.** Added, changed and removed checks (and announced maintenance)
  are picked up every few seconds without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from leitstand.monitoring.checks import registry
from leitstand.monitoring.checks.base import Result
from leitstand.monitoring.shards import Shard
from leitstand.monitoring.states import CheckState, Event, Status, advance

log = logging.getLogger("leitstand.monitor")
T = TypeVar("T")

DEFAULT_CONCURRENCY = 500  # per check type; an HTTP check holds one socket while it waits
MAX_PENDING_WRITES = 1_000_000  # beyond this the engine is far behind: log loudly


@dataclass(frozen=True)
class CheckConfig:
    """A check as the engine runs it (a snapshot of the ``Check`` row)."""

    id: int
    kind: str
    params: Mapping[str, Any]
    interval: float
    retry_interval: float
    timeout: float
    max_attempts: int
    parent_id: int | None
    asset_id: int
    priority: str
    version: str  # changes whenever the row changes


@dataclass(frozen=True)
class Outcome:
    """One finished run, waiting to be written."""

    check_id: int
    at: datetime
    result: Result
    state: CheckState
    events: tuple[Event, ...]
    priority: str
    in_maintenance: bool


@dataclass
class Snapshot:
    """What the engine loads from the database on every reload."""

    configs: dict[int, CheckConfig]
    states: dict[int, CheckState]  # only for checks the engine has not seen yet
    outside_hard_states: dict[int, Status]  # parents run by other shards
    maintenance: dict[int, list[tuple[datetime, datetime]]]  # asset id -> intervals


class Store(Protocol):
    """Where the engine reads checks and writes outcomes (the database in production)."""

    def load(self, shard: Shard, known: Iterable[int]) -> Snapshot: ...

    def write(self, outcomes: list[Outcome]) -> None: ...

    def close(self) -> None: ...


def phase(check_id: int, interval: float) -> float:
    """A stable offset in [0, interval) that spreads checks over their interval."""
    return (zlib.crc32(f"phase:{check_id}".encode()) % 1_000_000) / 1_000_000 * interval


@dataclass
class Stats:
    """Counters for the benchmark and the log."""

    runs: int = 0
    lags: list[float] = field(default_factory=list)
    written: int = 0
    write_failures: int = 0

    def record_lag(self, lag: float) -> None:
        if len(self.lags) < 1_000_000:
            self.lags.append(lag)


class Engine:
    """Runs one shard's checks until stopped."""

    def __init__(
        self,
        store: Store,
        shard: Shard | None = None,
        *,
        reload_interval: float = 5.0,
        flush_interval: float = 1.0,
        batch_size: int = 2000,
        concurrency: Mapping[str, int] | None = None,
        clock: Callable[[], float] = time.time,
        runner: Callable[[str, Mapping[str, Any], float], Any] | None = None,
    ) -> None:
        self.store = store
        self.shard = shard or Shard()
        self.reload_interval = reload_interval
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self.clock = clock
        self.runner = runner
        limits = dict(concurrency or {})
        self._semaphores: dict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(limits.get("default", DEFAULT_CONCURRENCY))
        )
        for kind, limit in limits.items():
            self._semaphores[kind] = asyncio.Semaphore(limit)
        self.configs: dict[int, CheckConfig] = {}
        # Parsed once per configuration change, not on every run.
        self._prepared: dict[int, registry.Prepared] = {}
        self.states: dict[int, CheckState] = {}
        self.outside_hard_states: dict[int, Status] = {}
        self.maintenance: dict[int, list[tuple[datetime, datetime]]] = {}
        self._heap: list[tuple[float, int, int, int]] = []  # (due, seq, check id, generation)
        self._generation: dict[int, int] = {}
        self._seq = 0
        self._pending: list[Outcome] = []
        self._running: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        # One thread for the store: one database connection, writes in order.
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="monitor-db")
        self.stats = Stats()

    # -- scheduling ---------------------------------------------------------

    def _schedule(self, check_id: int, due: float) -> None:
        generation = self._generation.get(check_id, 0)
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, check_id, generation))

    def _reschedule(self, check_id: int, due: float) -> None:
        """Forget earlier plans for this check and plan it at ``due``."""
        self._generation[check_id] = self._generation.get(check_id, 0) + 1
        self._schedule(check_id, due)
        self._wake.set()

    def _first_due(self, config: CheckConfig, now: float) -> float:
        offset = phase(config.id, config.interval)
        start = now - (now % config.interval) + offset
        return start if start >= now else start + config.interval

    def apply(self, snapshot: Snapshot) -> None:
        """Take added, changed and removed checks into the schedule."""
        now = self.clock()
        for check_id in list(self.configs):
            if check_id not in snapshot.configs:
                del self.configs[check_id]
                self._prepared.pop(check_id, None)
                self._generation[check_id] = self._generation.get(check_id, 0) + 1
                self.states.pop(check_id, None)
        for check_id, config in snapshot.configs.items():
            old = self.configs.get(check_id)
            self.configs[check_id] = config
            if old is None or old.version != config.version or check_id not in self._prepared:
                self._prepared[check_id] = registry.prepare(config.kind, config.params)
            if check_id not in self.states:
                self.states[check_id] = snapshot.states.get(check_id, CheckState())
            if old is None or old.interval != config.interval:
                self._reschedule(check_id, self._first_due(config, now))
        self.outside_hard_states = snapshot.outside_hard_states
        self.maintenance = snapshot.maintenance

    def _parent_state(self, parent_id: int | None) -> Status | None:
        if parent_id is None:
            return None
        parent = self.states.get(parent_id)
        return parent.hard_state if parent else self.outside_hard_states.get(parent_id)

    def _in_maintenance(self, asset_id: int, at: datetime) -> bool:
        return any(start <= at < end for start, end in self.maintenance.get(asset_id, ()))

    async def _run(self, config: CheckConfig, due: float, generation: int) -> None:
        async with self._semaphores[config.kind]:
            self.stats.record_lag(max(0.0, self.clock() - due))
            if self.runner is not None:
                result: Result = await self.runner(config.kind, config.params, config.timeout)
            else:
                prepared = self._prepared.get(config.id) or registry.prepare(
                    config.kind, config.params
                )
                result = await registry.run_prepared(prepared, config.timeout)
        self.stats.runs += 1
        at = datetime.fromtimestamp(self.clock(), UTC)
        current = self.states.get(config.id, CheckState())
        parent = self._parent_state(config.parent_id)
        state, events = advance(
            current,
            Status(result.state),
            max_attempts=config.max_attempts,
            parent_down=parent in (Status.CRITICAL, Status.UNREACHABLE),
            parent_pending=parent == Status.PENDING,
        )
        if config.id in self.configs:
            self.states[config.id] = state
            retry = state.state.is_problem and state.is_soft
            step = config.retry_interval if retry else config.interval
            nxt = due + step
            now = self.clock()
            if nxt <= now:  # far behind (or the machine slept): skip, don't pile up
                nxt = now + step - ((now - due) % step)
            if self._generation.get(config.id) == generation:  # not rescheduled meanwhile
                self._schedule(config.id, nxt)
        self._pending.append(
            Outcome(
                check_id=config.id,
                at=at,
                result=result,
                state=state,
                events=tuple(events),
                priority=config.priority,
                in_maintenance=self._in_maintenance(config.asset_id, at),
            )
        )

    def _start_due(self) -> float:
        """Start every check that is due; return seconds until the next one."""
        now = self.clock()
        while self._heap and self._heap[0][0] <= now:
            due, _, check_id, generation = heapq.heappop(self._heap)
            config = self.configs.get(check_id)
            if config is None or self._generation.get(check_id) != generation:
                continue  # removed or rescheduled since
            task = asyncio.create_task(self._run(config, due, generation))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return (self._heap[0][0] - now) if self._heap else self.reload_interval

    # -- loops --------------------------------------------------------------

    async def _in_db_thread(self, func: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._db, func, *args)

    async def reload(self) -> None:
        """Load checks and maintenance for this shard and apply them."""
        snapshot = await self._in_db_thread(self.store.load, self.shard, list(self.states))
        self.apply(snapshot)

    async def flush(self) -> None:
        """Write what is pending; on failure keep it for the next try."""
        if not self._pending:
            return
        batch, self._pending = self._pending[: self.batch_size], self._pending[self.batch_size :]
        try:
            await self._in_db_thread(self.store.write, batch)
            self.stats.written += len(batch)
        except Exception:
            self.stats.write_failures += 1
            log.exception("monitor: writing %d results failed; keeping them", len(batch))
            self._pending[:0] = batch
            if len(self._pending) > MAX_PENDING_WRITES:
                log.error("monitor: %d results wait to be written", len(self._pending))
            raise

    async def _reload_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await _sleep_or_stop(stop, self.reload_interval)
            try:
                await self.reload()
            except Exception:
                log.exception("monitor: reload failed; keeping the current checks")

    async def _write_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await _sleep_or_stop(stop, self.flush_interval)
            await self.flush_all()

    async def flush_all(self) -> bool:
        """Write everything pending, batch by batch; False when a write failed."""
        while self._pending:
            try:
                await self.flush()
            except Exception:
                return False
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; then finish running probes and write everything."""
        await self.reload()
        log.info(
            "monitor: shard %d/%d runs %d checks",
            self.shard.index,
            self.shard.count,
            len(self.configs),
        )
        loops = [
            asyncio.create_task(self._reload_loop(stop)),
            asyncio.create_task(self._write_loop(stop)),
        ]
        while not stop.is_set():
            wait = self._start_due()
            self._wake.clear()
            await _first_of(stop, self._wake, max(0.0, min(wait, self.reload_interval)))
        await asyncio.gather(*loops)
        if self._running:
            await asyncio.wait(self._running)
        for _ in range(3):
            try:
                while self._pending:
                    await self.flush()
                break
            except Exception:
                await asyncio.sleep(1)
        # The database thread's connection goes with the engine (PostgreSQL
        # counts it as a session until it is closed).
        with contextlib.suppress(Exception):
            await self._in_db_thread(self.store.close)
        self._db.shutdown(wait=False)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def _first_of(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
