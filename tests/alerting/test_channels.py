"""The channel kinds against real receivers on loopback: SMTP, HTTP, Apprise."""

from __future__ import annotations

import ipaddress
import ssl
import time
from collections.abc import Iterator
from typing import Any

import pytest
import trustme
from tests.alerting.conftest import HttpSink, SmtpSink

from leitstand.alerting.channels import ConfigError, Message, Outcome, build, kinds
from leitstand.alerting.channels.apprise import AppriseChannel
from leitstand.alerting.channels.email import EmailChannel
from leitstand.alerting.channels.webhook import (
    WebhookChannel,
    classify_status,
    refusal,
    sign,
    verify,
)

SECRET = "s3cret-s3cret-s3cret"
MESSAGE = Message(
    idempotency_key="n-42-abc",
    kind="alarm",
    subject="DOWN: alice-server",
    body="HTTP on alice-server is critical since 02:00.",
    payload={"alert": 42, "asset": "alice-server"},
)


def test_every_kind_is_registered() -> None:
    assert kinds() == ["apprise", "email", "webhook"]


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown channel kind 'pager'"):
        build("pager", {})


# -- e-mail -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "to: must be a non-empty string"),
        ({"to": "not an address"}, "to: 'not an address' is not an e-mail address"),
        ({"to": "a@b.example", "cc": "x"}, "unknown setting 'cc'; expected some of: to"),
    ],
)
def test_email_config_is_checked(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        EmailChannel.from_config(config)
    assert str(info.value) == message


def test_email_is_delivered_with_the_idempotency_key(smtp_sink: SmtpSink) -> None:
    result = build("email", {"to": "alice@c90001.example"}).send(MESSAGE)
    assert result.outcome == Outcome.OK, result.detail
    [mail] = smtp_sink.received
    assert mail.recipients == ["alice@c90001.example"]
    assert mail.header("Message-ID") == "<n-42-abc@provider.example>"
    assert mail.header("Subject") == "DOWN: alice-server"
    assert mail.header("Auto-Submitted") == "auto-generated"


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [
        ("550 5.1.1 no such user", Outcome.PERMANENT),
        ("554 5.7.1 rejected as spam", Outcome.PERMANENT),
        ("451 4.3.0 try again later", Outcome.RETRY),
        ("421 4.7.0 too busy", Outcome.RETRY),
    ],
)
def test_smtp_replies_decide_retry_or_permanent(
    smtp_sink: SmtpSink, reply: str, outcome: Outcome
) -> None:
    smtp_sink.reply = reply
    result = build("email", {"to": "alice@c90001.example"}).send(MESSAGE)
    assert result.outcome == outcome
    assert reply.split(maxsplit=1)[0] in result.detail
    assert smtp_sink.received == []


def test_smtp_server_down_is_a_retry(smtp_sink: SmtpSink) -> None:
    smtp_sink.stop()
    result = build("email", {"to": "alice@c90001.example"}).send(MESSAGE)
    assert result.outcome == Outcome.RETRY
    assert "ConnectionRefusedError" in result.detail


# -- webhook: signature -----------------------------------------------------------


def test_signature_round_trip() -> None:
    body = b'{"a": 1}'
    header = sign(SECRET, 1_700_000_000, body)
    assert header.startswith("t=1700000000,v1=")
    assert verify(SECRET, header, body, now=1_700_000_100)


@pytest.mark.parametrize(
    ("secret", "body", "now"),
    [
        ("another-secret-entirely", b'{"a": 1}', 1_700_000_000),  # wrong secret
        (SECRET, b'{"a": 2}', 1_700_000_000),  # body changed
        (SECRET, b'{"a": 1}', 1_700_000_301),  # replayed too late
    ],
)
def test_signature_refuses(secret: str, body: bytes, now: int) -> None:
    header = sign(SECRET, 1_700_000_000, b'{"a": 1}')
    assert not verify(secret, header, body, now=now)


def test_garbled_signature_header_is_refused() -> None:
    assert not verify(SECRET, "v1=abc", b"", now=0)


