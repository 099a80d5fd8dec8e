"""Fixtures of the agent's tests: a protocol stand-in server and TLS certificates.

The stand-in answers as docs/agent-protocol.md says the Leitstand server
answers (202, 200 duplicate, 503 + Retry-After, 400, 403) and records what
arrived. It is not the server: the integration test against the real Django
server lives with the server's tests.
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

API = "/api/agent/v1/"


@dataclass
class StandInState:
    """What the stand-in answers and what it received."""

    host_id: int = 17
    secret: str = "s" * 43
    action_key: str = "k" * 43
    token: str = "enroll-token"
    report_interval: int = 60
    reports: list[dict[str, Any]] = field(default_factory=list)
    # Status codes to answer report posts with, in order; then 202 / 200 duplicate.
    report_script: list[tuple[int, dict[str, str], dict[str, Any]]] = field(default_factory=list)
    accepted: set[int] = field(default_factory=set)
    actions: list[dict[str, Any]] = field(default_factory=list)
    results: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    enrollments: list[dict[str, Any]] = field(default_factory=list)


class ProtocolStandIn:
    """A ThreadingHTTPServer on loopback speaking the agent protocol's answers."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self.state = StandInState()
        self.lock = threading.Lock()
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        if context is not None:
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.scheme = "https" if context else "http"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host = "localhost" if self.scheme == "https" else "127.0.0.1"
        return f"{self.scheme}://{host}:{self.server.server_address[1]}"

    def __enter__(self) -> ProtocolStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

            def body(self) -> Any:
                length = int(self.headers.get("Content-Length", "0"))
                return json.loads(self.rfile.read(length) or b"null")

            def authorised(self) -> bool:
                state = stand_in.state
                given = self.headers.get("Authorization")
                state.authorizations.append(given)
                if given != f"Bearer {state.host_id}.{state.secret}":
                    self.answer(403, {"error": "bad credentials"})
                    return False
                return True

            def do_POST(self) -> None:
                state = stand_in.state
                path = self.path.removeprefix(API)
                with stand_in.lock:
                    if path == "enroll":
                        body = self.body()
                        state.enrollments.append(body)
                        if body.get("token") != state.token:
                            self.answer(403, {"error": "token unknown, used or expired"})
                            return
                        state.token = ""  # single use
                        self.answer(
                            201,
                            {
                                "host_id": state.host_id,
                                "secret": state.secret,
                                "action_key": state.action_key,
                                "report_interval": state.report_interval,
                            },
                        )
                        return
                    if not self.authorised():
                        return
                    if path == "rotate":
                        state.secret = "r" * 43
                        self.answer(200, {"secret": state.secret})
                        return
                    if path == "report":
                        body = self.body()
                        if state.report_script:
                            status, headers, answer = state.report_script.pop(0)
                            if status in (202, 200):
                                state.reports.append(body)
                                state.accepted.add(body["seq"])
                            self.answer(status, answer, headers)
                            return
                        state.reports.append(body)
                        if body["seq"] in state.accepted:
                            self.answer(200, {"accepted": body["seq"], "duplicate": True})
                        else:
                            state.accepted.add(body["seq"])
                            self.answer(202, {"accepted": body["seq"]})
                        return
                    if path.startswith("actions/") and path.endswith("/result"):
                        state.results.append((int(path.split("/")[1]), self.body()))
                        self.answer(200, {})
                        return
                self.answer(404, {"error": "not found"})

            def do_GET(self) -> None:
                state = stand_in.state
                with stand_in.lock:
                    if not self.authorised():
                        return
                    if self.path.removeprefix(API) == "actions":
                        actions, state.actions = state.actions, []
                        self.answer(200, {"actions": actions})
                        return
                self.answer(404, {"error": "not found"})

        return Handler


@pytest.fixture
def stand_in() -> Iterator[ProtocolStandIn]:
    """The protocol stand-in over plain HTTP on 127.0.0.1 (loopback is allowed)."""
    with ProtocolStandIn() as server:
        yield server


@dataclass(frozen=True)
class Certificates:
    """A test CA, a server certificate for localhost it signed, and an unrelated CA."""

    ca: Path
    cert: Path
    key: Path
    other_ca: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    d = tmp_path_factory.mktemp("tls")
    for name in ("ca", "other"):
        _openssl(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2",
            "-subj", f"/CN=Leitstand test {name}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            cwd=d,
        )  # fmt: skip
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost",
        cwd=d,
    )  # fmt: skip
    (d / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf",
        cwd=d,
    )  # fmt: skip
    return Certificates(d / "ca.pem", d / "server.pem", d / "server.key", d / "other.pem")


@pytest.fixture
def tls_stand_in(certificates: Certificates) -> Iterator[ProtocolStandIn]:
    """The protocol stand-in over HTTPS with a certificate of the test CA."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates.cert, certificates.key)
    with ProtocolStandIn(context) as server:
        yield server
