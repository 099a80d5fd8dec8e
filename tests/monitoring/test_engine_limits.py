"""The engine's bounds: concurrency per check type, and hostile targets probed by
the real check types while the rest of the schedule keeps its time.

Issue: "bounded concurrency per check type" and "A hostile target (accepts and
never answers, sends gigabytes, speaks garbage TLS) costs one timeout, never a
stalled engine."
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from tests.monitoring.checks.conftest import _garbage, _silent
from tests.monitoring.test_engine import MemoryStore, Script, config, run_for, scripted

from leitstand.monitoring.checks.base import Result, State
from leitstand.monitoring.engine import CheckConfig, Engine


class Slow(Script):
    """Scripted checks, and ``slow`` ones that hold their slot for a while and
    count how many of their kind are in flight at once."""

    def __init__(self, hold: float) -> None:
        super().__init__()
        self.hold = hold
        self.in_flight: dict[str, int] = defaultdict(int)
        self.most: dict[str, int] = defaultdict(int)
        self.finished: dict[str, int] = defaultdict(int)

    async def __call__(self, kind: str, params: Mapping[str, Any], timeout: float) -> Result:
        if kind == "scripted":
            return await super().__call__(kind, params, timeout)
        self.in_flight[kind] += 1
        self.most[kind] = max(self.most[kind], self.in_flight[kind])
        try:
            await asyncio.sleep(self.hold)
        finally:
            self.in_flight[kind] -= 1
            self.finished[kind] += 1
        return Result(State.OK, kind)


def test_each_check_type_runs_at_most_its_limit_at_once() -> None:
    slow = [config(100 + i, kind="slow", interval=0.1) for i in range(12)]
    other = [config(200 + i, kind="other", interval=0.1) for i in range(12)]
    store = MemoryStore([*slow, *other, *(scripted(i, interval=0.1) for i in range(1, 6))])
    script = Slow(hold=0.2)
    engine = Engine(
        store,
        reload_interval=0.1,
        flush_interval=0.05,
        runner=script,
        concurrency={"slow": 3, "default": 5},
    )
    asyncio.run(run_for(engine, 1.0))
    assert script.most["slow"] == 3  # its own limit, reached and never passed
    assert script.most["other"] == 5  # the default for kinds without a limit
    # The limits hold back only their own kind: the scripted checks (a kind with
    # the default limit, never reached) keep their 100 ms schedule.
    for i in range(1, 6):
        assert len(script.calls[i]) >= 8, f"check {i} was held up: {script.calls[i]}"
    # A check waiting for a slot is late, not lost: every run of the slow kind
    # (those still queued at the stop included) reached the store.
    slow_written = sum(1 for o in store.written if 100 <= o.check_id < 112)
    assert slow_written == script.finished["slow"] > 12


async def _endless_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    # A 200 with a body that never ends ("sends gigabytes").
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
    await _garbage(reader, writer)


def hostile(check_id: int, kind: str, **params: Any) -> CheckConfig:
    return config(check_id, kind=kind, params=params, interval=0.3, timeout=0.8)


def test_hostile_targets_cost_their_timeout_and_nothing_else() -> None:
    async def scenario() -> tuple[MemoryStore, Script, Engine, float]:
        ports: dict[str, int] = {}
        servers = []
        for name, handler in (
            ("endless", _endless_http),
            ("garbage", _garbage),
            ("silent", _silent),
        ):
            server = await asyncio.start_server(handler, "127.0.0.1", 0)
            servers.append(server)
            ports[name] = server.sockets[0].getsockname()[1]
        targets = [
            hostile(90, "http", url=f"http://127.0.0.1:{ports['endless']}/"),
            hostile(91, "http", url=f"https://127.0.0.1:{ports['garbage']}/"),
            hostile(92, "http", url=f"https://127.0.0.1:{ports['silent']}/"),
            hostile(93, "smtp", host="127.0.0.1", port=ports["garbage"]),
        ]
        store = MemoryStore([*targets, *(scripted(i, interval=0.1) for i in range(1, 21))])
        script = Script()
        engine = Engine(store, reload_interval=0.1, flush_interval=0.05, runner=script)
        started = time.monotonic()
        await run_for(engine, 1.5)
        took = time.monotonic() - started
        for server in servers:
            server.close()
            await server.wait_closed()
        return store, script, engine, took

    store, script, engine, took = asyncio.run(scenario())
    # Stopping waits for probes in flight: at most one timeout beyond the window.
    assert took < 1.5 + 0.8 + 1.0, took
    for i in range(1, 21):
        assert len(script.calls[i]) >= 12, f"check {i} was held up: {len(script.calls[i])}"
    results = {c: [o.result for o in store.written if o.check_id == c] for c in (90, 91, 92, 93)}
    assert all(results.values()), results
    # The endless body: the first MiB is read, the connection dropped, the page judged.
    assert all(r.state is State.OK for r in results[90]), results[90]
    # Garbage TLS, a handshake that never completes, garbage SMTP: critical,
    # each with a one-line reason.
    for check_id in (91, 92, 93):
        for result in results[check_id]:
            assert result.state is State.CRITICAL, result
            assert result.summary
            assert "\n" not in result.summary
    assert any("no answer within 0.8 s" in r.summary for r in results[92]), results[92]
    lags = sorted(engine.stats.lags)
    assert lags[int(len(lags) * 0.99)] < 0.1, lags[-5:]
