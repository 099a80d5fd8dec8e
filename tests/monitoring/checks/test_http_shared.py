"""HTTP checks inside an engine share one connector: still a fresh connection per
run, cookies never cross from one check to another, hostile targets cost one
timeout and leave nothing behind, and the connector closes with the engine."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from tests.monitoring.checks.conftest import Background

from leitstand.monitoring.checks import Result, State, http, registry
from leitstand.monitoring.checks.base import MAX_BODY_BYTES


@dataclass
class Seen:
    """What the server saw: the client's address of every request (a new
    connection has a new port), and the Cookie headers received."""

    peers: list[tuple[str, int]] = field(default_factory=list)
    cookies: list[str] = field(default_factory=list)


SEEN = web.AppKey("seen", Seen)


async def _echo(request: web.Request) -> web.Response:
    seen = request.app[SEEN]
    assert request.transport is not None
    seen.peers.append(request.transport.get_extra_info("peername"))
    seen.cookies.append(request.headers.get("Cookie", ""))
    return web.Response(text="hello")


async def _login(request: web.Request) -> web.Response:
    # Sets a session cookie and sends the client on; without it: back here.
    response = web.HTTPFound("/home")
    response.set_cookie("session", "s3cret")
    raise response


async def _home(request: web.Request) -> web.Response:
    if request.cookies.get("session") != "s3cret":
        raise web.HTTPFound("/login")
    return web.Response(text="welcome home")


async def _endless(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    await response.prepare(request)
    try:
        while True:
            await response.write(b"z" * 65536)
    except (ConnectionError, RuntimeError):
        pass
    return response


async def _never(request: web.Request) -> web.Response:
    await asyncio.sleep(1.0)  # far beyond the checks' 0.3 s deadline
    return web.Response(text="too late")


@pytest.fixture(scope="module")
def server(background: Background) -> Iterator[tuple[int, Seen]]:
    seen = Seen()
    app = web.Application()
    app[SEEN] = seen
    app.add_routes(
        [
            web.get("/echo", _echo),
            web.get("/login", _login),
            web.get("/home", _home),
            web.get("/endless", _endless),
            web.get("/never", _never),
        ]
    )
    # /never may still be waiting when the module ends
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=2.0)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))

    async def start() -> None:
        await runner.setup()
        await web.SockSite(runner, sock).start()

    background.run(start())
    yield sock.getsockname()[1], seen
    background.run(runner.cleanup())


def run_in_engine(*checks: tuple[str, float]) -> list[Result]:
    """Run the URLs one after another inside ``registry.running()``, as the engine does."""

    async def main() -> list[Result]:
        async with registry.running():
            assert http._shared() is not None
            return [
                await registry.run_check("http", {"url": url}, timeout) for url, timeout in checks
            ]

    return asyncio.run(main())


def test_every_run_opens_its_own_connection(server: tuple[int, Seen]) -> None:
    port, seen = server
    before = len(seen.peers)
    results = run_in_engine(*[(f"http://127.0.0.1:{port}/echo", 5.0)] * 3)
    assert [r.state for r in results] == [State.OK] * 3
    peers = seen.peers[before:]
    assert len(peers) == 3
    assert len(set(peers)) == 3  # three connections, none kept alive for the next run


def test_cookies_work_within_a_run_and_never_leak_to_the_next(server: tuple[int, Seen]) -> None:
    port, seen = server
    # a host name: aiohttp keeps no cookies for bare IP addresses
    home, echo = run_in_engine(
        (f"http://localhost:{port}/login", 5.0), (f"http://localhost:{port}/echo", 5.0)
    )
    assert home.state is State.OK, home.summary
    assert home.details == {"url": f"http://localhost:{port}/home"}
    assert echo.state is State.OK
    assert seen.cookies[-1] == ""  # the next check did not carry the session cookie


def test_hostile_targets_cost_one_timeout_and_the_connector_goes_on(
    server: tuple[int, Seen], silent_port: int
) -> None:
    port, _ = server

    async def main() -> tuple[list[Result], int]:
        async with registry.running():
            connector = http._shared()
            assert connector is not None
            results = [
                await registry.run_check("http", {"url": f"http://127.0.0.1:{silent_port}/"}, 0.3),
                await registry.run_check("http", {"url": f"http://127.0.0.1:{port}/never"}, 0.3),
                await registry.run_check(
                    "http",
                    {"url": f"http://127.0.0.1:{port}/endless", "expected_text": "needle"},
                    5.0,
                ),
                await registry.run_check("http", {"url": f"http://127.0.0.1:{port}/echo"}, 5.0),
            ]
            await asyncio.sleep(0)
            return results, len(connector._acquired)

    results, still_held = asyncio.run(main())
    assert [r.summary for r in results[:2]] == ["no answer within 0.3 s"] * 2
    assert results[2] == Result(
        State.CRITICAL,
        "HTTP 200, 'needle' not found in the first MiB of the body",
        results[2].metrics,
        results[2].details,
    )
    assert results[3].state is State.OK
    assert still_held == 0  # no connection left checked out of the connector
    assert MAX_BODY_BYTES == 1024 * 1024


def test_the_connector_closes_with_the_last_engine_on_the_loop() -> None:
    async def main() -> tuple[bool, bool, bool]:
        async with registry.running():
            outer = http._shared()
            async with registry.running():  # a second engine on the same loop
                inner = http._shared()
            still_open = http._shared() is outer and outer is not None and not outer.closed
        assert outer is not None
        return inner is outer, still_open, outer.closed and http._shared() is None

    assert asyncio.run(main()) == (True, True, True)
    assert http._CONNECTORS == {}


def test_outside_an_engine_a_check_makes_its_own_connector(server: tuple[int, Seen]) -> None:
    port, _ = server

    async def main() -> tuple[Result, object]:
        result = await registry.run_check("http", {"url": f"http://127.0.0.1:{port}/echo"}, 5)
        return result, http._shared()

    result, shared = asyncio.run(main())
    assert result.state is State.OK
    assert shared is None
