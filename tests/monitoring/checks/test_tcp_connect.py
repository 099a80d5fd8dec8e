"""The TCP check's bare connect: literal addresses without a resolver, refused and
silent targets, deadlines that leave no socket and no watcher behind."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator

import pytest
import uvloop

from leitstand.monitoring.checks import State, registry
from leitstand.monitoring.checks.tcp import connect_and_close, literal_family


@pytest.mark.parametrize(
    ("host", "family"),
    [
        ("127.0.0.1", socket.AF_INET),
        ("10.1.2.3", socket.AF_INET),
        ("::1", socket.AF_INET6),
        ("2001:db8::5", socket.AF_INET6),
        ("localhost", None),
        ("db.example", None),
        ("127.0.0.1.example", None),
        ("", None),
    ],
)
def test_literal_family(host: str, family: socket.AddressFamily | None) -> None:
    assert literal_family(host) == family


def open_fds(run) -> int:  # type: ignore[no-untyped-def]
    """Open file descriptors once ``run``'s loop implementation is warm (uvloop
    keeps two of its own from the first loop on)."""
    run(asyncio.sleep(0))
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A listener that never accepts, its backlog already full: the kernel drops
    further handshakes, so a connect neither succeeds nor fails (a firewall that
    drops packets looks the same)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for filler in fillers:
        filler.close()
    server.close()


@pytest.mark.parametrize("run", [asyncio.run, uvloop.run], ids=["asyncio", "uvloop"])
def test_a_silent_target_costs_one_timeout_and_leaks_nothing(full_backlog: int, run) -> None:  # type: ignore[no-untyped-def]
    async def checks() -> list[str]:
        results = await asyncio.gather(
            *(
                registry.run_check("tcp", {"host": "127.0.0.1", "port": full_backlog}, 0.3)
                for _ in range(20)
            )
        )
        return [r.summary for r in results]

    before = open_fds(run)
    summaries = run(checks())
    assert summaries == ["no answer within 0.3 s"] * 20
    assert open_fds(run) == before  # every socket closed after the deadline


@pytest.mark.parametrize("run", [asyncio.run, uvloop.run], ids=["asyncio", "uvloop"])
def test_many_connections_in_a_row_leave_no_socket_open(run) -> None:  # type: ignore[no-untyped-def]
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1024)
    port = server.getsockname()[1]

    async def connect_many() -> None:
        for _ in range(200):
            await connect_and_close("127.0.0.1", port)

    try:
        before = open_fds(run)
        run(connect_many())
        assert open_fds(run) == before
    finally:
        server.close()


def test_refused_then_open_on_the_same_loop(closed_port: int, silent_port: int) -> None:
    """A refused connection's watcher is gone before its file number is reused."""

    async def both() -> tuple[str, str]:
        refused = await registry.run_check("tcp", {"host": "127.0.0.1", "port": closed_port}, 2)
        opened = await registry.run_check("tcp", {"host": "127.0.0.1", "port": silent_port}, 2)
        return refused.summary, opened.state

    refused, opened = uvloop.run(both())
    assert refused == f"cannot connect to 127.0.0.1:{closed_port}: connection refused"
    assert opened == State.OK


def test_a_name_with_several_addresses_falls_through_to_one_that_answers() -> None:
    # "localhost" resolves to ::1 and 127.0.0.1; only the IPv4 one listens here.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    try:
        result = asyncio.run(registry.run_check("tcp", {"host": "localhost", "port": port}, 2))
    finally:
        server.close()
    assert result.state == State.OK, result.summary
