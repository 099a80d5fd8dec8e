"""MSSQL check: the TDS PRELOGIN parser with byte tables in the layout of
[MS-TDS] §2.2.6.5 (one of them the spec's own example, §4.1), evaluation
tables, and the probe against a loopback stand-in.

The one check type without a real peer: SQL Server does not run on Debian
(no Debian package; Microsoft's Linux build is not installable from the
registries the project uses). The stand-in checks that what it receives is a
well-formed PRELOGIN request and answers like a server would.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from tests.monitoring.checks.conftest import Background, Handler, serve

from leitstand.monitoring.checks import ParamsError, Result, State, registry
from leitstand.monitoring.checks.mssql import (
    HEADER,
    OPTION_ENCRYPTION,
    OPTION_INSTANCE,
    OPTION_MARS,
    OPTION_THREAD_ID,
    OPTION_VERSION,
    TYPE_PRELOGIN,
    TYPE_TABULAR_RESULT,
    Encryption,
    MssqlCheck,
    MssqlParams,
    MssqlRaw,
    PreLogin,
    client_prelogin,
    packet,
    parse_options,
    parse_response,
    prelogin_payload,
)

# [MS-TDS] §4.1 "Pre-Login Request": client version 9.0.0.0, encryption ON,
# default instance, thread ID 0x0DB8, MARS on.
SPEC_REQUEST = bytes.fromhex(
    "12 01 00 2F 00 00 01 00 00 00 1A 00 06 01 00 20"
    "00 01 02 00 21 00 01 03 00 22 00 04 04 00 26 00"
    "01 FF 09 00 00 00 00 00 01 00 B8 0D 00 00 01"
)


def server_answer(
    encryption: Encryption = Encryption.OFF, version: bytes = bytes([15, 0, 0x07, 0xD0, 0, 5])
) -> bytes:
    """A PRELOGIN answer as SQL Server 2019 (15.0.2000.5) sends it: version,
    encryption, instance, an empty thread ID and MARS.
    """
    return packet(
        TYPE_TABULAR_RESULT,
        prelogin_payload(
            [
                (OPTION_VERSION, version),
                (OPTION_ENCRYPTION, bytes([encryption])),
                (OPTION_INSTANCE, b"\x00"),
                (OPTION_THREAD_ID, b""),
                (OPTION_MARS, b"\x00"),
            ]
        ),
    )


# -- parameters -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"host": "db.example"}, MssqlParams("db.example")),
        (
            {
                "host": "db.example",
                "port": 14330,
                "encryption_required": True,
                "latency_warning_s": 0.5,
                "latency_critical_s": 2,
            },
            MssqlParams("db.example", 14330, True, 0.5, 2.0),
        ),
    ],
)
def test_parse_params(raw: dict[str, Any], expected: MssqlParams) -> None:
    assert MssqlCheck.parse_params(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "host: required"),
        (
            {"host": "db.example", "encryption_required": "yes"},
            "encryption_required: must be true or false",
        ),
        (
            {"host": "db.example", "user": "sa"},
            "unknown parameter 'user'; expected some of: encryption_required, host, "
            "latency_critical_s, latency_warning_s, port",
        ),
    ],
)
def test_parse_params_refuses(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ParamsError) as info:
        MssqlCheck.parse_params(raw)
    assert str(info.value) == message


# -- the wire format --------------------------------------------------------------


def test_parse_options_of_the_spec_example() -> None:
    assert parse_options(SPEC_REQUEST[HEADER.size :]) == {
        OPTION_VERSION: bytes([9, 0, 0, 0, 0, 0]),
        OPTION_ENCRYPTION: b"\x01",
        OPTION_INSTANCE: b"\x00",
        OPTION_THREAD_ID: bytes.fromhex("B8 0D 00 00"),
        OPTION_MARS: b"\x01",
    }


def test_client_prelogin_has_the_spec_example_layout() -> None:
    # Same options in the same order: header, token table and data offsets
    # are byte for byte those of §4.1; only the values differ.
    request = client_prelogin()
    assert len(request) == len(SPEC_REQUEST)
    assert request[:34] == SPEC_REQUEST[:34]
    assert parse_options(request[HEADER.size :]) == {
        OPTION_VERSION: bytes(6),
        OPTION_ENCRYPTION: bytes([Encryption.OFF]),
        OPTION_INSTANCE: b"\x00",
        OPTION_THREAD_ID: bytes(4),
        OPTION_MARS: b"\x00",
    }


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "no terminator in the option table"),
        (b"\x00\x00\x06", "option table cut short"),
        (b"\x00\x00\x05\x00\x00", "no terminator in the option table"),
        (b"\x00\x00\x06\x00\x06\xff", r"option 0x00 points past the end \(6\+6\)"),
    ],
)
def test_parse_options_refuses(payload: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        parse_options(payload)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (server_answer(), PreLogin("15.0.2000.5", Encryption.OFF)),
        (server_answer(Encryption.REQUIRED), PreLogin("15.0.2000.5", Encryption.REQUIRED)),
        (
            server_answer(Encryption.NOT_SUPPORTED, bytes([16, 0, 0x0F, 0xA0, 0, 1])),
            PreLogin("16.0.4000.1", Encryption.NOT_SUPPORTED),
        ),
        (packet(TYPE_TABULAR_RESULT, b"\xff"), PreLogin(None, None)),
    ],
)
def test_parse_response(data: bytes, expected: PreLogin) -> None:
    assert parse_response(data) == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x04\x01", "2 bytes, expected a TDS packet header"),
        (SPEC_REQUEST, "packet type 0x12, expected 0x04"),
        (b"HTTP/1.1 400 Bad Request\r\n", "packet type 0x48, expected 0x04"),
        (server_answer()[:20], "packet length 43 does not match the 20 bytes read"),
        (
            packet(TYPE_TABULAR_RESULT, prelogin_payload([(OPTION_ENCRYPTION, b"\x09")])),
            "unknown encryption value 0x09",
        ),
    ],
)
def test_parse_response_refuses(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        parse_response(data)


# -- evaluation -------------------------------------------------------------------

P = MssqlParams("db.example")
P_ENCRYPTED = MssqlParams("db.example", encryption_required=True)
P_SLOW = MssqlParams("db.example", latency_warning_s=0.5, latency_critical_s=2)


@pytest.mark.parametrize(
    ("params", "raw", "state", "summary"),
    [
        (
            P,
            MssqlRaw(latency_s=0.01, response=server_answer()),
            State.OK,
            "SQL Server 15.0.2000.5 (encryption available)",
        ),
        (
            P_ENCRYPTED,
            MssqlRaw(latency_s=0.01, response=server_answer(Encryption.REQUIRED)),
            State.OK,
            "SQL Server 15.0.2000.5 (encryption required)",
        ),
        (
            P,
            MssqlRaw(latency_s=0.01, response=server_answer(Encryption.NOT_SUPPORTED)),
            State.OK,
            "SQL Server 15.0.2000.5 (encryption not supported)",
        ),
        (
            P_ENCRYPTED,
            MssqlRaw(latency_s=0.01, response=server_answer(Encryption.NOT_SUPPORTED)),
            State.CRITICAL,
            "SQL Server 15.0.2000.5 does not support encryption",
        ),
        (
            P,
            MssqlRaw(latency_s=0.01, response=packet(TYPE_TABULAR_RESULT, b"\xff")),
            State.OK,
            "SQL Server",
        ),
        (
            P_SLOW,
            MssqlRaw(latency_s=1.0, response=server_answer()),
            State.WARNING,
            "SQL Server 15.0.2000.5 (encryption available), answered in 1.000 s (warning at 0.5 s)",
        ),
        (
            P_SLOW,
            MssqlRaw(latency_s=3.0, response=server_answer()),
            State.CRITICAL,
            "SQL Server 15.0.2000.5 (encryption available), answered in 3.000 s (critical at 2 s)",
        ),
        (
            P,
            MssqlRaw(connect_error="connection refused"),
            State.CRITICAL,
            "cannot connect to db.example:1433: connection refused",
        ),
        (
            P,
            MssqlRaw(error="connection closed by peer"),
            State.CRITICAL,
            "no PRELOGIN answer from db.example:1433: connection closed by peer",
        ),
        (
            P,
            MssqlRaw(error="connection closed by peer", response=b"\x04\x01\x00"),
            State.CRITICAL,
            "no PRELOGIN answer from db.example:1433: connection closed by peer "
            "after '\\x04\\x01\\x00'",
        ),
        (
            P,
            MssqlRaw(latency_s=0.01, response=b"SSH-2.0-OpenSSH_9.2"),
            State.CRITICAL,
            "not a SQL Server PRELOGIN answer from db.example:1433: packet type 0x53, "
            "expected 0x04: 'SSH-2.0-OpenSSH_9.2'",
        ),
    ],
)
def test_evaluate(params: MssqlParams, raw: MssqlRaw, state: State, summary: str) -> None:
    result = MssqlCheck().evaluate(params, raw)
    assert (result.state, result.summary) == (state, summary)


def test_evaluate_metrics_and_details() -> None:
    result = MssqlCheck().evaluate(P, MssqlRaw(latency_s=0.02, response=server_answer()))
    assert result.metrics == {"latency_s": 0.02}
    assert result.details == {"version": "15.0.2000.5", "encryption": "encryption available"}


# -- the probe against a loopback stand-in ----------------------------------------


def _stand_in(answer: bytes) -> Handler:
    """Reads one TDS packet, checks that it is a well-formed PRELOGIN request,
    answers ``answer`` and waits for the client to hang up.
    """

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            header = await reader.readexactly(HEADER.size)
            packet_type, status, length, _, _, _ = HEADER.unpack(header)
            payload = await reader.readexactly(length - HEADER.size)
            options = parse_options(payload)
            if packet_type == TYPE_PRELOGIN and status == 1 and OPTION_VERSION in options:
                writer.write(answer)
            else:
                writer.write(b"not a PRELOGIN request\r\n")
            await writer.drain()
            await reader.read()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    return handler


@dataclass(frozen=True)
class Ports:
    available: int
    required: int
    unsupported: int
    half_answer: int
    huge_length: int


@pytest.fixture(scope="module")
def ports(background: Background) -> Iterator[Ports]:
    huge = HEADER.pack(TYPE_TABULAR_RESULT, 1, 0xFFFF, 0, 1, 0)
    servers = [
        serve(background, _stand_in(server_answer())),
        serve(background, _stand_in(server_answer(Encryption.REQUIRED))),
        serve(background, _stand_in(server_answer(Encryption.NOT_SUPPORTED))),
        serve(background, _stand_in(server_answer()[:12])),
        serve(background, _stand_in(huge + b"\x00" * 100)),
    ]
    yield Ports(*(next(server) for server in servers))
    for server in servers:
        next(server, None)


def run(port: int, timeout: float = 5, **params: Any) -> Result:
    raw = {"host": "127.0.0.1", "port": port, **params}
    return asyncio.run(registry.run_check("mssql", raw, timeout))


def test_stand_in(ports: Ports) -> None:
    result = run(ports.available)
    assert (result.state, result.summary) == (
        State.OK,
        "SQL Server 15.0.2000.5 (encryption available)",
    )
    assert result.metrics["latency_s"] < 1


def test_stand_in_requires_encryption(ports: Ports) -> None:
    result = run(ports.required, encryption_required=True)
    assert (result.state, result.summary) == (
        State.OK,
        "SQL Server 15.0.2000.5 (encryption required)",
    )


def test_stand_in_without_encryption(ports: Ports) -> None:
    result = run(ports.unsupported, encryption_required=True)
    assert (result.state, result.summary) == (
        State.CRITICAL,
        "SQL Server 15.0.2000.5 does not support encryption",
    )


def test_answer_cut_short(ports: Ports) -> None:
    # The stand-in sends 12 of 47 bytes and then waits: the check waits for
    # the rest until its deadline.
    assert run(ports.half_answer, timeout=0.5) == Result(State.CRITICAL, "no answer within 0.5 s")


def test_absurd_packet_length(ports: Ports) -> None:
    result = run(ports.huge_length)
    assert (result.state, result.summary) == (
        State.CRITICAL,
        f"not a SQL Server PRELOGIN answer from 127.0.0.1:{ports.huge_length}: packet length "
        "65535 does not match the 8 bytes read: '\\x04\\x01\\xff\\xff\\x00\\x00\\x01\\x00'",
    )


def test_postgresql_is_no_sql_server() -> None:
    # A real server of another protocol: PostgreSQL answers a PRELOGIN with
    # an error message (type "E") or closes.
    result = run(5432)
    assert result.state is State.CRITICAL
    assert result.summary.startswith(("not a SQL Server PRELOGIN answer", "no PRELOGIN answer"))


def test_garbage(garbage_port: int) -> None:
    result = run(garbage_port)
    assert result.state is State.CRITICAL
    assert result.summary.startswith(
        f"not a SQL Server PRELOGIN answer from 127.0.0.1:{garbage_port}: packet type 0x00"
    )


def test_silent(silent_port: int) -> None:
    assert run(silent_port, timeout=0.5) == Result(State.CRITICAL, "no answer within 0.5 s")


def test_closed_port(closed_port: int) -> None:
    assert run(closed_port) == Result(
        State.CRITICAL, f"cannot connect to 127.0.0.1:{closed_port}: connection refused"
    )


def test_packet_header_is_big_endian() -> None:
    assert struct.unpack("!H", client_prelogin()[2:4]) == (47,)
