"""Webhooks: a JSON POST, HMAC-SHA256-signed, to an address the guard allows.

The signature header is ``X-Leitstand-Signature: t=<unix time>,v1=<hex>``
over ``"<t>." + body`` with the channel's secret (the scheme Stripe made
familiar): the receiver recomputes it, compares in constant time and refuses
old timestamps, so a captured request cannot be replayed later.

The address guard exists because whoever configures a webhook chooses where
the server connects to: without it, a webhook is a way to reach the
provider's own loopback services, internal networks or the cloud metadata
address (169.254.169.254). The host name is resolved once, every address is
checked, and the connection goes to the checked address (pinned), so a DNS
answer that changes between check and connect (rebinding) gains nothing.
Redirects are not followed for the same reason.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

from leitstand.alerting.channels.base import (
    ConfigError,
    Message,
    SendResult,
    check_keys,
    text,
)
from leitstand.alerting.channels.registry import register

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

TIMEOUT_SECONDS = 10.0
# Only the status matters; a little of the body goes into the error detail.
# Reading more would let a hostile receiver make the worker hold megabytes.
RESPONSE_CAP = 4096
USER_AGENT = "Leitstand-Webhook/1"

Resolver = Callable[[str, int], list[str]]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: recompute, compare in constant time, refuse stale requests."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


def refusal(address: IPAddress, allow: Sequence[IPNetwork]) -> str | None:
    """Why ``address`` must not be contacted, or None if it may.

    Everything that is not globally routable is refused (loopback, private,
    link-local, carrier-grade NAT, documentation ranges, unspecified), and
    multicast too, unless the channel's allow-list names it.
    """
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # ::ffff:127.0.0.1 is 127.0.0.1.
        address = address.ipv4_mapped
    if any(address in network for network in allow):
        return None
    for label, flag in (
        ("a loopback", address.is_loopback),
        ("a link-local", address.is_link_local),
        ("a multicast", address.is_multicast),
        ("an unspecified", address.is_unspecified),
        ("a private", address.is_private),
    ):
        if flag:
            return f"{address} is {label} address"
    if not address.is_global:
        return f"{address} is not a public address"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    """All addresses ``host`` resolves to (A and AAAA)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to a checked address while ``Host`` keeps the URL's name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.pinned = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.pinned, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """As :class:`_PinnedHTTP`, with TLS verified against the URL's host name."""

    def __init__(
        self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.pinned = address
        self.tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self.pinned, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)


@register
@dataclass(frozen=True)
class WebhookChannel:
    """POST the alert as JSON to ``url``, signed with ``secret``."""

    kind: ClassVar[str] = "webhook"
    url: str
    secret: str
    allow: tuple[IPNetwork, ...] = ()
    resolver: Resolver = system_resolver
    tls: ssl.SSLContext | None = None  # tests pass a context that trusts their CA

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Self:
        check_keys(config, {"url", "secret", "allow"})
        url = text(config, "url")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"url: {url!r} is not an http or https URL")
        if parts.username or parts.password:
            raise ConfigError("url: credentials belong in the secret, not in the URL")
        secret = text(config, "secret")
        if len(secret) < 16:
            raise ConfigError("secret: must be at least 16 characters")
        raw_allow = config.get("allow", [])
        if not isinstance(raw_allow, list):
            raise ConfigError("allow: must be a list of networks")
        try:
            allow = tuple(ipaddress.ip_network(str(item)) for item in raw_allow)
        except ValueError as error:
            raise ConfigError(f"allow: {error}") from None
        return cls(url, secret, allow)

    def payload(self, message: Message) -> bytes:
        """The JSON body: the message's fields and its structured payload."""
        document = {
            "idempotency_key": message.idempotency_key,
            "kind": message.kind,
            "subject": message.subject,
            "body": message.body,
            "alert": dict(message.payload),
        }
        return json.dumps(document, sort_keys=True, default=str).encode()

    def send(self, message: Message) -> SendResult:
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        https = parts.scheme == "https"
        port = parts.port or (443 if https else 80)
        try:
            addresses = self.resolver(host, port)
        except OSError as error:
            return SendResult.retry(f"cannot resolve {host}: {error}")
        if not addresses:
            return SendResult.retry(f"{host} has no address")
        for address in addresses:
            reason = refusal(ipaddress.ip_address(address.split("%", 1)[0]), self.allow)
            if reason:
                # Permanent: the configuration is wrong, retrying cannot help.
                return SendResult.permanent(f"refused: {reason}")
        body = self.payload(message)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Idempotency-Key": message.idempotency_key,
            "X-Leitstand-Signature": sign(self.secret, int(time.time()), body),
        }
        connection: http.client.HTTPConnection
        if https:
            context = self.tls or ssl.create_default_context()
            connection = _PinnedHTTPS(host, port, addresses[0], TIMEOUT_SECONDS, context)
        else:
            connection = _PinnedHTTP(host, port, addresses[0], TIMEOUT_SECONDS)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            excerpt = response.read(RESPONSE_CAP).decode(errors="replace").strip()
            status = response.status
        except (OSError, http.client.HTTPException) as error:
            return SendResult.retry(f"{type(error).__name__}: {error}")
        finally:
            connection.close()
        return classify_status(status, excerpt)


def classify_status(status: int, excerpt: str = "") -> SendResult:
    """2xx delivered; 429, 408 and 5xx retry; every other answer is final."""
    detail = f"HTTP {status}" + (f": {excerpt[:200]}" if excerpt else "")
    if 200 <= status < 300:
        return SendResult.ok(detail)
    # 408 (request timeout) is the receiver saying "try again" just as 429 is.
    if status in (408, 429) or status >= 500:
        return SendResult.retry(detail)
    # 3xx: redirects are not followed (they would bypass the address guard).
    return SendResult.permanent(detail)
