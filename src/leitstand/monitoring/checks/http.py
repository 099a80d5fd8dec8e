"""HTTP and HTTPS: status, content, latency and the TLS certificate chain.

Seed 003 §2 "Webserver (HTTP)"; seed 002 §2.1 Priority 1 Services "Web server
HTTP, HTTPS".
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from leitstand.monitoring.checks import fields
from leitstand.monitoring.checks.base import (
    MAX_BODY_BYTES,
    CheckType,
    ParamsError,
    Result,
    State,
    client_ssl_context,
    describe_error,
    grade_latency,
    latency_note,
    one_line,
)
from leitstand.monitoring.checks.registry import lifespan, register

_RANGE = re.compile(r"^\s*(\d{3})\s*-\s*(\d{3})\s*$")
DEFAULT_STATUS: tuple[tuple[int, int], ...] = ((200, 399),)
MAX_REDIRECTS = 10
USER_AGENT = "Leitstand-Monitor/1"

# One connector per event loop while an engine runs (see shared_connector).
_CONNECTORS: dict[asyncio.AbstractEventLoop, tuple[aiohttp.TCPConnector, int]] = {}


@lifespan
@contextlib.asynccontextmanager
async def shared_connector() -> AsyncIterator[None]:
    """While an engine runs: one aiohttp connector for every HTTP check.

    A connector per run cost ~40 us of CPU to build and tear down, per check.
    It is ``force_close``: every run still opens its own fresh connection (a
    check that rode on a kept-alive connection would not notice that new
    connections fail) and closes it after the response; ``limit=0`` because the
    engine's semaphore already bounds concurrency. Each run keeps its own
    ``ClientSession`` and with it its own cookie jar: cookies set during one
    check's redirects never reach another customer's check.
    """
    loop = asyncio.get_running_loop()
    connector, users = _CONNECTORS.get(loop) or (
        aiohttp.TCPConnector(limit=0, force_close=True),
        0,
    )
    _CONNECTORS[loop] = (connector, users + 1)
    try:
        yield
    finally:
        connector, users = _CONNECTORS.pop(loop)
        if users > 1:
            _CONNECTORS[loop] = (connector, users - 1)
        else:
            await connector.close()


def _shared() -> aiohttp.TCPConnector | None:
    entry = _CONNECTORS.get(asyncio.get_running_loop())
    return None if entry is None or entry[0].closed else entry[0]


@dataclass(frozen=True)
class HttpParams:
    """What to fetch and what counts as healthy."""

    url: str
    expected_status: tuple[tuple[int, int], ...] = DEFAULT_STATUS
    expected_text: str | None = None
    latency_warning_s: float | None = None
    latency_critical_s: float | None = None
    follow_redirects: bool = True
    verify_tls: bool = True
    ca_certificate: str | None = None

    def status_ok(self, status: int) -> bool:
        """True when ``status`` is in one of the expected ranges."""
        return any(low <= status <= high for low, high in self.expected_status)

    def status_text(self) -> str:
        """``"200-399"``, ``"200, 301"``: the expected statuses for a summary."""
        return ", ".join(
            str(low) if low == high else f"{low}-{high}" for low, high in self.expected_status
        )


@dataclass(frozen=True)
class HttpRaw:
    """The response (status, first MiB of the body as text) or the failure."""

    status: int | None = None
    latency_s: float | None = None
    text: str = ""
    truncated: bool = False
    final_url: str = ""
    error: str | None = None


def parse_status(raw: Mapping[str, Any]) -> tuple[tuple[int, int], ...]:
    """``expected_status``: a list of codes (``200``) and ranges (``"200-399"``)."""
    value = raw.get("expected_status")
    if value is None:
        return DEFAULT_STATUS
    if not isinstance(value, list) or not value:
        raise ParamsError('expected_status: must be a non-empty list such as [200, "300-399"]')
    ranges: list[tuple[int, int]] = []
    for item in value:
        if isinstance(item, int) and not isinstance(item, bool):
            low = high = item
        elif isinstance(item, str) and (match := _RANGE.match(item)):
            low, high = int(match.group(1)), int(match.group(2))
        elif isinstance(item, str) and item.strip().isdigit():
            low = high = int(item)
        else:
            raise ParamsError(f"expected_status: {item!r} is not a status code or range")
        if not 100 <= low <= high <= 599:
            raise ParamsError(f"expected_status: {item!r} is not within 100-599")
        ranges.append((low, high))
    return tuple(ranges)


def parse_url(raw: Mapping[str, Any]) -> str:
    """``url``: an absolute http:// or https:// URL with a host."""
    value = fields.text(raw, "url").strip()
    try:
        url = urlsplit(value)
        url.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise ParamsError(f"url: {value!r} is not a URL ({exc})") from None
    if url.scheme not in {"http", "https"} or not url.hostname:
        raise ParamsError(f"url: {value!r} must start with http:// or https:// and name a host")
    return value


