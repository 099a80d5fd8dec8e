"""TCP check: parameters, evaluation table, and real sockets on loopback."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from leitstand.monitoring.checks import ParamsError, Result, State, registry
from leitstand.monitoring.checks.tcp import TcpCheck, TcpParams, TcpRaw


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"host": "db.example", "port": 5432}, TcpParams("db.example", 5432)),
        (
            {"host": "db.example", "port": 22, "latency_warning_s": 0.2, "latency_critical_s": 1},
            TcpParams("db.example", 22, 0.2, 1.0),
        ),
    ],
)
def test_parse_params(raw: dict[str, Any], expected: TcpParams) -> None:
    assert TcpCheck.parse_params(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"port": 22}, "host: required"),
        ({"host": "db.example"}, "port: required"),
        (
            {"host": "db.example", "port": 22, "timeout": 3},
            "unknown parameter 'timeout'; expected some of: host, latency_critical_s, latency_warning_s, port",
        ),
    ],
)
def test_parse_params_refuses(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ParamsError) as info:
        TcpCheck.parse_params(raw)
    assert str(info.value) == message


THRESHOLDS = TcpParams("db.example", 5432, latency_warning_s=0.1, latency_critical_s=0.5)


@pytest.mark.parametrize(
    ("params", "raw", "expected"),
    [
        (
            TcpParams("db.example", 5432),
            TcpRaw(latency_s=0.0123),
            Result(State.OK, "connected to db.example:5432 in 12 ms", {"latency_s": 0.0123}),
        ),
        (
            THRESHOLDS,
            TcpRaw(latency_s=0.1),
            Result(State.WARNING, "connected to db.example:5432 in 100 ms", {"latency_s": 0.1}),
        ),
        (
            THRESHOLDS,
            TcpRaw(latency_s=0.75),
            Result(State.CRITICAL, "connected to db.example:5432 in 750 ms", {"latency_s": 0.75}),
        ),
        (
            THRESHOLDS,
            TcpRaw(latency_s=None, error="connection refused"),
            Result(State.CRITICAL, "cannot connect to db.example:5432: connection refused"),
        ),
    ],
)
def test_evaluate(params: TcpParams, raw: TcpRaw, expected: Result) -> None:
    assert TcpCheck().evaluate(params, raw) == expected


def test_probe_open_port(silent_port: int) -> None:
    raw = asyncio.run(TcpCheck().probe(TcpParams("127.0.0.1", silent_port), 2))
    assert raw.error is None
    assert raw.latency_s is not None
    assert 0 < raw.latency_s < 0.5


def test_probe_closed_port(closed_port: int) -> None:
    raw = asyncio.run(TcpCheck().probe(TcpParams("127.0.0.1", closed_port), 2))
    assert raw == TcpRaw(latency_s=None, error="connection refused")


def test_probe_unresolvable_host() -> None:
    raw = asyncio.run(TcpCheck().probe(TcpParams("no-such-host.invalid", 80), 2))
    assert raw.latency_s is None
    assert raw.error is not None
    assert raw.error.startswith("cannot resolve host name: ")


async def _listen_and_check(bind: str, host: str) -> tuple[str, str]:
    server = await asyncio.start_server(lambda r, w: w.close(), bind, 0)
    port = server.sockets[0].getsockname()[1]
    try:
        result = await registry.run_check("tcp", {"host": host, "port": port}, 2.0)
    finally:
        server.close()
        await server.wait_closed()
    return str(result.state), result.summary


@pytest.mark.parametrize(
    ("bind", "host"), [("::1", "::1"), ("127.0.0.1", "localhost"), ("127.0.0.1", "127.0.0.1")]
)
def test_connects_by_literal_and_by_name(bind: str, host: str) -> None:
    state, summary = asyncio.run(_listen_and_check(bind, host))
    assert state == "ok", summary


def test_a_name_that_does_not_resolve() -> None:
    result = asyncio.run(registry.run_check("tcp", {"host": "nothing.invalid", "port": 80}, 3.0))
    assert str(result.state) == "critical"
    assert result.summary == (
        "cannot connect to nothing.invalid:80: cannot resolve host name: Name or service not known"
    )
