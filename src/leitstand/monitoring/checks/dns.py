"""DNS: a name server answers a query for a record, optionally with exactly
the expected records (as ``check_dns`` with ``-s`` and ``-a`` does).

Seed 003 §2 names "Serverdienste (FTP, SSH, NTP)"; DNS is the server service
the monitoring issue adds to them: when a customer's name server or the
records pointing at the customer's services break, every other check of that
customer fails with them. The query goes to the name server the check names
(not the monitor's resolver), with dnspython's ``dns.asyncquery``: UDP,
retried over TCP when the answer is truncated.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dns.asyncbackend
import dns.asyncquery
import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
from dns.rdtypes.ANY.TXT import TXT

from leitstand.monitoring.checks import fields
from leitstand.monitoring.checks.base import (
    CheckType,
    ParamsError,
    Result,
    State,
    describe_error,
    grade_latency,
    latency_note,
    one_line,
)
from leitstand.monitoring.checks.registry import register

RECORD_TYPES = ("A", "AAAA", "CAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT")
# More than this many expected records is a list pasted by mistake.
MAX_EXPECTED = 50


def normalise(record_type: str, text: str) -> str:
    """One record in the form in which answers and expectations are compared:
    addresses in canonical form (``2001:db8::10``), names lower case without
    the final dot (``10 mail.example.com``); TXT exactly as written (it is
    case-sensitive and may contain dots).
    """
    if record_type in ("A", "AAAA"):
        try:
            return str(ipaddress.ip_address(text.strip()))
        except ValueError:
            return text.strip()
    if record_type == "TXT":
        return text
    return " ".join(word.lower().removesuffix(".") or "." for word in text.split())


def presentation(rdata: Any) -> str:
    """A record's text: TXT as its joined strings (``v=spf1 mx -all``, not
    ``"v=spf1 mx -all"``), everything else as in a zone file.
    """
    if isinstance(rdata, TXT):
        return b"".join(rdata.strings).decode("utf-8", errors="replace")
    return str(rdata.to_text())


@dataclass(frozen=True)
class DnsParams:
    """Which name server to ask about which record, and what must come back."""

    server: str
    name: str
    record_type: str = "A"
    port: int = 53
    expected: frozenset[str] | None = None
    latency_warning_s: float | None = None
    latency_critical_s: float | None = None


@dataclass(frozen=True)
class DnsRaw:
    """The answer's response code and records (as text), or the failure."""

    error: str | None = None
    latency_s: float | None = None
    rcode: str = "NOERROR"
    answers: tuple[str, ...] = ()


def _expected(raw: Mapping[str, Any], record_type: str) -> frozenset[str] | None:
    value = raw.get("expected")
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence) or not value:
        raise ParamsError("expected: must be a non-empty list of records")
    if len(value) > MAX_EXPECTED:
        raise ParamsError(f"expected: at most {MAX_EXPECTED} records")
    if not all(isinstance(item, str) and item.strip() for item in value):
        raise ParamsError("expected: every record must be a non-empty string")
    return frozenset(normalise(record_type, item) for item in value)


async def _address(server: str, port: int) -> str:
    # dnspython wants an IP address; resolve a name once with the system resolver.
    try:
        return str(ipaddress.ip_address(server))
    except ValueError:
        infos = await asyncio.get_running_loop().getaddrinfo(server, port, type=socket.SOCK_DGRAM)
        return str(infos[0][4][0])


