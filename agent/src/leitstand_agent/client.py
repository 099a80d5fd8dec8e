"""The HTTPS client of the agent protocol (docs/agent-protocol.md).

urllib from the standard library: the agent depends on psutil and nothing
else. Certificates are always verified; a CA file pins the server to one CA.
Plain ``http://`` is accepted for loopback addresses only (development and
tests), never across a network.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from leitstand_agent import __version__
from leitstand_agent.spool import Spool

API_PATH = "/api/agent/v1/"
DEFAULT_RETRY_AFTER = 60.0
# Network errors and unexpected answers: try again after this, not at once.
ERROR_BACKOFF = 30.0
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


class ClientError(Exception):
    """The server could not be reached or answered something the protocol does not allow."""


class InsecureURLError(ClientError):
    """An ``http://`` URL to a host other than loopback."""


@dataclass(frozen=True)
class Response:
    """A status, the ``Retry-After`` seconds if any, and the JSON body (``None`` if none)."""

    status: int
    body: Any
    retry_after: float | None = None

    def error(self) -> str:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), str):
            return str(self.body["error"])
        return f"HTTP {self.status}"


@dataclass(frozen=True)
class Enrollment:
    """What a ``201`` to ``POST enroll`` carries."""

    host_id: int
    secret: str
    action_key: str
    report_interval: float


@dataclass(frozen=True)
class SendOutcome:
    """What :func:`send_pending` did, and when to try again (``None``: nothing waits)."""

    sent: int = 0
    rejected: int = 0
    retry_after: float | None = None
    error: str | None = None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def check_url(url: str) -> str:
    """``url`` without a trailing slash; ``http://`` only for loopback."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url.rstrip("/")
    if parts.scheme == "http" and parts.hostname in _LOOPBACK:
        return url.rstrip("/")
    if parts.scheme == "http":
        raise InsecureURLError(f"{url}: plain http is allowed for loopback only; use https://")
    raise ClientError(f"{url}: not an https:// URL")


class Client:
    """Calls of the protocol for one server; credentials once enrolled."""

    def __init__(
        self,
        server_url: str,
        *,
        ca_file: Path | None = None,
        timeout: float = 30.0,
        host_id: int | None = None,
        secret: str = "",
    ) -> None:
        self.base = check_url(server_url) + API_PATH
        self.timeout = timeout
        self.host_id = host_id
        self.secret = secret
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        # No proxy from the environment: the agent talks to one known server.
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
        )

    def request(self, method: str, path: str, body: bytes | None = None) -> Response:
        """One call; any HTTP status is a :class:`Response`, no answer a :class:`ClientError`."""
        headers = {
            "Accept": "application/json",
            "User-Agent": f"leitstand-agent/{__version__}",
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.host_id is not None and self.secret:
            headers["Authorization"] = f"Bearer {self.host_id}.{self.secret}"
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in check_url
            self.base + path, data=body, headers=headers, method=method
        )
        try:
            with self.opener.open(request, timeout=self.timeout) as answer:
                return _response(answer.status, answer.headers, answer.read(MAX_RESPONSE_BYTES))
        except urllib.error.HTTPError as exc:
            with exc:
                return _response(exc.code, exc.headers, exc.read(MAX_RESPONSE_BYTES))
        except (TimeoutError, urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ClientError(f"{self.base}{path}: {reason}") from None

    def post_json(self, path: str, data: Any) -> Response:
        return self.request("POST", path, json.dumps(data).encode("utf-8"))

    def enroll(self, token: str, hostname: str, machine_id: str) -> Enrollment:
        """``POST enroll``; :class:`ClientError` with the server's reason if refused."""
        response = self.post_json(
            "enroll",
            {
                "token": token,
                "hostname": hostname,
                "machine_id": machine_id,
                "agent_version": __version__,
            },
        )
        if response.status != 201:
            raise ClientError(f"enrollment refused: {response.error()}")
        body = response.body
        try:
            return Enrollment(
                host_id=int(body["host_id"]),
                secret=str(body["secret"]),
                action_key=str(body["action_key"]),
                report_interval=float(body.get("report_interval", 60)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ClientError(f"enrollment answer is incomplete: {exc!r}") from None

    def rotate(self) -> str:
        """``POST rotate``: a new secret. The caller stores it before using it.

        Protocol: "the old secret keeps working until the first call made with
        the new one", so a crash before the new secret is stored loses nothing.
        """
        response = self.request("POST", "rotate", b"{}")
        body = response.body
        if response.status != 200 or not isinstance(body, dict) or not body.get("secret"):
            raise ClientError(f"POST rotate: {response.error()}")
        return str(body["secret"])

    def post_report(self, body: bytes) -> Response:
        return self.request("POST", "report", body)

    def actions(self) -> list[dict[str, Any]]:
        """``GET actions``: the pending actions, unverified (see :mod:`actions`)."""
        response = self.request("GET", "actions")
        if response.status != 200:
            raise ClientError(f"GET actions: {response.error()}")
        body = response.body
        if not isinstance(body, dict) or not isinstance(body.get("actions"), list):
            raise ClientError("GET actions: the answer holds no list 'actions'")
        return [a for a in body["actions"] if isinstance(a, dict)]

    def policy(self) -> dict[str, Any]:
        """``GET policy``: the contract's process and restart policy (unvalidated)."""
        response = self.request("GET", "policy")
        if response.status != 200:
            raise ClientError(f"GET policy: {response.error()}")
        if not isinstance(response.body, dict):
            raise ClientError("GET policy: the answer is not a JSON object")
        return response.body

    def post_result(self, action_id: int, result: dict[str, Any]) -> None:
        response = self.post_json(f"actions/{int(action_id)}/result", result)
        if response.status != 200:
            raise ClientError(f"POST actions/{action_id}/result: {response.error()}")


def _response(status: int, headers: Any, raw: bytes) -> Response:
    body: Any = None
    if raw:
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
    return Response(status, body, parse_retry_after(headers.get("Retry-After")))


def send_pending(spool: Spool, client: Client) -> SendOutcome:
    """Send queued reports oldest first until the queue is empty or the server says wait.

    Protocol, "Reports": ``202``/``200 duplicate`` -> accepted, the file goes;
    ``400`` -> "moves it out of its queue (kept in ``rejected/``) and goes on
    with the next one"; ``503`` (and ``429``) with ``Retry-After`` -> "keeps the
    report and waits at least N seconds". Anything else stops the round with
    the report still queued: "a newer report is never sent before an older one
    is accepted".
    """
    sent = rejected = 0
    for report in spool.pending():
        try:
            body = report.body()
        except FileNotFoundError:
            continue  # dropped by the bound while we were sending
        try:
            response = client.post_report(body)
        except ClientError as exc:
            return SendOutcome(sent, rejected, ERROR_BACKOFF, str(exc))
        if response.status in (200, 202):
            spool.accepted(report)
            sent += 1
        elif response.status == 400:
            spool.reject(report, response.error())
            rejected += 1
        elif response.status in (429, 503):
            wait = response.retry_after
            return SendOutcome(
                sent,
                rejected,
                DEFAULT_RETRY_AFTER if wait is None else wait,
                f"server busy (HTTP {response.status})",
            )
        else:
            return SendOutcome(
                sent,
                rejected,
                response.retry_after or ERROR_BACKOFF,
                f"report {report.seq}: {response.error()}",
            )
    return SendOutcome(sent, rejected)
