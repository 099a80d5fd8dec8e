"""The check engine behind ``leitstand monitor``: one asyncio process per shard.

- **Schedule.** Each check runs every ``interval`` seconds at a fixed phase
  (``crc32(id) mod interval``), so 10,000 checks at 60 s spread evenly instead
  of firing together; the next run is planned from the previous due time, not
  from when the run finished, so slow targets do not make schedules drift. A
  soft failure is retried after ``retry_interval`` until it is confirmed.
- **Cheap per run.** One timer wakes the scheduler for the earliest due
  check (at most every ``TICK``, so checks due together start together), the
  unchanged-OK case of the state machine is a shortcut, and results are
  written in one batch per ``flush_interval`` instead of chasing every new
  result with a small transaction. Measured per check in CPU time, see
  :mod:`leitstand.monitoring.bench`.
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
import gc
import heapq
import logging
import math
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
# The scheduler wakes at most this often. Checks that fall due within one tick
# start together: one wake-up for many checks instead of one each, for at most
# this much extra lag (the lag target is one second).
TICK = 0.005
# Result codes of the check types mapped once, not looked up through the enum
# machinery on every run.
_STATUS = {str(s): s for s in Status}
_DOWN = (Status.CRITICAL, Status.UNREACHABLE)


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


@dataclass(frozen=True, slots=True)
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
        # The one timer that starts due checks; armed only while run() runs.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due = math.inf  # clock time the armed timer fires at
        self._last_tick = -math.inf
        # One thread for the store: one database connection, writes in order.
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="monitor-db")
        self.stats = Stats()

    # -- scheduling ---------------------------------------------------------

    def _schedule(self, check_id: int, due: float) -> None:
        generation = self._generation.get(check_id, 0)
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, check_id, generation))
        if due < self._timer_due:
            self._arm()

    def _reschedule(self, check_id: int, due: float) -> None:
        """Forget earlier plans for this check and plan it at ``due``."""
        self._generation[check_id] = self._generation.get(check_id, 0) + 1
        self._schedule(check_id, due)

    def _arm(self) -> None:
        """Set the timer for the earliest due check, unless it fires early enough.

        A timer callback instead of a loop that waits on events: waking a
        coroutine through ``asyncio.wait`` cost ~50 us of CPU, once per check
        at a few hundred checks a second. The wait is capped at the reload
        interval so that a jump of the wall clock is noticed.
        """
        if self._loop is None:
            return
        due = self._heap[0][0] if self._heap else math.inf
        when = max(due, self._last_tick + TICK)
        if when >= self._timer_due:
            return
        if self._timer is not None:
            self._timer.cancel()
        now = self.clock()
        delay = min(max(0.0, when - now), self.reload_interval)
        self._timer_due = now + delay
        self._timer = self._loop.call_later(delay, self._tick)

    def _tick(self) -> None:
        self._timer, self._timer_due = None, math.inf
        self._last_tick = self.clock()
        try:
            self._start_due()
        except Exception:  # the timer must stay armed whatever happens
            log.exception("monitor: starting due checks failed")
        self._arm()

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
        self._finish(config, due, generation, result)

    def _finish(self, config: CheckConfig, due: float, generation: int, result: Result) -> None:
        """Fold a result into the check's state, plan its next run, queue the write."""
        self.stats.runs += 1
        now = self.clock()
        at = datetime.fromtimestamp(now, UTC)
        check_id = config.id
        current = self.states.get(check_id) or CheckState()
        parent_id = config.parent_id
        parent = None if parent_id is None else self._parent_state(parent_id)
        state, events = advance(
            current,
            _STATUS.get(result.state) or Status(result.state),
            max_attempts=config.max_attempts,
            parent_down=parent in _DOWN,
            parent_pending=parent == Status.PENDING,
        )
        if check_id in self.configs:
            self.states[check_id] = state
            retry = state.state != state.hard_state and state.state.is_problem
            step = config.retry_interval if retry else config.interval
            nxt = due + step
            if nxt <= now:  # far behind (or the machine slept): skip, don't pile up
                nxt = now + step - ((now - due) % step)
            if self._generation.get(check_id) == generation:  # not rescheduled meanwhile
                self._schedule(check_id, nxt)
        maintenance = self.maintenance.get(config.asset_id)
        self._pending.append(
            Outcome(
                check_id,
                at,
                result,
                state,
                tuple(events) if events else (),
                config.priority,
                maintenance is not None and self._in_maintenance(config.asset_id, at),
            )
        )

    def _start_due(self) -> None:
        """Start every check that is due."""
        now = self.clock()
        heap, configs, generations = self._heap, self.configs, self._generation
        running = self._running
        while heap and heap[0][0] <= now:
            due, _, check_id, generation = heapq.heappop(heap)
            config = configs.get(check_id)
            if config is None or generations.get(check_id) != generation:
                continue  # removed or rescheduled since
            task = asyncio.create_task(self._run(config, due, generation))
            running.add(task)
            task.add_done_callback(running.discard)

    # -- loops --------------------------------------------------------------

    async def _in_db_thread(self, func: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._db, func, *args)

    async def reload(self) -> None:
        """Load checks and maintenance for this shard and apply them."""
        snapshot = await self._in_db_thread(self.store.load, self.shard, list(self.states))
        self.apply(snapshot)

    async def flush(self, limit: int | None = None) -> int:
        """Write one batch (at most ``limit`` results) of what is pending, oldest
        first; on failure keep it for the next try. Returns how many were written.
        """
        if not self._pending:
            return 0
        size = self.batch_size if limit is None else max(1, min(limit, self.batch_size))
        batch, self._pending = self._pending[:size], self._pending[size:]
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
        return len(batch)

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
            # Only what is pending now: results that arrive during the write wait
            # for the next round. Chasing them wrote a few dozen rows per
            # transaction, and the fixed cost of a transaction (lock query,
            # commit) then cost more than the rows.
            await self.flush_all(limit=len(self._pending))

    async def flush_all(self, limit: int | None = None) -> bool:
        """Write everything pending (or the oldest ``limit`` results), batch by
        batch; False when a write failed.
        """
        while self._pending and (limit is None or limit > 0):
            try:
                written = await self.flush(limit)
            except Exception:
                return False
            if limit is not None:
                limit -= written
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; then finish running probes and write everything."""
        # The check types' shared resources (one HTTP connector) live as long
        # as the engine and outlive its last probe.
        async with registry.running():
            await self._serve(stop)

    async def _serve(self, stop: asyncio.Event) -> None:
        await self.reload()
        log.info(
            "monitor: shard %d/%d runs %d checks",
            self.shard.index,
            self.shard.count,
            len(self.configs),
        )
        settle_gc()
        loops = [
            asyncio.create_task(self._reload_loop(stop)),
            asyncio.create_task(self._write_loop(stop)),
        ]
        self._loop = asyncio.get_running_loop()
        self._tick()
        try:
            await stop.wait()
        finally:
            self._loop = None
            if self._timer is not None:
                self._timer.cancel()
            self._timer, self._timer_due = None, math.inf
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


GC_THRESHOLD = (10_000, 20, 20)
_gc_settled = False


def settle_gc() -> None:
    """Once per process, after the first load: tune the cyclic garbage collector.

    - ``gc.freeze()`` moves everything alive (modules, Django, the checks'
      configurations and states) out of the collector's way: without it every
      full collection walks those ~150,000 objects again (0.3 s of CPU with
      10,000 checks loaded). No ``gc.collect()`` first: a full collection at
      start-up delayed the first checks by a few hundred milliseconds, and the
      little start-up garbage it would free is not worth that.
    - A first-generation threshold of 10,000 instead of 700: a check run
      allocates a few hundred objects, nearly all freed by reference counting,
      so the default collected ~100 times a second for nothing. Measured with
      500-800 HTTP checks/s: 0.9-1.1 s of collector CPU per 12 s with the
      defaults, 0.4-0.5 s with these.
    """
    global _gc_settled  # noqa: PLW0603 - a process-wide setting, applied once
    if _gc_settled:
        return
    _gc_settled = True
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
