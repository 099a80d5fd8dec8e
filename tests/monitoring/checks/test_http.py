"""HTTP check: parameters, evaluation table, and a real aiohttp server over
HTTP and HTTPS (trustme CA: valid, expired and wrong-host certificates).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from tests.monitoring.checks.conftest import Background, Pki

from leitstand.monitoring.checks import ParamsError, Result, State, registry
from leitstand.monitoring.checks.base import MAX_BODY_BYTES
from leitstand.monitoring.checks.http import HttpCheck, HttpParams, HttpRaw

# -- parameters ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"url": "https://www.example.com/"}, HttpParams("https://www.example.com/")),
        (
            {
                "url": "http://www.example.com/health",
                "expected_status": [200, "300-308", "404"],
                "expected_text": "OK",
                "latency_warning_s": 1,
                "latency_critical_s": 5,
                "follow_redirects": False,
                "verify_tls": False,
            },
            HttpParams(
                "http://www.example.com/health",
                expected_status=((200, 200), (300, 308), (404, 404)),
                expected_text="OK",
                latency_warning_s=1.0,
                latency_critical_s=5.0,
                follow_redirects=False,
                verify_tls=False,
            ),
        ),
    ],
)
def test_parse_params(raw: dict[str, Any], expected: HttpParams) -> None:
    assert HttpCheck.parse_params(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "url: required"),
        (
            {"url": "www.example.com"},
            "url: 'www.example.com' must start with http:// or https:// and name a host",
        ),
        (
            {"url": "ftp://www.example.com/"},
            "url: 'ftp://www.example.com/' must start with http:// or https:// and name a host",
        ),
        (
            {"url": "https://"},
            "url: 'https://' must start with http:// or https:// and name a host",
        ),
        (
            {"url": "https://x.example/", "expected_status": 200},
            'expected_status: must be a non-empty list such as [200, "300-399"]',
        ),
        (
            {"url": "https://x.example/", "expected_status": []},
            'expected_status: must be a non-empty list such as [200, "300-399"]',
        ),
        (
            {"url": "https://x.example/", "expected_status": ["2xx"]},
            "expected_status: '2xx' is not a status code or range",
        ),
        (
            {"url": "https://x.example/", "expected_status": [True]},
            "expected_status: True is not a status code or range",
        ),
        (
            {"url": "https://x.example/", "expected_status": [700]},
            "expected_status: 700 is not within 100-599",
        ),
        (
            {"url": "https://x.example/", "expected_status": ["399-200"]},
            "expected_status: '399-200' is not within 100-599",
        ),
        (
            {"url": "https://x.example/", "expected_text": ""},
            "expected_text: must be a non-empty string",
        ),
        (
            {"url": "https://x.example/", "follow_redirects": "no"},
            "follow_redirects: must be true or false",
        ),
        (
            {"url": "https://x.example/", "ca_certificate": "my-ca"},
            "ca_certificate: must be a PEM certificate (-----BEGIN CERTIFICATE-----)",
        ),
        (
            {"url": "https://x.example/", "verify": False},
            "unknown parameter 'verify'; expected some of: ca_certificate, expected_status, expected_text, follow_redirects, latency_critical_s, latency_warning_s, url, verify_tls",
        ),
        (
            {"url": "https://x.example:99999/"},
            "url: 'https://x.example:99999/' is not a URL (Port out of range 0-65535)",
        ),
    ],
)
def test_parse_params_refuses(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ParamsError) as info:
        HttpCheck.parse_params(raw)
    assert str(info.value) == message


def test_parse_params_with_a_private_ca(pki: Pki) -> None:
    params = HttpCheck.parse_params(
        {"url": "https://intranet.example/", "ca_certificate": pki.ca_pem}
    )
    assert params == HttpParams("https://intranet.example/", ca_certificate=pki.ca_pem)


# -- evaluate -----------------------------------------------------------------

URL = "https://www.example.com/"
PLAIN = HttpParams(URL)
STRICT = HttpParams(
    URL,
    expected_status=((200, 200), (301, 302)),
    expected_text="Welcome",
    latency_warning_s=0.5,
    latency_critical_s=2,
)


def ok(
    status: int = 200, latency: float = 0.042, text: str = "Welcome home", truncated: bool = False
) -> HttpRaw:
    return HttpRaw(status=status, latency_s=latency, text=text, truncated=truncated, final_url=URL)


@pytest.mark.parametrize(
    ("params", "raw", "state", "summary"),
    [
        (PLAIN, ok(), State.OK, "HTTP 200 in 42 ms"),
        (PLAIN, ok(399), State.OK, "HTTP 399 in 42 ms"),
        (PLAIN, ok(404), State.CRITICAL, "HTTP 404, expected 200-399"),
        (PLAIN, ok(503), State.CRITICAL, "HTTP 503, expected 200-399"),
        (STRICT, ok(302), State.OK, "HTTP 302 in 42 ms"),
        (STRICT, ok(204), State.CRITICAL, "HTTP 204, expected 200, 301-302"),
        (
            STRICT,
            ok(text="Maintenance"),
            State.CRITICAL,
            "HTTP 200, 'Welcome' not found in the body",
        ),
        (
            STRICT,
            ok(text="x" * 10, truncated=True),
            State.CRITICAL,
            "HTTP 200, 'Welcome' not found in the first MiB of the body",
        ),
        (STRICT, ok(latency=0.5), State.WARNING, "HTTP 200 in 500 ms (warning at 0.5 s)"),
        (STRICT, ok(latency=2.5), State.CRITICAL, "HTTP 200 in 2500 ms (critical at 2 s)"),
        (
            PLAIN,
            HttpRaw(error="certificate verify failed: certificate has expired"),
            State.CRITICAL,
            "certificate verify failed: certificate has expired",
        ),
        (
            PLAIN,
            HttpRaw(error="cannot connect to www.example.com:443: connection refused"),
            State.CRITICAL,
            "cannot connect to www.example.com:443: connection refused",
        ),
        (PLAIN, HttpRaw(), State.CRITICAL, "no response"),
    ],
)
def test_evaluate(params: HttpParams, raw: HttpRaw, state: State, summary: str) -> None:
    result = HttpCheck().evaluate(params, raw)
    assert (result.state, result.summary) == (state, summary)


def test_evaluate_reports_latency_and_url() -> None:
    result = HttpCheck().evaluate(PLAIN, ok())
    assert result.metrics == {"latency_s": 0.042}
    assert result.details == {"url": URL}


# -- a real server ------------------------------------------------------------

PAGE = "Hello from the Leitstand test server"


async def _index(request: web.Request) -> web.Response:
    return web.Response(text=PAGE)


async def _status(request: web.Request) -> web.Response:
    return web.Response(status=int(request.match_info["code"]), text="status")


async def _redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound("/")


async def _loop(request: web.Request) -> web.Response:
    raise web.HTTPFound("/loop")


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(0.2)
    return web.Response(text=PAGE)


async def _latin1(request: web.Request) -> web.Response:
    return web.Response(
        body="Grüße aus Köln".encode("latin-1"), content_type="text/plain", charset="iso-8859-1"
    )


async def _big(request: web.Request) -> web.Response:
    # The needle lies beyond the first MiB, which is all a check reads.
    return web.Response(text="a" * (2 * MAX_BODY_BYTES) + "needle")


async def _endless(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    await response.prepare(request)
    chunk = b"z" * 65536
    try:
        while True:
            await response.write(chunk)
    except (ConnectionError, RuntimeError):
        pass
    return response


@dataclass(frozen=True)
class Servers:
    http: int
    valid: int
    expired: int
    wrong_host: int


def _listen() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="module")
def servers(background: Background, pki: Pki) -> Iterator[Servers]:
    app = web.Application()
    app.add_routes(
        [
            web.get("/", _index),
            web.get("/status/{code}", _status),
            web.get("/redirect", _redirect),
            web.get("/loop", _loop),
            web.get("/slow", _slow),
            web.get("/latin1", _latin1),
            web.get("/big", _big),
            web.get("/endless", _endless),
        ]
    )
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    contexts: list[ssl.SSLContext | None] = [None, pki.valid, pki.expired, pki.wrong_host]
    sockets = [_listen() for _ in contexts]

    async def start() -> None:
        await runner.setup()
        for sock, context in zip(sockets, contexts, strict=True):
            await web.SockSite(runner, sock, ssl_context=context).start()

    background.run(start())
    yield Servers(*(sock.getsockname()[1] for sock in sockets))
    background.run(runner.cleanup())


def run(params: dict[str, Any], timeout: float = 5) -> Result:
    return asyncio.run(registry.run_check("http", params, timeout))


def test_page(servers: Servers) -> None:
    result = run({"url": f"http://127.0.0.1:{servers.http}/", "expected_text": "Leitstand"})
    assert result.state is State.OK
    assert result.summary.startswith("HTTP 200 in ")
    assert result.details == {"url": f"http://127.0.0.1:{servers.http}/"}


def test_expected_text_missing(servers: Servers) -> None:
    result = run({"url": f"http://127.0.0.1:{servers.http}/", "expected_text": "Welcome"})
    assert result.state is State.CRITICAL
    assert result.summary == "HTTP 200, 'Welcome' not found in the body"


def test_text_in_the_page_charset(servers: Servers) -> None:
    result = run({"url": f"http://127.0.0.1:{servers.http}/latin1", "expected_text": "Grüße"})
    assert result.state is State.OK


@pytest.mark.parametrize(
    ("path", "statuses", "state", "summary"),
    [
        ("/status/500", None, State.CRITICAL, "HTTP 500, expected 200-399"),
        ("/status/404", [404], State.OK, "HTTP 404 in "),
        ("/status/204", [200], State.CRITICAL, "HTTP 204, expected 200"),
    ],
)
def test_status(
    servers: Servers, path: str, statuses: list[int] | None, state: State, summary: str
) -> None:
    params: dict[str, Any] = {"url": f"http://127.0.0.1:{servers.http}{path}"}
    if statuses is not None:
        params["expected_status"] = statuses
    result = run(params)
    assert result.state is state
    assert result.summary.startswith(summary)


def test_redirect_followed(servers: Servers) -> None:
    result = run({"url": f"http://127.0.0.1:{servers.http}/redirect", "expected_status": [200]})
    assert result.state is State.OK
    assert result.details == {"url": f"http://127.0.0.1:{servers.http}/"}


def test_redirect_not_followed(servers: Servers) -> None:
    params = {
        "url": f"http://127.0.0.1:{servers.http}/redirect",
        "follow_redirects": False,
        "expected_status": [200],
    }
    result = run(params)
    assert (result.state, result.summary) == (State.CRITICAL, "HTTP 302, expected 200")
    assert result.details == {"url": f"http://127.0.0.1:{servers.http}/redirect"}


def test_redirect_loop(servers: Servers) -> None:
    assert run({"url": f"http://127.0.0.1:{servers.http}/loop"}) == Result(
        State.CRITICAL, "more than 10 redirects"
    )


def test_slow_page_warns(servers: Servers) -> None:
    result = run(
        {
            "url": f"http://127.0.0.1:{servers.http}/slow",
            "latency_warning_s": 0.1,
            "latency_critical_s": 3,
        }
    )
    assert result.state is State.WARNING
    assert result.summary.endswith(" ms (warning at 0.1 s)")
    assert result.metrics["latency_s"] >= 0.2


def test_body_read_is_capped(servers: Servers) -> None:
    result = run({"url": f"http://127.0.0.1:{servers.http}/big", "expected_text": "needle"})
    assert (result.state, result.summary) == (
        State.CRITICAL,
        "HTTP 200, 'needle' not found in the first MiB of the body",
    )


def test_endless_body_costs_one_mebibyte(servers: Servers) -> None:
    raw = asyncio.run(HttpCheck().probe(HttpParams(f"http://127.0.0.1:{servers.http}/endless"), 5))
    assert raw.status == 200
    assert raw.truncated is True
    assert len(raw.text) == MAX_BODY_BYTES


def test_https_with_private_ca(servers: Servers, pki: Pki) -> None:
    result = run({"url": f"https://127.0.0.1:{servers.valid}/", "ca_certificate": pki.ca_pem})
    assert result.state is State.OK
    assert result.summary.startswith("HTTP 200 in ")


def test_https_unknown_ca(servers: Servers) -> None:
    result = run({"url": f"https://127.0.0.1:{servers.valid}/"})
    assert result == Result(
        State.CRITICAL, "certificate verify failed: unable to get local issuer certificate"
    )


def test_https_expired(servers: Servers, pki: Pki) -> None:
    result = run({"url": f"https://127.0.0.1:{servers.expired}/", "ca_certificate": pki.ca_pem})
    assert result == Result(State.CRITICAL, "certificate verify failed: certificate has expired")


def test_https_wrong_host(servers: Servers, pki: Pki) -> None:
    result = run({"url": f"https://127.0.0.1:{servers.wrong_host}/", "ca_certificate": pki.ca_pem})
    assert result == Result(
        State.CRITICAL,
        "certificate verify failed: IP address mismatch, certificate is not valid for '127.0.0.1'.",
    )


def test_https_without_verification(servers: Servers) -> None:
    result = run({"url": f"https://127.0.0.1:{servers.expired}/", "verify_tls": False})
    assert result.state is State.OK


def test_plain_http_to_a_tls_port(servers: Servers) -> None:
    result = run({"url": f"http://127.0.0.1:{servers.valid}/"})
    assert result.state is State.CRITICAL


def test_connection_refused(closed_port: int) -> None:
    assert run({"url": f"http://127.0.0.1:{closed_port}/"}) == Result(
        State.CRITICAL, f"cannot connect to 127.0.0.1:{closed_port}: connection refused"
    )


def test_garbage_is_not_http(garbage_port: int) -> None:
    result = run({"url": f"http://127.0.0.1:{garbage_port}/"})
    assert result.state is State.CRITICAL
    assert result.summary.startswith("invalid HTTP response: ")
