"""Acknowledging by SMS reply through Twilio.

Issue 5 item 3: acknowledgement "from [...] an SMS reply where the gateway
supports it". Twilio signs its webhook (X-Twilio-Signature); the auth token
is the one in the on-call person's Twilio channel. Only a number that was
alarmed for the alert can acknowledge it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from tests.alerting.conftest import T0, event, on_call
from tests.conftest import Tenant

from leitstand.accounts.models import User
from leitstand.alerting import actions, sms
from leitstand.alerting.models import Alert, Channel, SmsReply

pytestmark = pytest.mark.django_db

SID = "AC" + "1" * 32
TOKEN = "f" * 32
FROM = "+15005550006"
MOBILE = "+4915112345678"
TWILIO = ("apprise", {"url": f"twilio://{SID}:{TOKEN}@{FROM}/{MOBILE}"})
HOOK = "http://testserver/hooks/sms/twilio/"

Outcome = SmsReply.Outcome


def twilio_reference(token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's documented algorithm, written out independently of the code under test."""
    data = url
    for key in sorted(params):
        data += key + params[key]
    mac = hmac.new(token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("utf-8")


def test_signature_matches_twilios_documented_example() -> None:
    """The example of Twilio's security documentation, with its published result."""
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    expected = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert twilio_reference("12345", url, params) == expected
    assert sms.twilio_signature("12345", url, {k: [v] for k, v in params.items()}) == expected
    assert sms.valid_signature(["12345"], url, {k: [v] for k, v in params.items()}, expected)
    assert not sms.valid_signature(["12346"], url, {k: [v] for k, v in params.items()}, expected)
    assert not sms.valid_signature(["12345"], url, {k: [v] for k, v in params.items()}, "")


@pytest.mark.parametrize(
    ("signed", "received"),
    [
        ("https://x.example/hooks/sms/twilio/", "https://x.example:443/hooks/sms/twilio/"),
        ("https://x.example:443/hooks/sms/twilio/", "https://x.example/hooks/sms/twilio/"),
    ],
)
def test_default_port_may_come_or_go(signed: str, received: str) -> None:
    params = {"Body": ["ACK 1"]}
    assert sms.valid_signature(
        [TOKEN], received, params, sms.twilio_signature(TOKEN, signed, params)
    )


@pytest.mark.parametrize(
    ("text", "code"),
    [("ACK 4711", 4711), ("ack #12", 12), ("4711 ok", 4711), ("ACK", None), ("", None)],
)
def test_alert_code(text: str, code: int | None) -> None:
    assert sms.alert_code(text) == code


@pytest.mark.parametrize(
    ("number", "normal"),
    [("+49 151 123-45678", "+4915112345678"), ("004915112345678", "+4915112345678")],
)
def test_numbers_are_compared_normalised(number: str, normal: str) -> None:
    assert sms.normalise_number(number) == normal


def test_twilio_account_from_apprise_url() -> None:
    account = sms.twilio_account(TWILIO[1]["url"])
    assert account is not None
    assert (account.account_sid, account.auth_token) == (SID, TOKEN)
    assert account.targets == frozenset({MOBILE})
    assert sms.twilio_account("mailto://user:pass@example.com") is None


@pytest.fixture
def alarmed(customer_a: Tenant) -> tuple[Alert, User]:
    user = on_call("mobile", TWILIO)
    event(customer_a.check, "critical", at=T0)
    actions.process_new_events(now=T0)
    return Alert.objects.get(), user


def post(
    client: Client,
    body: str,
    *,
    sender: str = MOBILE,
    token: str = TOKEN,
    sid: str = SID,
    signature: str | None = None,
    **extra: Any,
) -> Any:
    params = {
        "MessageSid": "SM" + "0" * 32,
        "AccountSid": sid,
        "From": sender,
        "To": FROM,
        "Body": body,
        "NumMedia": "0",
    }
    signed = signature if signature is not None else twilio_reference(token, HOOK, params)
    return client.post(reverse("hooks:twilio-sms"), params, HTTP_X_TWILIO_SIGNATURE=signed, **extra)


def test_reply_from_the_alarmed_number_acknowledges(
    client: Client, alarmed: tuple[Alert, User]
) -> None:
    alert, user = alarmed
    response = post(client, f"ACK {alert.pk}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert f"Alert {alert.pk} acknowledged".encode() in response.content
    alert.refresh_from_db()
    assert alert.acknowledged_by == user
    assert alert.acknowledged_via == "sms"
    reply = SmsReply.objects.get()
    assert (reply.outcome, reply.alert, reply.user) == (Outcome.ACKNOWLEDGED, alert, user)
    again = post(client, f"ack {alert.pk}")
    assert b"already acknowledged" in again.content
    assert SmsReply.objects.first().outcome == Outcome.ALREADY  # type: ignore[union-attr]


def test_the_sms_text_carries_the_code(alarmed: tuple[Alert, User]) -> None:
    from leitstand.alerting.messages import render

    alert, _user = alarmed
    assert render(alert.notifications.get()).short.endswith(f"reply ACK {alert.pk}")


def test_bad_signature_is_refused_and_recorded(client: Client, alarmed: tuple[Alert, User]) -> None:
    alert, _user = alarmed
    for response in (
        post(client, f"ACK {alert.pk}", token="0" * 32),
        post(client, f"ACK {alert.pk}", signature=""),
        post(client, f"ACK {alert.pk}", signature="0/KCTR6DLpKmkAf8muzZqo1nDgQ="),
    ):
        assert response.status_code == 403
        assert b"Bad signature" in response.content
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    assert list(SmsReply.objects.values_list("outcome", flat=True)) == [Outcome.BAD_SIGNATURE] * 3


def test_unknown_account_is_refused(client: Client, alarmed: tuple[Alert, User]) -> None:
    alert, _user = alarmed
    response = post(client, f"ACK {alert.pk}", sid="AC" + "9" * 32)
    assert response.status_code == 403
    assert SmsReply.objects.get().outcome == Outcome.UNKNOWN_ACCOUNT


@pytest.mark.parametrize(
    ("body", "sender", "outcome", "answer"),
    [
        ("yes", MOBILE, Outcome.NO_CODE, b"reply ACK and the alert"),
        ("ACK 999999", MOBILE, Outcome.UNKNOWN_CODE, b"there is no alert 999999"),
        ("ACK {pk}", "+4917099999999", Outcome.UNKNOWN_NUMBER, b"was not alarmed"),
    ],
)
def test_replies_that_cannot_acknowledge(
    client: Client,
    alarmed: tuple[Alert, User],
    body: str,
    sender: str,
    outcome: str,
    answer: bytes,
) -> None:
    alert, _user = alarmed
    response = post(client, body.format(pk=alert.pk), sender=sender)
    assert response.status_code == 200  # Twilio wants 200; the answer goes back by SMS
    assert answer in response.content
    assert b"Traceback" not in response.content
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    assert SmsReply.objects.get().outcome == outcome


def test_a_number_alarmed_for_another_alert_cannot_acknowledge_this_one(
    client: Client, customer_a: Tenant, customer_b: Tenant
) -> None:
    """On call for B's alert only: replying with A's code does nothing."""
    on_call("mobile", TWILIO)
    event(customer_b.check, "critical", at=T0)
    actions.process_new_events(now=T0)
    # A's alert opens while nobody is at level 1 any more.
    Channel.objects.filter(user__username="mobile").update(enabled=False)
    event(customer_a.check, "critical", at=T0)
    actions.process_new_events(now=T0)
    Channel.objects.filter(user__username="mobile").update(enabled=True)
    other = Alert.objects.get(asset=customer_a.asset)
    response = post(client, f"ACK {other.pk}")
    assert b"was not alarmed" in response.content
    other.refresh_from_db()
    assert other.acknowledged_at is None


def test_get_is_refused(client: Client) -> None:
    assert client.get(reverse("hooks:twilio-sms")).status_code == 405


def test_signature_over_the_public_url_behind_a_proxy(
    client: Client, alarmed: tuple[Alert, User], settings: Any
) -> None:
    """Twilio signs the URL configured at Twilio, which PUBLIC_URL names."""
    settings.PUBLIC_URL = "https://leitstand.provider.example"
    alert, _user = alarmed
    params = {"AccountSid": SID, "From": MOBILE, "To": FROM, "Body": f"ACK {alert.pk}"}
    signature = twilio_reference(
        TOKEN, "https://leitstand.provider.example/hooks/sms/twilio/", params
    )
    response = client.post(reverse("hooks:twilio-sms"), params, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 200
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None
