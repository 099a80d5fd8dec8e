"""NTP check: packet codec and evaluation tables, and UDP servers on loopback."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import pytest
from tests.monitoring.checks.conftest import Background
from tests.monitoring.checks.servers import Chrony

from leitstand.monitoring.checks import ParamsError, Result, State, registry
from leitstand.monitoring.checks.ntp import (
    PACKET,
    NtpCheck,
    NtpPacket,
    NtpParams,
    NtpRaw,
    client_request,
    from_ntp,
    parse_packet,
    to_ntp,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"host": "ntp.example"}, NtpParams("ntp.example")),
        (
            {"host": "ntp.example", "offset_warning_s": 0.1, "offset_critical_s": 0.5},
            NtpParams("ntp.example", 123, 0.1, 0.5),
        ),
        ({"host": "ntp.example", "offset_warning_s": 5}, NtpParams("ntp.example", 123, 5.0, 10.0)),
    ],
)
def test_parse_params(raw: dict[str, Any], expected: NtpParams) -> None:
    assert NtpCheck.parse_params(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "host: required"),
        (
            {"host": "ntp.example", "offset_warning_s": 20},
            "offset_warning_s: must not be greater than offset_critical_s",
        ),
        (
            {"host": "ntp.example", "offset_critical_s": 0},
            "offset_critical_s: must be greater than 0, got 0",
        ),
        (
            {"host": "ntp.example", "max_offset": 1},
            "unknown parameter 'max_offset'; expected some of: host, offset_critical_s, offset_warning_s, port",
        ),
    ],
)
def test_parse_params_refuses(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ParamsError) as info:
        NtpCheck.parse_params(raw)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("unix", "ntp"),
    [
        (0.0, 2_208_988_800 << 32),
        (1_800_000_000.5, ((1_800_000_000 + 2_208_988_800) << 32) + 2**31),
    ],
)
def test_timestamps(unix: float, ntp: int) -> None:
    assert to_ntp(unix) == ntp
    assert from_ntp(ntp) == unix


def test_client_request() -> None:
    request = client_request(1_800_000_000.5)
    assert len(request) == 48
    assert request[0] == 0x23  # LI 0, version 4, mode 3 (client)
    assert parse_packet(request).transmit == to_ntp(1_800_000_000.5)


SENT = 1_800_000_000.0


def answer(
    *,
    leap: int = 0,
    mode: int = 4,
    stratum: int = 2,
    ref: bytes = b"GPS\x00",
    origin: float = SENT,
    server_skew: float = 0.0,
    latency: float = 0.01,
) -> bytes:
    """A server answer to a request sent at ``SENT`` that took ``latency`` each way."""
    receive = SENT + latency + server_skew
    return PACKET.pack(
        (leap << 6) | (4 << 3) | mode,
        stratum,
        6,
        -20,
        b"",
        b"",
        ref,
        0,
        to_ntp(origin),
        to_ntp(receive),
        to_ntp(receive + 0.001),
    )


def seen(response: bytes, latency: float = 0.01) -> NtpRaw:
    return NtpRaw(sent_at=SENT, received_at=SENT + 2 * latency + 0.001, response=response)


def test_parse_packet() -> None:
    assert parse_packet(answer(ref=b"RATE", stratum=0)) == NtpPacket(
        leap=0,
        version=4,
        mode=4,
        stratum=0,
        reference_id=b"RATE",
        origin=to_ntp(SENT),
        receive=to_ntp(SENT + 0.01),
        transmit=to_ntp(SENT + 0.011),
    )


def test_parse_packet_refuses_short_data() -> None:
    with pytest.raises(ValueError, match=r"^10 bytes, expected at least 48$"):
        parse_packet(b"0123456789")


DEFAULT = NtpParams("ntp.example")


@pytest.mark.parametrize(
    ("raw", "state", "summary"),
    [
        (seen(answer()), State.OK, "offset +0.0 ms, stratum 2"),
        (seen(answer(server_skew=0.25)), State.OK, "offset +250.0 ms, stratum 2"),
        (seen(answer(server_skew=-1.5)), State.WARNING, "offset -1500.0 ms, stratum 2"),
        (seen(answer(server_skew=30)), State.CRITICAL, "offset +30000.0 ms, stratum 2"),
        (seen(answer(stratum=16)), State.CRITICAL, "NTP server is not synchronised (stratum 16)"),
        (
            seen(answer(leap=3, stratum=3)),
            State.CRITICAL,
            "NTP server is not synchronised (stratum 3)",
        ),
        (
            seen(answer(stratum=0, ref=b"RATE")),
            State.CRITICAL,
            "NTP server refused: kiss code RATE",
        ),
        (
            # An unsynchronised chronyd: leap alarm, stratum 0, no kiss code.
            seen(answer(leap=3, stratum=0, ref=b"\x00\x00\x00\x00")),
            State.CRITICAL,
            "NTP server is not synchronised (stratum 0)",
        ),
        (seen(answer(mode=3)), State.CRITICAL, "not an NTP server answer (mode 3)"),
        (seen(answer(origin=SENT - 60)), State.CRITICAL, "NTP answer does not match the request"),
        (
            seen(b"\x00\xff garbage"),
            State.CRITICAL,
            "invalid NTP answer from ntp.example:123: '\\x00\\xff garbage'",
        ),
        (
            NtpRaw(error="connection refused"),
            State.CRITICAL,
            "no NTP answer from ntp.example:123: connection refused",
        ),
    ],
)
def test_evaluate(raw: NtpRaw, state: State, summary: str) -> None:
    result = NtpCheck().evaluate(DEFAULT, raw)
    assert (result.state, result.summary) == (state, summary)


def test_evaluate_metrics() -> None:
    result = NtpCheck().evaluate(DEFAULT, seen(answer(server_skew=0.25, latency=0.01)))
    assert result.metrics["stratum"] == 2.0
    assert result.metrics["offset_s"] == pytest.approx(0.25, abs=1e-6)
    assert result.metrics["delay_s"] == pytest.approx(0.02, abs=1e-6)


# -- UDP servers ------------------------------------------------------------------------

Reply = Callable[[bytes], bytes | None]


def _ntp_reply(*, stratum: int = 2, skew: float = 0.0) -> Reply:
    def reply(request: bytes) -> bytes:
        origin = parse_packet(request).transmit
        now = time.time() + skew
        return PACKET.pack(
            0x24, stratum, 6, -20, b"", b"", b"GPS\x00", 0, origin, to_ntp(now), to_ntp(now)
        )

    return reply


class _Server(asyncio.DatagramProtocol):
    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # 3.11's selector datagram transport does not subclass DatagramTransport.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        response = self.reply(data)
        if response is not None and self.transport is not None:
            self.transport.sendto(response, addr)


def _udp(background: Background, reply: Reply) -> Iterator[int]:
    async def start() -> asyncio.DatagramTransport:
        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: _Server(reply), local_addr=("127.0.0.1", 0)
        )
        return transport

    transport = background.run(start())
    yield transport.get_extra_info("sockname")[1]
    background.loop.call_soon_threadsafe(transport.close)


@dataclass(frozen=True)
class Ports:
    good: int
    skewed: int
    unsynchronised: int
    garbage: int
    silent: int


@pytest.fixture(scope="module")
def ports(background: Background) -> Iterator[Ports]:
    servers = [
        _udp(background, _ntp_reply()),
        _udp(background, _ntp_reply(skew=-3)),
        _udp(background, _ntp_reply(stratum=16)),
        _udp(background, lambda request: b"\x00\xff garbage"),
        _udp(background, lambda request: None),
    ]
    yield Ports(*(next(server) for server in servers))
    for server in servers:
        next(server, None)


def run(port: int, timeout: float = 5) -> Result:
    return asyncio.run(registry.run_check("ntp", {"host": "127.0.0.1", "port": port}, timeout))


def test_good_server(ports: Ports) -> None:
    result = run(ports.good)
    assert result.state is State.OK
    assert result.summary.endswith(" ms, stratum 2")
    assert abs(result.metrics["offset_s"]) < 0.1


def test_skewed_server(ports: Ports) -> None:
    result = run(ports.skewed)
    assert result.state is State.WARNING
    assert result.metrics["offset_s"] == pytest.approx(-3, abs=0.1)


def test_unsynchronised_server(ports: Ports) -> None:
    assert run(ports.unsynchronised) == Result(
        State.CRITICAL, "NTP server is not synchronised (stratum 16)"
    )


def test_garbage(ports: Ports) -> None:
    assert run(ports.garbage) == Result(
        State.CRITICAL, f"invalid NTP answer from 127.0.0.1:{ports.garbage}: '\\x00\\xff garbage'"
    )


def test_silent_server_costs_one_timeout(ports: Ports) -> None:
    started = time.monotonic()
    assert run(ports.silent, timeout=0.5) == Result(State.CRITICAL, "no answer within 0.5 s")
    assert time.monotonic() - started < 1


def test_closed_port() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert run(port) == Result(
        State.CRITICAL, f"no NTP answer from 127.0.0.1:{port}: connection refused"
    )


# Against chronyd (chrony), serving its own clock on a high port.


def test_chronyd(chrony: Chrony) -> None:
    result = run(chrony.synchronised)
    assert result.state is State.OK
    assert result.summary.endswith(" ms, stratum 8")
    assert result.metrics["stratum"] == 8
    assert abs(result.metrics["offset_s"]) < 0.05


def test_chronyd_offset_beyond_a_tight_threshold(chrony: Chrony) -> None:
    # chronyd cannot be told to lie about the time; a threshold below any real
    # offset makes the same answer a warning instead.
    raw = {"host": "127.0.0.1", "port": chrony.synchronised, "offset_warning_s": 1e-9}
    result = asyncio.run(registry.run_check("ntp", raw, 5))
    assert result.state is State.WARNING


def test_chronyd_without_time_source(chrony: Chrony) -> None:
    assert run(chrony.unsynchronised) == Result(
        State.CRITICAL, "NTP server is not synchronised (stratum 0)"
    )