# -- webhook: address guard -------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "127.0.0.1 is a loopback address"),
        ("::1", "::1 is a loopback address"),
        ("::ffff:127.0.0.1", "127.0.0.1 is a loopback address"),
        ("10.1.2.3", "10.1.2.3 is a private address"),
        ("172.16.0.1", "172.16.0.1 is a private address"),
        ("192.168.1.1", "192.168.1.1 is a private address"),
        ("fd00::1", "fd00::1 is a private address"),
        ("169.254.169.254", "169.254.169.254 is a link-local address"),
        ("fe80::1", "fe80::1 is a link-local address"),
        ("224.0.0.1", "224.0.0.1 is a multicast address"),
        ("0.0.0.0", "0.0.0.0 is an unspecified address"),
        ("100.64.0.1", "100.64.0.1 is not a public address"),
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
    ],
)
def test_address_guard(address: str, reason: str | None) -> None:
    assert refusal(ipaddress.ip_address(address), ()) == reason


def test_allow_list_opens_a_private_network() -> None:
    allow = (ipaddress.ip_network("10.20.0.0/16"),)
    assert refusal(ipaddress.ip_address("10.20.3.4"), allow) is None
    assert refusal(ipaddress.ip_address("10.21.3.4"), allow) == "10.21.3.4 is a private address"


def test_guard_refuses_before_connecting(http_sink: HttpSink) -> None:
    result = build("webhook", {"url": http_sink.url, "secret": SECRET}).send(MESSAGE)
    assert result.outcome == Outcome.PERMANENT
    assert result.detail == "refused: 127.0.0.1 is a loopback address"
    assert http_sink.received == []


def test_guard_checks_every_resolved_address(http_sink: HttpSink) -> None:
    # A name with one public and one internal address is refused as a whole:
    # the connection could otherwise land on the internal one.
    channel = WebhookChannel(
        "http://hooks.example/x", SECRET, resolver=lambda host, port: ["93.184.215.14", "10.0.0.1"]
    )
    result = channel.send(MESSAGE)
    assert result.detail == "refused: 10.0.0.1 is a private address"


def test_connection_goes_to_the_checked_address(http_sink: HttpSink) -> None:
    # The URL names a host that does not exist; the pinned address is the sink.
    channel = WebhookChannel(
        f"http://hooks.customer.example:{http_sink.port}/in?x=1",
        SECRET,
        allow=(ipaddress.ip_network("127.0.0.0/8"),),
        resolver=lambda host, port: ["127.0.0.1"],
    )
    assert channel.send(MESSAGE).outcome == Outcome.OK
    [request] = http_sink.received
    assert request.path == "/in?x=1"
    assert request.headers["Host"] == f"hooks.customer.example:{http_sink.port}"


# -- webhook: delivery ------------------------------------------------------------


def allowed(sink: HttpSink) -> dict[str, Any]:
    return {"url": sink.url, "secret": SECRET, "allow": ["127.0.0.1/32"]}


def test_webhook_is_signed_json(http_sink: HttpSink) -> None:
    result = build("webhook", allowed(http_sink)).send(MESSAGE)
    assert result.outcome == Outcome.OK
    assert result.detail == "HTTP 200: ok"
    [request] = http_sink.received
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Idempotency-Key"] == "n-42-abc"
    assert verify(
        SECRET, request.headers["X-Leitstand-Signature"], request.body, now=int(time.time())
    )
    assert request.json() == {
        "idempotency_key": "n-42-abc",
        "kind": "alarm",
        "subject": "DOWN: alice-server",
        "body": "HTTP on alice-server is critical since 02:00.",
        "alert": {"alert": 42, "asset": "alice-server"},
    }


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.OK),
        (204, Outcome.OK),
        (301, Outcome.PERMANENT),
        (400, Outcome.PERMANENT),
        (401, Outcome.PERMANENT),
        (404, Outcome.PERMANENT),
        (408, Outcome.RETRY),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (503, Outcome.RETRY),
    ],
)
def test_status_decides_retry_or_permanent(status: int, outcome: Outcome) -> None:
    assert classify_status(status).outcome == outcome


def test_receiver_answers_are_classified(http_sink: HttpSink) -> None:
    http_sink.status = 429
    assert build("webhook", allowed(http_sink)).send(MESSAGE).outcome == Outcome.RETRY
    http_sink.status = 410
    assert build("webhook", allowed(http_sink)).send(MESSAGE).outcome == Outcome.PERMANENT