@register("dns")
class DnsCheck(CheckType[DnsParams, DnsRaw]):
    """Ask one name server for one record set and compare the answer."""

    Params = DnsParams

    @classmethod
    def parse_params(cls, raw: Mapping[str, Any]) -> DnsParams:
        fields.only(
            raw,
            [
                "server",
                "port",
                "name",
                "record_type",
                "expected",
                "latency_warning_s",
                "latency_critical_s",
            ],
        )
        record_type = (fields.optional_text(raw, "record_type") or "A").upper()
        if record_type not in RECORD_TYPES:
            raise ParamsError(
                f"record_type: must be one of {', '.join(RECORD_TYPES)}, got {record_type!r}"
            )
        name = fields.host(raw, "name")
        try:
            dns.name.from_text(name)
        except dns.exception.DNSException as exc:
            raise ParamsError(f"name: {name!r} is not a domain name ({exc})") from None
        warning, critical = fields.latency_thresholds(raw)
        return DnsParams(
            server=fields.host(raw, "server"),
            name=name,
            record_type=record_type,
            port=fields.port(raw, 53),
            expected=_expected(raw, record_type),
            latency_warning_s=warning,
            latency_critical_s=critical,
        )

    async def probe(self, params: DnsParams, timeout: float) -> DnsRaw:
        query = dns.message.make_query(params.name, params.record_type)
        started = time.monotonic()
        try:
            where = await _address(params.server, params.port)
            family = socket.AF_INET6 if ":" in where else socket.AF_INET
            # A connected socket, so that ICMP port unreachable ends the probe
            # at once as "connection refused" instead of costing the timeout.
            backend = dns.asyncbackend.get_default_backend()
            udp = await backend.make_socket(  # type: ignore[no-untyped-call]
                family, socket.SOCK_DGRAM, 0, None, (where, params.port)
            )
        except OSError as exc:
            return DnsRaw(error=describe_error(exc))
        try:
            # No timeout of its own: the engine's deadline cancels a silent server.
            response, _ = await dns.asyncquery.udp_with_fallback(
                query, where, port=params.port, udp_sock=udp
            )
        except (OSError, dns.exception.DNSException) as exc:
            return DnsRaw(error=describe_error(exc))
        finally:
            await udp.close()
        latency = time.monotonic() - started
        wanted = dns.rdatatype.from_text(params.record_type)
        answers = tuple(
            presentation(rdata)
            for rrset in response.answer
            if rrset.rdtype == wanted
            for rdata in rrset
        )
        return DnsRaw(latency_s=latency, rcode=dns.rcode.to_text(response.rcode()), answers=answers)

    def evaluate(self, params: DnsParams, raw: DnsRaw) -> Result:
        server = f"{params.server}:{params.port}"
        asked = f"{params.name} {params.record_type}"
        if raw.error is not None:
            return Result(State.CRITICAL, f"no DNS answer from {server}: {raw.error}")
        metrics = {"latency_s": raw.latency_s} if raw.latency_s is not None else {}
        if raw.rcode == "NXDOMAIN":
            return Result(State.CRITICAL, f"{params.name} does not exist (NXDOMAIN)", metrics)
        if raw.rcode != "NOERROR":
            return Result(State.CRITICAL, f"{server} answered {raw.rcode} for {asked}", metrics)
        if not raw.answers:
            return Result(State.CRITICAL, f"no {params.record_type} record for {params.name}")
        got = sorted({normalise(params.record_type, answer) for answer in raw.answers})
        shown = one_line(", ".join(got))
        details = {"answers": "\n".join(got)}
        if params.expected is not None and set(got) != params.expected:
            missing = sorted(params.expected - set(got))
            unexpected = sorted(set(got) - params.expected)
            parts = [f"{asked} is {shown}"]
            if missing:
                parts.append(f"missing {', '.join(missing)}")
            if unexpected:
                parts.append(f"unexpected {', '.join(unexpected)}")
            return Result(State.CRITICAL, one_line("; ".join(parts)), metrics, details)
        state = State.OK
        note = ""
        if raw.latency_s is not None:
            state = grade_latency(
                raw.latency_s, params.latency_warning_s, params.latency_critical_s
            )
            note = latency_note(state, params.latency_warning_s, params.latency_critical_s)
            if note:
                note = f" in {raw.latency_s:.3f} s{note}"
        return Result(state, one_line(f"{asked} is {shown}{note}"), metrics, details)
