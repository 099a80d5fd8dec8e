"""DNS check: parameters, normalisation and evaluation tables; NSD serving a
zone on loopback; a server that never answers.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from tests.monitoring.checks.servers import ZONE

from leitstand.monitoring.checks import ParamsError, Result, State, registry
from leitstand.monitoring.checks.dns import DnsCheck, DnsParams, DnsRaw, normalise

# -- parameters -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"server": "ns1.example", "name": "www.example.com"},
            DnsParams("ns1.example", "www.example.com"),
        ),
        (
            {
                "server": "192.0.2.53",
                "port": 5353,
                "name": "example.com",
                "record_type": "mx",
                "expected": ["10 MAIL.example.com.", "20 backup.example.net"],
                "latency_warning_s": 0.5,
            },
            DnsParams(
                "192.0.2.53",
                "example.com",
                "MX",
                5353,
                frozenset({"10 mail.example.com", "20 backup.example.net"}),
                latency_warning_s=0.5,
            ),
        ),
        (
            {
                "server": "::1",
                "name": "www.example.com",
                "record_type": "AAAA",
                "expected": "2001:DB8:0::1",
            },
            DnsParams("::1", "www.example.com", "AAAA", expected=frozenset({"2001:db8::1"})),
        ),
    ],
)
def test_parse_params(raw: dict[str, Any], expected: DnsParams) -> None:
    assert DnsCheck.parse_params(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"name": "example.com"}, "server: required"),
        ({"server": "ns1.example"}, "name: required"),
        (
            {"server": "ns1.example", "name": "example.com", "record_type": "ANY"},
            "record_type: must be one of A, AAAA, CAA, CNAME, MX, NS, PTR, SOA, SRV, TXT, got 'ANY'",
        ),
        (
            {"server": "ns1.example", "name": "a" * 64 + ".example.com"},
            "name: '" + "a" * 64 + ".example.com' is not a domain name "
            "(A DNS label is > 63 octets long.)",
        ),
        (
            {"server": "ns1.example", "name": "example.com", "expected": []},
            "expected: must be a non-empty list of records",
        ),
        (
            {"server": "ns1.example", "name": "example.com", "expected": ["192.0.2.1", 7]},
            "expected: every record must be a non-empty string",
        ),
        (
            {"server": "ns1.example", "name": "example.com", "expected": ["192.0.2.1"] * 51},
            "expected: at most 50 records",
        ),
        (
            {"server": "ns1.example", "name": "example.com", "type": "A"},
            "unknown parameter 'type'; expected some of: expected, latency_critical_s, "
            "latency_warning_s, name, port, record_type, server",
        ),
    ],
)
def test_parse_params_refuses(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ParamsError) as info:
        DnsCheck.parse_params(raw)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("record_type", "text", "expected"),
    [
        ("A", " 192.0.2.1 ", "192.0.2.1"),
        ("AAAA", "2001:DB8:0:0::1", "2001:db8::1"),
        ("A", "not-an-address", "not-an-address"),
        ("MX", "10 Mail.Example.COM.", "10 mail.example.com"),
        ("CNAME", "www.example.com.", "www.example.com"),
        ("NS", ".", "."),
        ("TXT", "v=spf1 include:Example.com -all", "v=spf1 include:Example.com -all"),
    ],
)
def test_normalise(record_type: str, text: str, expected: str) -> None:
    assert normalise(record_type, text) == expected


# -- evaluation -------------------------------------------------------------------

A = DnsParams("ns1.example", "www.example.com")
A_EXPECTED = DnsParams(
    "ns1.example", "www.example.com", expected=frozenset({"192.0.2.1", "192.0.2.2"})
)
A_SLOW = DnsParams("ns1.example", "www.example.com", latency_warning_s=0.2, latency_critical_s=1)


@pytest.mark.parametrize(
    ("params", "raw", "state", "summary"),
    [
        (
            A,
            DnsRaw(latency_s=0.01, answers=("192.0.2.2", "192.0.2.1")),
            State.OK,
            "www.example.com A is 192.0.2.1, 192.0.2.2",
        ),
        (
            A_EXPECTED,
            DnsRaw(latency_s=0.01, answers=("192.0.2.2", "192.0.2.1")),
            State.OK,
            "www.example.com A is 192.0.2.1, 192.0.2.2",
        ),
        (
            A_EXPECTED,
            DnsRaw(latency_s=0.01, answers=("192.0.2.1",)),
            State.CRITICAL,
            "www.example.com A is 192.0.2.1; missing 192.0.2.2",
        ),
        (
            A_EXPECTED,
            DnsRaw(latency_s=0.01, answers=("192.0.2.1", "192.0.2.2", "203.0.113.9")),
            State.CRITICAL,
            "www.example.com A is 192.0.2.1, 192.0.2.2, 203.0.113.9; unexpected 203.0.113.9",
        ),
        (
            A_EXPECTED,
            DnsRaw(latency_s=0.01, answers=("198.51.100.7",)),
            State.CRITICAL,
            "www.example.com A is 198.51.100.7; missing 192.0.2.1, 192.0.2.2; "
            "unexpected 198.51.100.7",
        ),
        (
            A_SLOW,
            DnsRaw(latency_s=0.1, answers=("192.0.2.1",)),
            State.OK,
            "www.example.com A is 192.0.2.1",
        ),
        (
            A_SLOW,
            DnsRaw(latency_s=0.5, answers=("192.0.2.1",)),
            State.WARNING,
            "www.example.com A is 192.0.2.1 in 0.500 s (warning at 0.2 s)",
        ),
        (
            A_SLOW,
            DnsRaw(latency_s=1.5, answers=("192.0.2.1",)),
            State.CRITICAL,
            "www.example.com A is 192.0.2.1 in 1.500 s (critical at 1 s)",
        ),
        (
            A,
            DnsRaw(latency_s=0.01, rcode="NXDOMAIN"),
            State.CRITICAL,
            "www.example.com does not exist (NXDOMAIN)",
        ),
        (
            A,
            DnsRaw(latency_s=0.01, rcode="SERVFAIL"),
            State.CRITICAL,
            "ns1.example:53 answered SERVFAIL for www.example.com A",
        ),
        (
            A,
            DnsRaw(latency_s=0.01, rcode="REFUSED"),
            State.CRITICAL,
            "ns1.example:53 answered REFUSED for www.example.com A",
        ),
        (A, DnsRaw(latency_s=0.01), State.CRITICAL, "no A record for www.example.com"),
        (
            A,
            DnsRaw(error="connection refused"),
            State.CRITICAL,
            "no DNS answer from ns1.example:53: connection refused",
        ),
    ],
)
def test_evaluate(params: DnsParams, raw: DnsRaw, state: State, summary: str) -> None:
    result = DnsCheck().evaluate(params, raw)
    assert (result.state, result.summary) == (state, summary)


def test_evaluate_metrics_and_details() -> None:
    result = DnsCheck().evaluate(A, DnsRaw(latency_s=0.02, answers=("192.0.2.2", "192.0.2.1")))
    assert result.metrics == {"latency_s": 0.02}
    assert result.details == {"answers": "192.0.2.1\n192.0.2.2"}


# -- against NSD (nsd), authoritative for example.test ----------------------------


def run(port: int, timeout: float = 5, **params: Any) -> Result:
    raw = {"server": "127.0.0.1", "port": port, **params}
    return asyncio.run(registry.run_check("dns", raw, timeout))


@pytest.mark.parametrize(
    ("name", "record_type", "expected", "summary"),
    [
        (
            f"www.{ZONE}",
            "A",
            ["192.0.2.11", "192.0.2.10"],
            f"www.{ZONE} A is 192.0.2.10, 192.0.2.11",
        ),
        (f"www.{ZONE}", "AAAA", ["2001:db8:0::10"], f"www.{ZONE} AAAA is 2001:db8::10"),
        (
            ZONE,
            "MX",
            [f"10 mail.{ZONE}.", "20 backup.mail.example.net"],
            f"{ZONE} MX is 10 mail.{ZONE}, 20 backup.mail.example.net",
        ),
        (ZONE, "TXT", ["v=spf1 mx -all"], f"{ZONE} TXT is v=spf1 mx -all"),
        (f"alias.{ZONE}", "CNAME", [f"www.{ZONE}"], f"alias.{ZONE} CNAME is www.{ZONE}"),
    ],
)
def test_nsd_answers(
    nsd: int, name: str, record_type: str, expected: list[str], summary: str
) -> None:
    result = run(nsd, name=name, record_type=record_type, expected=expected)
    assert (result.state, result.summary) == (State.OK, summary)
    assert result.metrics["latency_s"] < 1


def test_nsd_wrong_expected_answer(nsd: int) -> None:
    result = run(nsd, name=f"www.{ZONE}", expected=["192.0.2.10", "192.0.2.99"])
    assert (result.state, result.summary) == (
        State.CRITICAL,
        f"www.{ZONE} A is 192.0.2.10, 192.0.2.11; missing 192.0.2.99; unexpected 192.0.2.11",
    )


def test_nsd_nxdomain(nsd: int) -> None:
    result = run(nsd, name=f"nowhere.{ZONE}")
    assert (result.state, result.summary) == (
        State.CRITICAL,
        f"nowhere.{ZONE} does not exist (NXDOMAIN)",
    )


def test_nsd_no_such_record(nsd: int) -> None:
    result = run(nsd, name=f"mail.{ZONE}", record_type="AAAA")
    assert (result.state, result.summary) == (State.CRITICAL, f"no AAAA record for mail.{ZONE}")


def test_nsd_refuses_a_zone_it_does_not_serve(nsd: int) -> None:
    result = run(nsd, name="www.example.com")
    assert (result.state, result.summary) == (
        State.CRITICAL,
        f"127.0.0.1:{nsd} answered REFUSED for www.example.com A",
    )


@pytest.fixture
def silent_udp_port() -> Iterator[int]:
    """A UDP port that receives queries and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_server_that_never_answers(silent_udp_port: int) -> None:
    assert run(silent_udp_port, timeout=0.5, name=f"www.{ZONE}") == Result(
        State.CRITICAL, "no answer within 0.5 s"
    )


def test_closed_port() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert run(port, name=f"www.{ZONE}") == Result(
        State.CRITICAL, f"no DNS answer from 127.0.0.1:{port}: connection refused"
    )
