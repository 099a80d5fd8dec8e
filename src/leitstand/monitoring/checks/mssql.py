"""Microsoft SQL Server: the server answers a TDS PRELOGIN handshake with its
version and encryption setting (as ``check_mssql_health --mode
connection-time`` does before it logs in).

Seed 002 §2.1 Priority 1 services: "Database server MySQL or MSSQL". The
check sends the PRELOGIN message of [MS-TDS] §2.2.6.5 (packet type 0x12),
reads the server's PRELOGIN answer (packet type 0x04) and closes; it never
logs in, so it needs no account.

This is the one check type tested without a real peer: SQL Server does not
run on Debian (there is no Debian package, and Microsoft's own Linux build
cannot be installed from the registries this project may use). The parser is
tested with byte tables in the spec's layout, among them the spec's own
example (§4.1), and the probe against a small loopback stand-in that answers
with a PRELOGIN response in that layout.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from leitstand.monitoring.checks import fields
from leitstand.monitoring.checks.base import (
    CheckType,
    Result,
    State,
    close_quietly,
    describe_error,
    grade_latency,
    latency_note,
    printable,
)
from leitstand.monitoring.checks.registry import register

# [MS-TDS] §2.2.3.1: type, status, length (big-endian, header included),
# SPID, packet ID, window.
HEADER = struct.Struct("!BBHHBB")
TYPE_TABULAR_RESULT = 0x04  # the server's answer to PRELOGIN
TYPE_PRELOGIN = 0x12
STATUS_END_OF_MESSAGE = 0x01
# A PRELOGIN answer is a few dozen bytes; anything near this is no answer.
MAX_PACKET = 4096

OPTION_VERSION = 0x00
OPTION_ENCRYPTION = 0x01
OPTION_INSTANCE = 0x02
OPTION_THREAD_ID = 0x03
OPTION_MARS = 0x04
OPTION_TERMINATOR = 0xFF


class Encryption(IntEnum):
    """B_FENCRYPTION ([MS-TDS] §2.2.6.5)."""

    OFF = 0x00  # available, used for the login packet only
    ON = 0x01
    NOT_SUPPORTED = 0x02
    REQUIRED = 0x03


ENCRYPTION_TEXT = {
    Encryption.OFF: "encryption available",
    Encryption.ON: "encryption on",
    Encryption.NOT_SUPPORTED: "encryption not supported",
    Encryption.REQUIRED: "encryption required",
}


def prelogin_payload(options: list[tuple[int, bytes]]) -> bytes:
    """A PRELOGIN structure: option tokens (type, offset, length), the
    terminator 0xFF, then the option data the offsets point into.
    """
    table_size = 5 * len(options) + 1
    table = b""
    data = b""
    for option, value in options:
        table += struct.pack("!BHH", option, table_size + len(data), len(value))
        data += value
    return table + bytes([OPTION_TERMINATOR]) + data


def packet(packet_type: int, payload: bytes) -> bytes:
    """One TDS packet that is a whole message."""
    header = HEADER.pack(packet_type, STATUS_END_OF_MESSAGE, HEADER.size + len(payload), 0, 1, 0)
    return header + payload


def client_prelogin() -> bytes:
    """The check's PRELOGIN request: client version 0.0.0.0, encryption OFF
    (the default of most drivers, so the server states its own setting), the
    default instance, no thread ID, no MARS.
    """
    return packet(
        TYPE_PRELOGIN,
        prelogin_payload(
            [
                (OPTION_VERSION, bytes(6)),
                (OPTION_ENCRYPTION, bytes([Encryption.OFF])),
                (OPTION_INSTANCE, b"\x00"),
                (OPTION_THREAD_ID, bytes(4)),
                (OPTION_MARS, b"\x00"),
            ]
        ),
    )


def parse_options(payload: bytes) -> dict[int, bytes]:
    """The options of a PRELOGIN structure by type; ValueError when the
    token table is cut short or points outside the payload.
    """
    options: dict[int, bytes] = {}
    position = 0
    while True:
        if position >= len(payload):
            raise ValueError("no terminator in the option table")
        option = payload[position]
        if option == OPTION_TERMINATOR:
            return options
        if position + 5 > len(payload):
            raise ValueError("option table cut short")
        _, offset, length = struct.unpack_from("!BHH", payload, position)
        if offset + length > len(payload):
            raise ValueError(f"option 0x{option:02x} points past the end ({offset}+{length})")
        options[option] = payload[offset : offset + length]
        position += 5


@dataclass(frozen=True)
class PreLogin:
    """What a server's PRELOGIN answer says: its version (``15.0.2000.5``)
    and encryption setting.
    """

    version: str | None
    encryption: Encryption | None


def parse_response(data: bytes) -> PreLogin:
    """Decode the server's answer packet; ValueError when it is not a
    PRELOGIN answer.
    """
    if len(data) < HEADER.size:
        raise ValueError(f"{len(data)} bytes, expected a TDS packet header")
    packet_type, _, length, _, _, _ = HEADER.unpack_from(data)
    if packet_type != TYPE_TABULAR_RESULT:
        raise ValueError(f"packet type 0x{packet_type:02x}, expected 0x04")
    if length < HEADER.size or length > len(data):
        raise ValueError(f"packet length {length} does not match the {len(data)} bytes read")
    options = parse_options(data[HEADER.size : length])
    version = None
    raw_version = options.get(OPTION_VERSION, b"")
    if len(raw_version) >= 6:
        major, minor, build, sub_build = struct.unpack_from("!BBHH", raw_version)
        version = f"{major}.{minor}.{build}.{sub_build}"
    encryption = None
    raw_encryption = options.get(OPTION_ENCRYPTION, b"")
    if raw_encryption:
        try:
            encryption = Encryption(raw_encryption[0])
        except ValueError:
            raise ValueError(f"unknown encryption value 0x{raw_encryption[0]:02x}") from None
    return PreLogin(version, encryption)


@dataclass(frozen=True)
class MssqlParams:
    """Where SQL Server listens, whether it must offer encryption, and
    latency thresholds for the handshake.
    """

    host: str
    port: int = 1433
    encryption_required: bool = False
    latency_warning_s: float | None = None
    latency_critical_s: float | None = None


@dataclass(frozen=True)
class MssqlRaw:
    """The server's answer packet (bytes as read), or the failure."""

    connect_error: str | None = None
    latency_s: float | None = None
    response: bytes = b""
    error: str | None = None


