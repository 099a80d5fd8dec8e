"""The back office's alert pages: open alerts per host, an alert's timeline, acknowledging.

Issue 5 item 3: acknowledgement "from [...] the back office". Staff only:
a customer's user gets 404, an anonymous visitor the login page.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from tests.alerting.conftest import T0, SmtpSink, event, on_call
from tests.conftest import Tenant

from leitstand.accounts.models import User
from leitstand.alerting import actions
from leitstand.alerting.models import Alert
from leitstand.monitoring.models import Check

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client: Client, staff_user: User) -> Client:
    client.force_login(staff_user)
    return client


def open_alert(tenant: Tenant, at=T0) -> Alert:  # type: ignore[no-untyped-def]
    event(tenant.check, "critical", at=at)
    actions.process_new_events(now=at)
    return Alert.objects.get(asset=tenant.asset, resolved_at=None)


def test_list_groups_open_alerts_per_host(
    staff: Client, customer_a: Tenant, customer_b: Tenant, smtp_sink: SmtpSink
) -> None:
    on_call("nightowl")
    first = open_alert(customer_a)
    dns = Check.objects.create(asset=customer_a.asset, name="DNS", kind="dns", params={})
    event(dns, "critical", at=T0 + timedelta(minutes=1))  # joins the host's alert
    second = open_alert(customer_b)
    while actions.deliver_due("test"):
        pass
    response = staff.get(reverse("alerts:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "2 open alerts" in html
    assert html.index("alice-server") < html.index("bob-server")
    for alert in (first, second):
        assert reverse("alerts:detail", args=[alert.pk]) in html
        assert reverse("alerts:acknowledge", args=[alert.pk]) in html
    assert "Nightowl: alarm, sent" in html
    assert "P1" in html
    assert 'aria-current="page">Alerts<' in html


def test_list_shows_acknowledged_and_recently_resolved(
    staff: Client, customer_a: Tenant, customer_b: Tenant
) -> None:
    user = on_call()
    acked = open_alert(customer_a)
    actions.acknowledge(acked, user)
    gone = open_alert(customer_b)
    actions.resolve(gone, gone.opened_at)
    Alert.objects.filter(pk=gone.pk).update(resolved_at=T0.replace(year=2100))
    html = staff.get(reverse("alerts:list")).content.decode()
    assert "1 open alert" in html
    assert "acknowledged by Oncall" in html
    assert "Resolved in the last 24 hours" in html
    assert f"#{gone.pk}" in html


def test_nothing_open(staff: Client) -> None:
    assert "No open alerts." in staff.get(reverse("alerts:list")).content.decode()


def test_detail_has_the_timeline(staff: Client, customer_a: Tenant, smtp_sink: SmtpSink) -> None:
    user = on_call()
    alert = open_alert(customer_a)
    while actions.deliver_due("test"):
        pass
    actions.acknowledge(alert, user, via="sms", now=T0 + timedelta(minutes=5))
    event(customer_a.check, "ok", old_state="critical", at=T0 + timedelta(minutes=9))
    actions.process_new_events(now=T0 + timedelta(minutes=10))
    html = staff.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    for text in (
        "Alert opened",
        "Check HTTP: ok → critical",
        "alarm queued for Oncall (level 1, email)",
        "alarm delivered to Oncall",
        "Acknowledged by Oncall",
        "(SMS reply)",
        "Resolved",
        "recovery queued for Oncall",
    ):
        assert text in html, text
    assert (
        html.index("Alert opened") < html.index("Acknowledged by Oncall") < html.rindex("Resolved")
    )


def test_acknowledge_button(staff: Client, customer_a: Tenant, staff_user: User) -> None:
    on_call()
    alert = open_alert(customer_a)
    url = reverse("alerts:acknowledge", args=[alert.pk])
    assert staff.get(url).status_code == 405  # GET never acknowledges
    response = staff.post(url, follow=True)
    assert response.status_code == 200
    assert "Alert acknowledged" in response.content.decode()
    alert.refresh_from_db()
    assert alert.acknowledged_by == staff_user
    assert alert.acknowledged_via == "back office"
    again = staff.post(url, follow=True)
    assert "already acknowledged or resolved" in again.content.decode()


def test_acknowledge_needs_the_csrf_token(customer_a: Tenant, staff_user: User) -> None:
    on_call()
    alert = open_alert(customer_a)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff_user)
    assert strict.post(reverse("alerts:acknowledge", args=[alert.pk])).status_code == 403
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_unknown_alert_is_404(staff: Client) -> None:
    assert staff.get(reverse("alerts:detail", args=[999])).status_code == 404
    assert staff.post(reverse("alerts:acknowledge", args=[999])).status_code == 404


@pytest.mark.parametrize("name", ["list", "detail", "acknowledge"])
def test_customers_get_404_and_visitors_the_login(
    client: Client, customer_a: Tenant, name: str
) -> None:
    on_call()
    alert = open_alert(customer_a)
    url = reverse(f"alerts:{name}", args=[] if name == "list" else [alert.pk])
    call = client.post if name == "acknowledge" else client.get
    anonymous = call(url)
    assert anonymous.status_code == 302
    assert "/accounts/login" in anonymous["Location"]
    client.force_login(customer_a.user)
    assert call(url).status_code == 404
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
