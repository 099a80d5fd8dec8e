"""NTP: the server answers a client request, is synchronised, and its clock
agrees with the monitor's (as ``check_ntp_time`` does).

Seed 003 §2 "Serverdienste (FTP, SSH, NTP)". Packet layout and the offset
and delay formulas are RFC 5905 §7.3 and §8.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leitstand.monitoring.checks import fields
from leitstand.monitoring.checks.base import (
    CheckType,
    ParamsError,
    Result,
    State,
    describe_error,
    printable,
)
from leitstand.monitoring.checks.registry import register

# Seconds from the NTP era 0 (1900-01-01) to the Unix epoch.
NTP_EPOCH_OFFSET = 2_208_988_800
PACKET = struct.Struct("!BBbb4s4s4sQQQQ")
LEAP_ALARM = 3  # "clock unsynchronised"
UNSYNCHRONISED_STRATUM = 16
MODE_CLIENT = 3
MODE_SERVER = 4


def to_ntp(unix_time: float) -> int:
    """A Unix time as a 64-bit NTP timestamp (32.32 fixed point)."""
    return round((unix_time + NTP_EPOCH_OFFSET) * 2**32) & 0xFFFF_FFFF_FFFF_FFFF


def from_ntp(timestamp: int) -> float:
    """A 64-bit NTP timestamp as Unix time (era 0, fine until 2036)."""
    return timestamp / 2**32 - NTP_EPOCH_OFFSET


def client_request(sent_at: float) -> bytes:
    """A 48-byte NTPv4 client request whose transmit timestamp is ``sent_at``."""
    first = (0 << 6) | (4 << 3) | MODE_CLIENT
    return PACKET.pack(first, 0, 0, 0, b"", b"", b"", 0, 0, 0, to_ntp(sent_at))


@dataclass(frozen=True)
class NtpPacket:
    """The fields of an NTP answer that the check judges."""

    leap: int
    version: int
    mode: int
    stratum: int
    reference_id: bytes
    origin: int
    receive: int
    transmit: int


def parse_packet(data: bytes) -> NtpPacket:
    """Decode an NTP header; ValueError when ``data`` is too short to be one."""
    if len(data) < PACKET.size:
        raise ValueError(f"{len(data)} bytes, expected at least {PACKET.size}")
    first, stratum, _, _, _, _, reference_id, _, origin, receive, transmit = PACKET.unpack_from(
        data
    )
    return NtpPacket(
        leap=first >> 6,
        version=(first >> 3) & 0b111,
        mode=first & 0b111,
        stratum=stratum,
        reference_id=reference_id,
        origin=origin,
        receive=receive,
        transmit=transmit,
    )


def kiss_code(packet: NtpPacket) -> str | None:
    """The kiss code of a Kiss-o'-Death answer (RFC 5905 §7.4: stratum 0 and
    four ASCII letters in the reference ID, e.g. ``RATE``), else None. An
    unsynchronised chronyd also answers with stratum 0, but with a zero
    reference ID: that is no refusal.
    """
    if packet.stratum != 0:
        return None
    code = packet.reference_id.rstrip(b"\x00")
    if not code or not all(0x21 <= byte < 0x7F for byte in code):
        return None
    return code.decode("ascii")


@dataclass(frozen=True)
class NtpParams:
    """Where the NTP server listens and how far its clock may be off."""

    host: str
    port: int = 123
    offset_warning_s: float = 1.0
    offset_critical_s: float = 10.0


@dataclass(frozen=True)
class NtpRaw:
    """The answer with the monitor's send and receive times (Unix), or the error."""

    sent_at: float = 0.0
    received_at: float = 0.0
    response: bytes = b""
    error: str | None = None


class _OneAnswer(asyncio.DatagramProtocol):
    """Resolves ``answer`` with the first datagram and its arrival time."""

    def __init__(self) -> None:
        self.answer: asyncio.Future[tuple[bytes, float]] = (
            asyncio.get_running_loop().create_future()
        )

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if not self.answer.done():
            self.answer.set_result((data, time.time()))

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable arrives here as ConnectionRefusedError.
        if not self.answer.done():
            self.answer.set_exception(exc)


@register("ntp")
class NtpCheck(CheckType[NtpParams, NtpRaw]):
    """Send one NTPv4 client request over UDP and judge the answer."""

    Params = NtpParams

    @classmethod
    def parse_params(cls, raw: Mapping[str, Any]) -> NtpParams:
        fields.only(raw, ["host", "port", "offset_warning_s", "offset_critical_s"])
        warning = fields.optional_seconds(raw, "offset_warning_s") or 1.0
        critical = fields.optional_seconds(raw, "offset_critical_s") or 10.0
        if warning > critical:
            raise ParamsError("offset_warning_s: must not be greater than offset_critical_s")
        return NtpParams(
            host=fields.host(raw),
            port=fields.port(raw, 123),
            offset_warning_s=warning,
            offset_critical_s=critical,
        )

    async def probe(self, params: NtpParams, timeout: float) -> NtpRaw:
        loop = asyncio.get_running_loop()
        try:
            transport, protocol = await loop.create_datagram_endpoint(
                _OneAnswer, remote_addr=(params.host, params.port)
            )
        except OSError as exc:
            return NtpRaw(error=describe_error(exc))
        try:
            sent_at = time.time()
            transport.sendto(client_request(sent_at))
            # One request, no retry: a lost datagram costs the check's timeout.
            response, received_at = await protocol.answer
        except OSError as exc:
            return NtpRaw(error=describe_error(exc))
        finally:
            transport.close()
        # A datagram is at most 64 KiB; only the 48-byte header matters.
        return NtpRaw(sent_at=sent_at, received_at=received_at, response=response[:1024])

    def evaluate(self, params: NtpParams, raw: NtpRaw) -> Result:
        target = f"{params.host}:{params.port}"
        if raw.error is not None:
            return Result(State.CRITICAL, f"no NTP answer from {target}: {raw.error}")
        try:
            packet = parse_packet(raw.response)
        except ValueError:
            return Result(
                State.CRITICAL, f"invalid NTP answer from {target}: {printable(raw.response)}"
            )
        if packet.mode != MODE_SERVER:
            return Result(State.CRITICAL, f"not an NTP server answer (mode {packet.mode})")
        if packet.origin != to_ntp(raw.sent_at):
            return Result(State.CRITICAL, "NTP answer does not match the request")
        code = kiss_code(packet)
        if code is not None:
            return Result(State.CRITICAL, f"NTP server refused: kiss code {code}")
        if (
            packet.leap == LEAP_ALARM
            or packet.stratum == 0
            or packet.stratum >= UNSYNCHRONISED_STRATUM
        ):
            return Result(
                State.CRITICAL, f"NTP server is not synchronised (stratum {packet.stratum})"
            )
        # RFC 5905 §8: T1 sent, T2 received by the server, T3 sent back, T4 received.
        t1, t4 = raw.sent_at, raw.received_at
        t2, t3 = from_ntp(packet.receive), from_ntp(packet.transmit)
        offset = ((t2 - t1) + (t3 - t4)) / 2
        delay = (t4 - t1) - (t3 - t2)
        if abs(offset) >= params.offset_critical_s:
            state = State.CRITICAL
        elif abs(offset) >= params.offset_warning_s:
            state = State.WARNING
        else:
            state = State.OK
        return Result(
            state,
            f"offset {offset * 1000:+.1f} ms, stratum {packet.stratum}",
            {"offset_s": offset, "delay_s": delay, "stratum": float(packet.stratum)},
        )
