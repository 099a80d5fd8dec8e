"""The engine's scheduler and write loop: one timer for the earliest due check,
retries planned earlier than anything else still run on time, results written in
batches per flush interval, in order, none lost."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterable
from datetime import datetime

from tests.monitoring.test_engine import MemoryStore, Script, run_for, scripted

from leitstand.monitoring.checks.base import State
from leitstand.monitoring.engine import TICK, Engine, Outcome, phase
from leitstand.monitoring.shards import Shard
from leitstand.monitoring.states import Status


class SlowStore(MemoryStore):
    """Takes a while for every write, as a busy database does; counts the writes."""

    def __init__(self, configs: Iterable[object], seconds: float) -> None:
        super().__init__(configs)  # type: ignore[arg-type]
        self.seconds = seconds
        self.batches: list[int] = []

    def write(self, outcomes: list[Outcome]) -> None:
        time.sleep(self.seconds)
        super().write(outcomes)
        self.batches.append(len(outcomes))


def test_a_retry_planned_before_everything_else_runs_on_time() -> None:
    # The only check runs every 10 s; its retries are due 0.05 s after a
    # failure, long before the timer the scheduler had set.
    store, script = MemoryStore([scripted(1, interval=10.0, max_attempts=3)]), Script()
    script.states[1] = State.CRITICAL
    # A clock shifted so that the check's phase comes up 0.3 s from now (after
    # the engine's first load, however slow the machine).
    shift = (phase(1, 10.0) - time.time() % 10.0 - 0.3) % 10.0
    engine = Engine(
        store,
        reload_interval=5.0,
        flush_interval=0.05,
        runner=script,
        clock=lambda: time.time() + shift,
    )
    asyncio.run(run_for(engine, 1.0))
    calls = script.calls[1]
    assert len(calls) >= 3
    assert calls[2] - calls[0] < 0.25
    assert store.events(1) == [("state", "pending", "critical")]


def test_checks_due_together_start_in_one_wake_up() -> None:
    store, script = MemoryStore([scripted(i, interval=0.2) for i in range(1, 201)]), Script()
    engine = Engine(store, reload_interval=5.0, flush_interval=0.05, runner=script)
    ticks = 0
    tick = engine._tick

    def counting() -> None:
        nonlocal ticks
        ticks += 1
        tick()

    engine._tick = counting  # type: ignore[method-assign]
    asyncio.run(run_for(engine, 1.0))
    assert engine.stats.runs >= 800  # 200 checks, 5 times a second
    # at most one wake-up per tick (plus the odd early one), not one per check
    assert ticks <= 1.0 / TICK + 20
    assert ticks < engine.stats.runs / 3
    assert sorted(engine.stats.lags)[int(len(engine.stats.lags) * 0.99)] < 0.1


def test_results_arriving_during_a_write_wait_for_the_next_round() -> None:
    configs = [scripted(i, interval=0.02) for i in range(1, 21)]  # ~1,000 results/s
    store, script = SlowStore(configs, seconds=0.03), Script()
    store.configs = {c.id: c for c in configs}
    engine = Engine(store, reload_interval=5.0, flush_interval=0.2, runner=script)
    asyncio.run(run_for(engine, 1.0))
    # about one write per flush interval (plus the final ones), each a real batch;
    # chasing every new result would have made dozens of small writes
    assert len(store.batches) <= 1.0 / 0.2 + 4
    assert max(store.batches) >= 100
    assert engine.stats.runs == len(store.written)


def test_every_result_is_written_once_and_in_order_per_check() -> None:
    configs = [scripted(i, interval=0.01, max_attempts=2) for i in range(1, 11)]
    store, script = SlowStore(configs, seconds=0.01), Script()
    store.fail_writes = 3
    engine = Engine(store, reload_interval=5.0, flush_interval=0.05, batch_size=50, runner=script)

    async def vary() -> None:
        for step in range(8):
            await asyncio.sleep(0.08)
            for i in range(1, 11):
                script.states[i] = State.CRITICAL if (i + step) % 3 == 0 else State.OK

    asyncio.run(run_for(engine, 0.3, vary))
    assert engine.stats.runs == len(store.written)
    for i in range(1, 11):
        mine = [o for o in store.written if o.check_id == i]
        assert len(mine) == len(script.calls[i])
        times: list[datetime] = [o.at for o in mine]
        assert times == sorted(times)
        # each outcome's state follows from the one before it: attempts count up
        # by one on a failure and drop to 0 on OK, none skipped or repeated
        for before, after in itertools.pairwise(mine):
            if after.state.state is Status.OK:
                assert after.state.attempt == 0
            else:
                assert after.state.attempt == before.state.attempt + 1


def test_a_stopped_engine_leaves_no_timer_behind() -> None:
    store, script = MemoryStore([scripted(1, interval=0.05)]), Script()
    engine = Engine(store, reload_interval=5.0, flush_interval=0.05, runner=script)
    asyncio.run(run_for(engine, 0.2))
    assert engine._timer is None
    runs = engine.stats.runs
    # planning a check after the stop arms nothing (there is no loop to arm it on)
    engine._schedule(1, 0.0)
    assert engine._timer is None
    assert engine.stats.runs == runs


def test_a_shard_engine_only_arms_for_its_own_checks() -> None:
    store = MemoryStore([scripted(i, interval=0.05) for i in range(1, 41)])
    script = Script()
    engine = Engine(store, Shard(1, 2), reload_interval=5.0, flush_interval=0.05, runner=script)
    asyncio.run(run_for(engine, 0.3))
    assert set(script.calls) == set(engine.configs)
    assert all(Shard(1, 2).owns(i) for i in script.calls)


def test_the_collector_is_settled_once_the_engine_has_loaded() -> None:
    import gc

    from leitstand.monitoring.engine import GC_THRESHOLD

    store, script = MemoryStore([scripted(1, interval=0.05)]), Script()
    asyncio.run(run_for(Engine(store, flush_interval=0.05, runner=script), 0.1))
    assert gc.get_threshold() == GC_THRESHOLD
    assert gc.get_freeze_count() > 0
    assert script.calls[1]  # and the checks ran
