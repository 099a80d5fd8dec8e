"""The signed acknowledgement link in alarm e-mails to staff.

Issue 5 item 3: acknowledgement "from the e-mail link". GET never
acknowledges (mail scanners follow links), POST does; a link is bound to its
alert and its recipient and expires; a bad link is a clear page, never a
traceback.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.urls import reverse
from tests.alerting.conftest import T0, SmtpSink, alarm_contact, event, on_call
from tests.conftest import Tenant

from leitstand.accounts.models import User
from leitstand.alerting import acklinks, actions
from leitstand.alerting.messages import render
from leitstand.alerting.models import Alert, Notification

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://\S+/hooks/ack/\S+/")


@pytest.fixture(autouse=True)
def _public_url(settings: Any) -> None:
    settings.PUBLIC_URL = "https://leitstand.provider.example/"


def open_alert(tenant: Tenant) -> Alert:
    event(tenant.check, "critical", at=T0)
    actions.process_new_events(now=T0)
    return Alert.objects.get()


def link_path(body: str) -> str:
    match = LINK.search(body)
    assert match, body
    return urlsplit(match.group(0)).path


def test_token_round_trip_names_alert_and_user() -> None:
    claim = acklinks.read_token(acklinks.make_token(17, 4))
    assert (claim.alert, claim.user) == (17, 4)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
        lambda t: t.replace(t.split(":")[0], signing.b64_encode(b'{"a":2,"u":1}').decode()),
        lambda t: t[: len(t) // 2],  # cut off
        lambda t: "not-a-token",
        lambda t: signing.dumps({"a": 1, "u": 1}, salt="another purpose"),
        lambda t: signing.dumps({"a": "1", "u": 1}, salt=acklinks.SALT),
        lambda t: signing.dumps([1, 1], salt=acklinks.SALT),
    ],
)
def test_tampered_or_forged_tokens_are_invalid(mangle: Any) -> None:
    with pytest.raises(acklinks.LinkInvalid):
        acklinks.read_token(mangle(acklinks.make_token(1, 1)))


def test_token_expires_after_seven_days() -> None:
    with time_machine.travel(T0, tick=False):
        token = acklinks.make_token(1, 1)
    with time_machine.travel(T0 + timedelta(days=6, hours=23), tick=False):
        acklinks.read_token(token)
    with (
        time_machine.travel(T0 + timedelta(days=7, seconds=1), tick=False),
        pytest.raises(acklinks.LinkExpired),
    ):
        acklinks.read_token(token)


def test_staff_alarm_carries_link_and_sms_code_customer_alarm_does_not(
    customer_a: Tenant,
) -> None:
    alarm_contact(customer_a, ("email", {"to": "alice@c90001.example"}))
    user = on_call()
    alert = open_alert(customer_a)
    staff = Notification.objects.get(channel__user=user)
    customer = Notification.objects.get(channel__contact=customer_a.contact)
    message = render(staff)
    assert f"ACK {alert.pk}" in message.body
    assert message.short == f"PROBLEM: alice-server - reply ACK {alert.pk}"
    path = link_path(message.body)
    assert message.body.count("https://leitstand.provider.example/hooks/ack/") == 1
    claim = acklinks.read_token(path.split("/")[3])
    assert (claim.alert, claim.user) == (alert.pk, user.pk)
    assert "/hooks/ack/" not in render(customer).body
    assert "ACK" not in render(customer).body


def test_recovery_carries_no_link(customer_a: Tenant) -> None:
    on_call()
    alert = open_alert(customer_a)
    actions.resolve(alert, T0 + timedelta(minutes=5))
    recovery = Notification.objects.get(kind=Notification.Kind.RECOVERY)
    assert "/hooks/ack/" not in render(recovery).body


def test_get_shows_the_alert_and_never_acknowledges(customer_a: Tenant, client: Client) -> None:
    user = on_call()
    alert = open_alert(customer_a)
    path = reverse("hooks:ack", args=[acklinks.make_token(alert.pk, user.pk)])
    for _ in range(3):  # a mail scanner, a link preview, the person
        response = client.get(path)
        assert response.status_code == 200
    assert b"alice-server" in response.content
    assert b"HTTP critical" in response.content
    assert b'method="post"' in response.content
    assert response["Referrer-Policy"] == "no-referrer"
    assert client.head(path).status_code == 200
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_post_acknowledges_as_the_links_recipient(customer_a: Tenant, client: Client) -> None:
    first = on_call("first")
    on_call("second")
    alert = open_alert(customer_a)
    path = reverse("hooks:ack", args=[acklinks.make_token(alert.pk, first.pk)])
    response = client.post(path)
    assert response.status_code == 200
    assert b"Acknowledged by First" in response.content
    alert.refresh_from_db()
    assert alert.acknowledged_by == first
    assert alert.acknowledged_via == "link"
    assert alert.next_escalation_at is None
    assert alert.next_renotify_at is None
    again = client.post(path)
    assert again.status_code == 200
    assert b"Already acknowledged by First" in again.content


def test_link_to_a_resolved_alert_says_so(customer_a: Tenant, client: Client) -> None:
    user = on_call()
    alert = open_alert(customer_a)
    actions.resolve(alert, T0)
    response = client.post(reverse("hooks:ack", args=[acklinks.make_token(alert.pk, user.pk)]))
    assert response.status_code == 200
    assert b"resolved" in response.content
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_csrf_is_not_needed_the_signature_is_the_authentication(customer_a: Tenant) -> None:
    user = on_call()
    alert = open_alert(customer_a)
    strict = Client(enforce_csrf_checks=True)
    path = reverse("hooks:ack", args=[acklinks.make_token(alert.pk, user.pk)])
    assert strict.post(path).status_code == 200
    alert.refresh_from_db()
    assert alert.acknowledged_by == user


@pytest.mark.parametrize(
    ("token", "status", "text"),
    [
        ("garbage", 403, b"This link is not valid"),
        ("eyJhIjoxLCJ1IjoxfQ:1vMx:forged", 403, b"This link is not valid"),
    ],
)
def test_bad_links_get_a_clear_page(
    client: Client, customer_a: Tenant, token: str, status: int, text: bytes
) -> None:
    response = client.post(reverse("hooks:ack", args=[token]))
    assert response.status_code == status
    assert text in response.content
    assert b"Traceback" not in response.content
    assert Alert.objects.filter(acknowledged_at__isnull=False).count() == 0


def test_expired_link_gets_a_clear_page_and_changes_nothing(
    customer_a: Tenant, client: Client
) -> None:
    user = on_call()
    alert = open_alert(customer_a)
    with time_machine.travel(T0, tick=False):
        path = reverse("hooks:ack", args=[acklinks.make_token(alert.pk, user.pk)])
    with time_machine.travel(T0 + timedelta(days=8), tick=False):
        response = client.post(path)
    assert response.status_code == 403
    assert b"This link has expired" in response.content
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_link_for_another_alert_cannot_be_made_by_editing(
    customer_a: Tenant, customer_b: Tenant, client: Client
) -> None:
    user = on_call()
    first = open_alert(customer_a)
    event(customer_b.check, "critical", at=T0)
    actions.process_new_events(now=T0)
    second = Alert.objects.exclude(pk=first.pk).get()
    token = acklinks.make_token(first.pk, user.pk)
    _payload, _, rest = token.partition(":")
    edited = signing.b64_encode(f'{{"a":{second.pk},"u":{user.pk}}}'.encode()).decode()
    response = client.post(reverse("hooks:ack", args=[f"{edited}:{rest}"]))
    assert response.status_code == 403
    assert not Alert.objects.filter(acknowledged_at__isnull=False).exists()


@pytest.mark.parametrize("gone", ["alert", "user", "demoted"])
def test_link_to_a_deleted_alert_or_a_former_operator_is_404(
    customer_a: Tenant, client: Client, gone: str
) -> None:
    user = on_call()
    alert = open_alert(customer_a)
    path = reverse("hooks:ack", args=[acklinks.make_token(alert.pk, user.pk)])
    if gone == "alert":
        alert.delete()
    elif gone == "user":
        User.objects.filter(pk=user.pk).update(is_active=False)
    else:
        User.objects.filter(pk=user.pk).update(is_staff=False)
    response = client.post(path)
    assert response.status_code == 404
    assert b"Alert not found" in response.content
    if gone != "alert":
        alert.refresh_from_db()
        assert alert.acknowledged_at is None


def test_other_methods_are_refused(customer_a: Tenant, client: Client) -> None:
    user = on_call()
    alert = open_alert(customer_a)
    path = reverse("hooks:ack", args=[acklinks.make_token(alert.pk, user.pk)])
    assert client.put(path).status_code == 405
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_from_the_real_mail_to_acknowledged(
    customer_a: Tenant, smtp_sink: SmtpSink, client: Client
) -> None:
    """The whole way: alarm mail through SMTP, its link opened, the button pressed."""
    user = on_call()
    alert = open_alert(customer_a)
    while actions.deliver_due("test"):
        pass
    [mail] = smtp_sink.received
    text = mail.data.decode()
    path = link_path(text.replace("=\r\n", "").replace("=\n", ""))
    assert client.get(path).status_code == 200
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    assert client.post(path).status_code == 200
    alert.refresh_from_db()
    assert alert.acknowledged_by == user


def test_german_recipient_gets_a_german_link_text(customer_a: Tenant) -> None:
    user = on_call()
    user.language = "de"
    user.save()
    open_alert(customer_a)
    body = render(Notification.objects.get()).body
    assert "/hooks/ack/" in body