async def read_capped(content: aiohttp.StreamReader, limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` bytes of a body, and whether there was more."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await content.read(limit - size)
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), not content.at_eof()


def _connection_error(exc: aiohttp.ClientError) -> str:
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return describe_error(exc.certificate_error)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect to {exc.host}:{exc.port}: {describe_error(exc.os_error)}"
    if isinstance(exc, aiohttp.TooManyRedirects):
        return f"more than {MAX_REDIRECTS} redirects"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"invalid HTTP response: {exc.message}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "server closed the connection without a response"
    return describe_error(exc)


@register("http")
class HttpCheck(CheckType[HttpParams, HttpRaw]):
    """GET a URL and judge status, body text and latency."""

    Params = HttpParams

    @classmethod
    def parse_params(cls, raw: Mapping[str, Any]) -> HttpParams:
        fields.only(
            raw,
            [
                "url",
                "expected_status",
                "expected_text",
                "latency_warning_s",
                "latency_critical_s",
                "follow_redirects",
                "verify_tls",
                "ca_certificate",
            ],
        )
        warning, critical = fields.latency_thresholds(raw)
        return HttpParams(
            url=parse_url(raw),
            expected_status=parse_status(raw),
            expected_text=fields.optional_text(raw, "expected_text"),
            latency_warning_s=warning,
            latency_critical_s=critical,
            follow_redirects=fields.boolean(raw, "follow_redirects", default=True),
            verify_tls=fields.boolean(raw, "verify_tls", default=True),
            ca_certificate=fields.ca_certificate(raw),
        )

    async def probe(self, params: HttpParams, timeout: float) -> HttpRaw:
        context = client_ssl_context(verify=params.verify_tls, ca_certificate=params.ca_certificate)
        shared = _shared()
        # No aiohttp timeout: run_check's asyncio.timeout is the one deadline.
        session = aiohttp.ClientSession(
            # Outside an engine a connector of its own, pooled (not
            # force_close) so that session.close() aborts TLS connections
            # instead of waiting on the peer's close_notify.
            connector=shared or aiohttp.TCPConnector(ssl=context),
            connector_owner=shared is None,
            timeout=aiohttp.ClientTimeout(total=None),
            headers={"User-Agent": USER_AGENT},
        )
        started = time.monotonic()
        try:
            async with session.get(
                params.url,
                allow_redirects=params.follow_redirects,
                max_redirects=MAX_REDIRECTS,
                ssl=context,
            ) as response:
                latency = time.monotonic() - started
                body, truncated = await read_capped(response.content, MAX_BODY_BYTES)
                if truncated:
                    # Close rather than drain: the rest of an endless body is never read.
                    response.close()
                charset = response.charset or "utf-8"
                try:
                    text = body.decode(charset, errors="replace")
                except LookupError:
                    text = body.decode("utf-8", errors="replace")
                return HttpRaw(
                    status=response.status,
                    latency_s=latency,
                    text=text,
                    truncated=truncated,
                    final_url=str(response.url),
                )
        except aiohttp.ClientError as exc:
            return HttpRaw(error=_connection_error(exc))
        except OSError as exc:
            return HttpRaw(error=describe_error(exc))
        finally:
            await session.close()

    def evaluate(self, params: HttpParams, raw: HttpRaw) -> Result:
        if raw.status is None or raw.latency_s is None:
            return Result(State.CRITICAL, one_line(raw.error or "no response"))
        metrics = {"latency_s": raw.latency_s}
        details = {"url": raw.final_url} if raw.final_url else {}
        took = f"HTTP {raw.status} in {raw.latency_s * 1000:.0f} ms"
        if not params.status_ok(raw.status):
            return Result(
                State.CRITICAL,
                f"HTTP {raw.status}, expected {params.status_text()}",
                metrics,
                details,
            )
        if params.expected_text is not None and params.expected_text not in raw.text:
            where = "in the first MiB of the body" if raw.truncated else "in the body"
            return Result(
                State.CRITICAL,
                one_line(f"HTTP {raw.status}, {params.expected_text!r} not found {where}"),
                metrics,
                details,
            )
        warning, critical = params.latency_warning_s, params.latency_critical_s
        state = grade_latency(raw.latency_s, warning, critical)
        return Result(state, took + latency_note(state, warning, critical), metrics, details)