def test_receiver_down_is_a_retry(http_sink: HttpSink) -> None:
    http_sink.stop()
    result = build("webhook", allowed(http_sink)).send(MESSAGE)
    assert result.outcome == Outcome.RETRY
    assert "ConnectionRefusedError" in result.detail


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"url": "ftp://x.example/", "secret": SECRET},
            "url: 'ftp://x.example/' is not an http or https URL",
        ),
        (
            {"url": "https://u:p@x.example/", "secret": SECRET},
            "url: credentials belong in the secret, not in the URL",
        ),
        (
            {"url": "https://x.example/", "secret": "short"},
            "secret: must be at least 16 characters",
        ),
        ({"url": "https://x.example/"}, "secret: must be a non-empty string"),
        (
            {"url": "https://x.example/", "secret": SECRET, "allow": "10.0.0.0/8"},
            "allow: must be a list of networks",
        ),
        (
            {"url": "https://x.example/", "secret": SECRET, "allow": ["10.0.0.1/8"]},
            "allow: 10.0.0.1/8 has host bits set",
        ),
        (
            {"url": "https://x.example/", "secert": SECRET},
            "unknown setting 'secert'; expected some of: allow, secret, url",
        ),
    ],
)
def test_webhook_config_is_checked(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        WebhookChannel.from_config(config)
    assert str(info.value) == message


# -- Apprise ----------------------------------------------------------------------


def test_apprise_refuses_a_url_it_does_not_know() -> None:
    with pytest.raises(ConfigError, match="not a URL Apprise understands"):
        AppriseChannel.from_config({"url": "nonsense://token@nowhere"})


def test_apprise_delivers_through_a_real_http_receiver(http_sink: HttpSink) -> None:
    # Apprise's JSON plugin posts to our loopback sink: the real library, no mocks.
    channel = build("apprise", {"url": f"json://127.0.0.1:{http_sink.port}/hook"})
    result = channel.send(MESSAGE)
    assert result.outcome == Outcome.OK, result.detail
    [request] = http_sink.received
    document = request.json()
    assert document["title"] == "DOWN: alice-server"
    assert document["message"] == "HTTP on alice-server is critical since 02:00."


def test_apprise_failure_is_a_retry(http_sink: HttpSink) -> None:
    http_sink.stop()
    result = build("apprise", {"url": f"json://127.0.0.1:{http_sink.port}/hook"}).send(MESSAGE)
    assert result.outcome == Outcome.RETRY
    assert result.detail == "json: not delivered"


# -- webhook over TLS ---------------------------------------------------------------


@pytest.fixture
def https_sink() -> Iterator[tuple[HttpSink, trustme.CA]]:
    ca = trustme.CA()
    cert = ca.issue_cert("hooks.customer.example")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_context)
    sink = HttpSink()
    sink.start()
    assert sink.server is not None
    sink.server.socket = server_context.wrap_socket(sink.server.socket, server_side=True)
    yield sink, ca
    sink.stop()


def tls_channel(sink: HttpSink, ca: trustme.CA, host: str) -> WebhookChannel:
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    return WebhookChannel(
        f"https://{host}:{sink.port}/hook",
        SECRET,
        allow=(ipaddress.ip_network("127.0.0.0/8"),),
        resolver=lambda host, port: ["127.0.0.1"],
        tls=client_context,
    )


def test_https_verifies_the_url_host_on_the_pinned_address(
    https_sink: tuple[HttpSink, trustme.CA],
) -> None:
    sink, ca = https_sink
    result = tls_channel(sink, ca, "hooks.customer.example").send(MESSAGE)
    assert result.outcome == Outcome.OK, result.detail
    assert len(sink.received) == 1


def test_https_refuses_a_certificate_for_another_name(
    https_sink: tuple[HttpSink, trustme.CA],
) -> None:
    sink, ca = https_sink
    result = tls_channel(sink, ca, "evil.example").send(MESSAGE)
    assert result.outcome == Outcome.RETRY
    assert "CERTIFICATE_VERIFY_FAILED" in result.detail
    assert sink.received == []