async def _read_packet(reader: asyncio.StreamReader) -> bytes:
    header = await reader.readexactly(HEADER.size)
    length = int.from_bytes(header[2:4], "big")
    if not HEADER.size <= length <= MAX_PACKET:
        # Not TDS (or hostile): keep the header for the summary, read no more.
        return header
    return header + await reader.readexactly(length - HEADER.size)


@register("mssql")
class MssqlCheck(CheckType[MssqlParams, MssqlRaw]):
    """Send PRELOGIN, read the answer, close."""

    Params = MssqlParams

    @classmethod
    def parse_params(cls, raw: Mapping[str, Any]) -> MssqlParams:
        fields.only(
            raw, ["host", "port", "encryption_required", "latency_warning_s", "latency_critical_s"]
        )
        warning, critical = fields.latency_thresholds(raw)
        return MssqlParams(
            host=fields.host(raw),
            port=fields.port(raw, 1433),
            encryption_required=fields.boolean(raw, "encryption_required", default=False),
            latency_warning_s=warning,
            latency_critical_s=critical,
        )

    async def probe(self, params: MssqlParams, timeout: float) -> MssqlRaw:
        started = time.monotonic()
        try:
            reader, writer = await asyncio.open_connection(params.host, params.port)
        except OSError as exc:
            return MssqlRaw(connect_error=describe_error(exc))
        try:
            writer.write(client_prelogin())
            await writer.drain()
            response = await _read_packet(reader)
        except asyncio.IncompleteReadError as exc:
            return MssqlRaw(response=exc.partial, error=describe_error(exc))
        except OSError as exc:
            return MssqlRaw(error=describe_error(exc))
        finally:
            await close_quietly(writer)
        return MssqlRaw(latency_s=time.monotonic() - started, response=response)

    def evaluate(self, params: MssqlParams, raw: MssqlRaw) -> Result:
        target = f"{params.host}:{params.port}"
        if raw.connect_error is not None:
            return Result(State.CRITICAL, f"cannot connect to {target}: {raw.connect_error}")
        if raw.error is not None:
            got = f" after {printable(raw.response)}" if raw.response else ""
            return Result(State.CRITICAL, f"no PRELOGIN answer from {target}: {raw.error}{got}")
        try:
            answer = parse_response(raw.response)
        except ValueError as exc:
            return Result(
                State.CRITICAL,
                f"not a SQL Server PRELOGIN answer from {target}: {exc}: {printable(raw.response)}",
            )
        metrics = {"latency_s": raw.latency_s} if raw.latency_s is not None else {}
        version = f"SQL Server {answer.version}" if answer.version else "SQL Server"
        encryption = ENCRYPTION_TEXT[answer.encryption] if answer.encryption is not None else None
        details = {"version": answer.version or "", "encryption": encryption or ""}
        if params.encryption_required and answer.encryption in (Encryption.NOT_SUPPORTED, None):
            return Result(
                State.CRITICAL,
                f"{version} does not support encryption",
                metrics,
                details,
            )
        state = State.OK
        note = ""
        if raw.latency_s is not None:
            state = grade_latency(
                raw.latency_s, params.latency_warning_s, params.latency_critical_s
            )
            note = latency_note(state, params.latency_warning_s, params.latency_critical_s)
            if note:
                note = f", answered in {raw.latency_s:.3f} s{note}"
        shown = f"{version} ({encryption})" if encryption else version
        return Result(state, f"{shown}{note}", metrics, details)
