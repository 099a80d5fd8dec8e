"""The engine: schedule, soft/hard, dependencies, maintenance, hot reload, hostile targets,
write failures. Scheduling runs at sub-second intervals against an in-memory store (the
database side is tested in test_engine_db.py); probes are real where the network matters."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leitstand.monitoring.checks.base import Result, State
from leitstand.monitoring.checks.registry import run_check
from leitstand.monitoring.engine import CheckConfig, Engine, Outcome, Snapshot, phase
from leitstand.monitoring.shards import Shard
from leitstand.monitoring.states import Status


class MemoryStore:
    """Holds check configs and collects what the engine writes."""

    def __init__(self, configs: Iterable[CheckConfig] = ()) -> None:
        self.configs = {c.id: c for c in configs}
        self.maintenance: dict[int, list[tuple[datetime, datetime]]] = {}
        self.written: list[Outcome] = []
        self.fail_writes = 0
        self.loads = 0

    def load(self, shard: Shard, known: Iterable[int]) -> Snapshot:
        self.loads += 1
        mine = {k: v for k, v in self.configs.items() if shard.owns(k)}
        return Snapshot(mine, {}, {}, dict(self.maintenance))

    def write(self, outcomes: list[Outcome]) -> None:
        if self.fail_writes:
            self.fail_writes -= 1
            raise RuntimeError("database is away")
        self.written.extend(outcomes)

    def close(self) -> None:
        pass

    def events(self, check_id: int) -> list[tuple[str, str, str]]:
        return [
            (e.kind.value, e.old.value, e.new.value)
            for o in self.written
            if o.check_id == check_id
            for e in o.events
        ]


def config(
    check_id: int, *, kind: str = "scripted", interval: float = 0.1, **kw: Any
) -> CheckConfig:
    values: dict[str, Any] = {
        "params": {},
        "retry_interval": 0.05,
        "timeout": 1.0,
        "max_attempts": 3,
        "parent_id": None,
        "asset_id": 1,
        "priority": "P1",
        "version": "1",
    }
    values.update(kw)
    return CheckConfig(id=check_id, kind=kind, interval=interval, **values)


class Script:
    """A stand-in check type for scheduling tests: answers what the test says."""

    def __init__(self) -> None:
        self.states: dict[int, State] = {}
        self.calls: dict[int, list[float]] = {}

    async def __call__(self, kind: str, params: Mapping[str, Any], timeout: float) -> Result:
        if kind != "scripted":
            return await run_check(kind, params, timeout)
        check_id = int(params["id"])
        self.calls.setdefault(check_id, []).append(time.monotonic())
        return Result(self.states.get(check_id, State.OK), f"scripted {check_id}")


async def run_for(engine: Engine, seconds: float, during: Any = None) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    if during is not None:
        await during()
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.wait_for(task, 10)


def make(store: MemoryStore, script: Script, **kw: Any) -> Engine:
    return Engine(store, reload_interval=0.1, flush_interval=0.05, runner=script, **kw)


def scripted(check_id: int, **kw: Any) -> CheckConfig:
    return config(check_id, params={"id": check_id}, **kw)


def test_phase_spreads_checks_over_the_interval() -> None:
    offsets = sorted(phase(i, 60.0) for i in range(1, 6001))
    assert all(0 <= o < 60 for o in offsets)
    per_second = [sum(1 for o in offsets if s <= o < s + 1) for s in range(60)]
    assert max(per_second) < 140  # 100 a second on average, no burst


def test_checks_run_on_their_interval() -> None:
    store, script = MemoryStore([scripted(1, interval=0.1), scripted(2, interval=0.25)]), Script()
    asyncio.run(run_for(make(store, script), 1.0))
    assert 8 <= len(script.calls[1]) <= 12
    assert 3 <= len(script.calls[2]) <= 5
    # Each run keeps to its slot of a fixed phase (no drift, no double runs); a
    # late run on a busy machine may be up to 150 ms late, and the next is on time.
    start = script.calls[1][0]
    offsets = [t - (start + i * 0.1) for i, t in enumerate(script.calls[1])]
    assert all(-0.02 < o < 0.15 for o in offsets), offsets
    gaps = [b - a for a, b in zip(script.calls[1], script.calls[1][1:], strict=False)]
    assert min(gaps) > 0.04, gaps  # never two runs of one check at once


def test_failure_is_soft_then_hard_with_quicker_retries() -> None:
    store, script = MemoryStore([scripted(1, interval=0.5, max_attempts=3)]), Script()
    script.states[1] = State.CRITICAL
    asyncio.run(run_for(make(store, script), 0.9))
    assert store.events(1)[0] == ("state", "pending", "critical")
    # the three attempts came retry_interval (0.05 s) apart, not interval (0.5 s)
    first_three = script.calls[1][:3]
    assert first_three[2] - first_three[0] < 0.3
    states = [o.state.state for o in store.written]
    assert states[:3] == [Status.CRITICAL] * 3


def test_recovery_is_an_event() -> None:
    store, script = MemoryStore([scripted(1, max_attempts=1)]), Script()
    script.states[1] = State.CRITICAL

    async def recover() -> None:
        await asyncio.sleep(0.35)
        script.states[1] = State.OK

    asyncio.run(run_for(make(store, script), 0.4, recover))
    assert store.events(1) == [("state", "pending", "critical"), ("state", "critical", "ok")]


def test_a_service_behind_a_dead_host_is_unreachable() -> None:
    host = scripted(1, max_attempts=1, interval=0.05)
    service = scripted(2, max_attempts=1, parent_id=1, interval=0.2)
    store, script = MemoryStore([host, service]), Script()
    script.states[1] = State.CRITICAL
    script.states[2] = State.CRITICAL
    asyncio.run(run_for(make(store, script), 0.6))
    assert store.events(1) == [("state", "pending", "critical")]
    assert ("state", "pending", "unreachable") in store.events(2)
    assert ("state", "pending", "critical") not in store.events(2)


def test_announced_maintenance_marks_but_keeps_everything() -> None:
    store, script = MemoryStore([scripted(1, max_attempts=1)]), Script()
    now = datetime.now(UTC)
    store.maintenance = {1: [(now - timedelta(minutes=1), now + timedelta(minutes=5))]}
    script.states[1] = State.CRITICAL
    asyncio.run(run_for(make(store, script), 0.3))
    assert store.written
    assert all(o.in_maintenance for o in store.written)
    assert store.events(1) == [("state", "pending", "critical")]


def test_hot_reload_adds_changes_and_removes_checks() -> None:
    store, script = MemoryStore([scripted(1)]), Script()
    engine = make(store, script)

    async def edit() -> None:
        await asyncio.sleep(0.3)
        store.configs[2] = scripted(2)  # added
        del store.configs[1]  # removed

    asyncio.run(run_for(engine, 0.8, edit))
    last_one = script.calls[1][-1]
    assert script.calls[2]
    assert script.calls[2][0] > script.calls[1][0]
    # check 1 stopped within a reload interval or two of its removal
    assert last_one - script.calls[1][0] < 0.6
    assert 1 not in engine.configs


def test_nothing_is_lost_when_writes_fail_for_a_while() -> None:
    store, script = MemoryStore([scripted(1), scripted(2)]), Script()
    store.fail_writes = 5
    engine = make(store, script)
    asyncio.run(run_for(engine, 0.8))
    assert engine.stats.write_failures == 5
    assert engine.stats.runs == len(store.written)  # every run reached the store in the end
    assert len(store.written) >= 10


def test_shards_split_the_checks() -> None:
    store = MemoryStore([scripted(i, interval=5) for i in range(1, 101)])
    a, b = Engine(store, Shard(0, 2)), Engine(store, Shard(1, 2))
    a.apply(store.load(a.shard, []))
    b.apply(store.load(b.shard, []))
    assert set(a.configs).isdisjoint(b.configs)
    assert len(a.configs) + len(b.configs) == 100


@pytest.fixture
def silent_server() -> Iterable[int]:
    """Accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(100)
    yield server.getsockname()[1]
    server.close()


def test_a_hostile_target_costs_one_timeout_not_the_schedule(silent_server: int) -> None:
    hostile = config(
        99,
        kind="ssh",
        params={"host": "127.0.0.1", "port": silent_server},
        timeout=0.5,
        interval=0.2,
    )
    store, script = (
        MemoryStore([hostile, *(scripted(i, interval=0.1) for i in range(1, 21))]),
        Script(),
    )
    engine = make(store, script)
    asyncio.run(run_for(engine, 1.2))
    for i in range(1, 21):
        assert len(script.calls[i]) >= 9, f"check {i} was held up"
    hostile_results = [o for o in store.written if o.check_id == 99]
    assert hostile_results
    assert all(o.result.state == State.CRITICAL for o in hostile_results)
    assert sorted(engine.stats.lags)[int(len(engine.stats.lags) * 0.99)] < 0.1


def test_the_engine_runs_on_uvloop_too() -> None:
    from leitstand.monitoring import loop

    store, script = MemoryStore([scripted(1, interval=0.1)]), Script()
    loop.run(run_for(make(store, script), 0.5))
    assert len(script.calls[1]) >= 4
