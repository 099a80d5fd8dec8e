"""Inbound alarms over HTTP: Alertmanager and generic JSON into the alert pipeline.

Issue 5 item 5: "Inbound alarms from systems the provider already runs: the
Prometheus Alertmanager webhook (version 4 payload) and a generic JSON
webhook, each authenticated, feeding the same event pipeline." Firing opens
or joins the asset's alert, resolved sends the recovery, a repeated delivery
changes nothing; bad input answers one line of JSON and is kept in
quarantine.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from tests.alerting.conftest import SmtpSink, event, on_call
from tests.alerting.test_inbound_parse import FIRING, alertmanager
from tests.conftest import Tenant

from leitstand.alerting import actions, inbound
from leitstand.alerting.models import (
    Alert,
    ExternalAlert,
    ExternalEvent,
    InboundSource,
    Notification,
    QuarantinedPayload,
)
from leitstand.contracts.models import Asset
from leitstand.maintenance.models import PlannedWork

pytestmark = pytest.mark.django_db

TOKEN = "am-token-0123456789abcdef0123456789"
GENERIC_TOKEN = "generic-token-0123456789abcdef01234"


def make_source(tenant: Tenant, slug: str, kind: str, token: str) -> InboundSource:
    source = InboundSource(
        name=slug,
        slug=slug,
        kind=kind,
        customer=tenant.customer,
        asset=tenant.asset,
        priority_map={"critical": "P1", "warning": "P2", "info": "none"},
    )
    source.set_token(token)
    source.full_clean()
    source.save()
    return source


@pytest.fixture
def source(customer_a: Tenant) -> InboundSource:
    return make_source(customer_a, "prometheus", "alertmanager", TOKEN)


@pytest.fixture
def generic_source(customer_a: Tenant) -> InboundSource:
    return make_source(customer_a, "scripts", "generic", GENERIC_TOKEN)


def send(client: Client, body: bytes, *, slug: str = "prometheus", token: str = TOKEN) -> Any:
    return client.post(
        reverse("hooks:inbound", args=[slug]),
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


RESOLVED = {**FIRING, "status": "resolved", "endsAt": "2026-11-18T03:20:00Z"}


def test_token_is_stored_hashed(source: InboundSource) -> None:
    assert TOKEN not in source.token_hash
    assert len(source.token_hash) == 64


# -- authentication -----------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer wrong-token"},
        {"HTTP_AUTHORIZATION": f"Basic {TOKEN}"},
        {"HTTP_AUTHORIZATION": "Bearer "},
    ],
)
def test_without_the_right_token_nothing_happens(
    client: Client, source: InboundSource, headers: dict[str, str]
) -> None:
    response = client.post(
        reverse("hooks:inbound", args=["prometheus"]),
        alertmanager(FIRING),
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 401
    assert response.json() == {"error": "not authenticated: send Authorization: Bearer <token>"}
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not ExternalAlert.objects.exists()
    assert not QuarantinedPayload.objects.exists()  # nothing stored for strangers


def test_unknown_source_and_disabled_source_answer_like_a_wrong_token(
    client: Client, source: InboundSource
) -> None:
    assert send(client, alertmanager(FIRING), slug="nope").status_code == 401
    source.enabled = False
    source.save()
    assert send(client, alertmanager(FIRING)).status_code == 401


def test_another_sources_token_does_not_work(
    client: Client, source: InboundSource, generic_source: InboundSource
) -> None:
    assert send(client, alertmanager(FIRING), token=GENERIC_TOKEN).status_code == 401


def test_get_is_refused_with_json(client: Client, source: InboundSource) -> None:
    response = client.get(reverse("hooks:inbound", args=["prometheus"]))
    assert response.status_code == 405
    assert "error" in response.json()


# -- the pipeline -------------------------------------------------------------------


def test_firing_opens_the_assets_alert_and_tells_on_call(
    client: Client, source: InboundSource, customer_a: Tenant
) -> None:
    user = on_call()
    response = send(client, alertmanager(FIRING))
    assert response.status_code == 200
    assert response.json() == {"received": 1, "outcomes": {"opened": 1}}
    alert = Alert.objects.get()
    assert alert.asset == customer_a.asset
    assert alert.priority == "P1"
    assert alert.summary == "prometheus: NodeDown: db1 is down"
    assert alert.level == 1
    [notification] = Notification.objects.all()
    assert notification.channel.user == user
    external = ExternalAlert.objects.get()
    assert (external.state, external.alert, external.fingerprint) == (
        "firing",
        alert,
        "a1b2c3d4e5f60718",
    )
    source.refresh_from_db()
    assert source.last_received_at is not None


def test_repeated_delivery_is_idempotent(
    client: Client, source: InboundSource, customer_a: Tenant
) -> None:
    on_call()
    for _ in range(3):
        assert send(client, alertmanager(FIRING)).status_code == 200
    assert send(client, alertmanager(FIRING)).json()["outcomes"] == {"repeated": 1}
    assert Alert.objects.count() == 1
    assert Notification.objects.count() == 1
    assert ExternalEvent.objects.count() == 1
    send(client, alertmanager(RESOLVED))
    assert send(client, alertmanager(RESOLVED)).json()["outcomes"] == {"repeated": 1}
    assert Notification.objects.filter(kind="recovery").count() == 1


def test_resolved_resolves_and_sends_the_recovery(
    client: Client, source: InboundSource, smtp_sink: SmtpSink
) -> None:
    on_call()
    send(client, alertmanager(FIRING))
    response = send(client, alertmanager(RESOLVED, status="resolved"))
    assert response.json()["outcomes"] == {"resolved": 1}
    alert = Alert.objects.get()
    assert alert.resolved_at is not None
    external = ExternalAlert.objects.get()
    assert external.state == "resolved"
    assert external.ends_at is not None
    assert external.ends_at.minute == 20
    while actions.deliver_due("test"):
        pass
    kinds = [mail.header("X-Leitstand-Kind") for mail in smtp_sink.received]
    assert kinds == ["alarm", "recovery"]


def test_a_late_retry_of_the_firing_delivery_does_not_reopen(
    client: Client, source: InboundSource
) -> None:
    on_call()
    send(client, alertmanager(FIRING))
    send(client, alertmanager(RESOLVED))
    assert send(client, alertmanager(FIRING)).json()["outcomes"] == {"repeated": 1}
    assert Alert.objects.filter(resolved_at=None).count() == 0


def test_the_same_fingerprint_firing_again_later_is_a_new_alert(
    client: Client, source: InboundSource
) -> None:
    on_call()
    send(client, alertmanager(FIRING))
    send(client, alertmanager(RESOLVED))
    again = {**FIRING, "startsAt": "2026-11-18T05:00:00Z"}
    assert send(client, alertmanager(again)).json()["outcomes"] == {"opened": 1}
    assert Alert.objects.count() == 2
    assert ExternalAlert.objects.count() == 1


def test_resolved_without_firing_first_is_recorded_only(
    client: Client, source: InboundSource
) -> None:
    on_call()
    assert send(client, alertmanager(RESOLVED)).json()["outcomes"] == {"ignored": 1}
    assert not Alert.objects.exists()
    assert ExternalAlert.objects.get().state == "resolved"


def test_groups_with_the_monitoring_alert_of_the_same_host(
    client: Client, source: InboundSource, customer_a: Tenant
) -> None:
    """One host down gives one alarm, whether the check or Prometheus saw it first."""
    on_call()
    event(customer_a.check, "critical", at=timezone.now())
    actions.process_new_events()
    assert send(client, alertmanager(FIRING)).json()["outcomes"] == {"grouped": 1}
    assert Alert.objects.count() == 1
    assert Notification.objects.count() == 1
    # Prometheus resolves first: the check is still down, the alert stays open.
    assert send(client, alertmanager(RESOLVED)).json()["outcomes"] == {"grouped": 1}
    assert Alert.objects.get().resolved_at is None
    # The check recovers: nothing else is down, the alert resolves.
    event(customer_a.check, "ok", old_state="critical", at=timezone.now())
    actions.process_new_events()
    assert Alert.objects.get().resolved_at is not None


def test_a_check_recovering_keeps_the_alert_open_while_prometheus_fires(
    client: Client, source: InboundSource, customer_a: Tenant
) -> None:
    on_call()
    send(client, alertmanager(FIRING))
    event(customer_a.check, "critical", at=timezone.now())
    actions.process_new_events()
    event(customer_a.check, "ok", old_state="critical", at=timezone.now())
    actions.process_new_events()
    assert Alert.objects.get().resolved_at is None
    send(client, alertmanager(RESOLVED))
    assert Alert.objects.get().resolved_at is not None


def test_two_alerts_of_one_group_make_one_alarm(client: Client, source: InboundSource) -> None:
    on_call()
    second = {**FIRING, "fingerprint": "ffff0000", "labels": {**FIRING["labels"], "instance": "x"}}
    response = send(client, alertmanager(FIRING, second))
    assert response.json() == {"received": 2, "outcomes": {"grouped": 1, "opened": 1}}
    assert Alert.objects.count() == 1
    assert Notification.objects.count() == 1
    assert send(client, alertmanager(RESOLVED)).json()["outcomes"] == {"grouped": 1}
    assert send(
        client, alertmanager({**second, "status": "resolved", "endsAt": "2026-11-18T04:00:00Z"})
    ).json()["outcomes"] == {"resolved": 1}


def test_asset_label_picks_another_asset_of_the_same_customer_only(
    client: Client, source: InboundSource, customer_a: Tenant, customer_b: Tenant
) -> None:
    on_call()
    db1 = Asset.objects.create(customer=customer_a.customer, name="db1")
    labelled = {**FIRING, "labels": {**FIRING["labels"], "leitstand_asset": "db1"}}
    send(client, alertmanager(labelled))
    assert Alert.objects.get().asset == db1
    # Another customer's asset name falls back to the source's own asset.
    foreign = {
        **FIRING,
        "fingerprint": "f2",
        "labels": {**FIRING["labels"], "leitstand_asset": customer_b.asset.name},
    }
    send(client, alertmanager(foreign))
    assert ExternalAlert.objects.get(fingerprint="f2").asset == customer_a.asset
    assert not Alert.objects.filter(asset=customer_b.asset).exists()


@pytest.mark.parametrize(
    ("severity", "priority"), [("critical", "P1"), ("warning", "P2"), ("", "P1")]
)
def test_priority_from_the_severity_label(
    client: Client, source: InboundSource, severity: str, priority: str
) -> None:
    on_call()
    labels = {**FIRING["labels"], "severity": severity}
    send(client, alertmanager({**FIRING, "labels": labels}))
    assert Alert.objects.get().priority == priority


def test_priority_none_records_without_telling(client: Client, source: InboundSource) -> None:
    on_call()
    info = {**FIRING, "labels": {**FIRING["labels"], "severity": "info"}}
    assert send(client, alertmanager(info)).json()["outcomes"] == {"ignored": 1}
    assert send(client, alertmanager(info)).json()["outcomes"] == {"repeated": 1}
    assert not Alert.objects.exists()
    assert ExternalAlert.objects.get().state == "firing"


def test_maintenance_silences_but_keeps_the_record_and_alarms_when_it_is_over(
    client: Client, source: InboundSource, customer_a: Tenant
) -> None:
    on_call()
    now = timezone.now()
    work = PlannedWork.objects.create(
        title="Kernel update",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=1),
    )
    work.assets.add(customer_a.asset)
    assert send(client, alertmanager(FIRING)).json()["outcomes"] == {"maintenance": 1}
    assert send(client, alertmanager(FIRING)).json()["outcomes"] == {"repeated": 1}
    assert not Alert.objects.exists()
    assert ExternalEvent.objects.get().outcome == "maintenance"
    # Alertmanager repeats the still-firing alert after the window: now it alarms.
    PlannedWork.objects.filter(pk=work.pk).update(ends_at=now - timedelta(seconds=1))
    assert send(client, alertmanager(FIRING)).json()["outcomes"] == {"opened": 1}
    assert Notification.objects.count() == 1


def test_generic_webhook(client: Client, generic_source: InboundSource) -> None:
    on_call()
    body = json.dumps({"id": "backup-db1", "status": "firing", "title": "Backup failed"})
    response = send(client, body.encode(), slug="scripts", token=GENERIC_TOKEN)
    assert response.json() == {"received": 1, "outcomes": {"opened": 1}}
    assert Alert.objects.get().summary == "scripts: Backup failed"
    body = json.dumps({"id": "backup-db1", "status": "resolved", "title": "Backup failed"})
    assert send(client, body.encode(), slug="scripts", token=GENERIC_TOKEN).json()["outcomes"] == {
        "resolved": 1
    }


# -- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{oops", "body: not JSON: Expecting property name enclosed in double quotes at line 1"),
        (alertmanager(FIRING, version="3"), "version: expected '4', got '3'"),
        (
            alertmanager({k: v for k, v in FIRING.items() if k != "fingerprint"}),
            "alerts[0].fingerprint: must be a non-empty string",
        ),
        (b"", "body: not JSON: Expecting value at line 1"),
    ],
)
def test_bad_payload_is_400_one_line_and_quarantined(
    client: Client, source: InboundSource, body: bytes, error: str
) -> None:
    response = send(client, body)
    assert response.status_code == 400
    assert response.json() == {"error": error}
    assert response.content.count(b"\n") == 0
    kept = QuarantinedPayload.objects.get()
    assert (kept.source, kept.error, bytes(kept.body), kept.truncated) == (
        source,
        error,
        body,
        False,
    )
    assert not ExternalAlert.objects.exists()


def test_oversize_body_is_refused_and_its_start_kept(client: Client, source: InboundSource) -> None:
    body = b'{"pad": "' + b"x" * inbound.MAX_BODY_BYTES + b'"}'
    response = send(client, body)
    assert response.status_code == 413
    assert response.json() == {"error": f"body: larger than {inbound.MAX_BODY_BYTES} bytes"}
    kept = QuarantinedPayload.objects.get()
    assert kept.truncated
    assert kept.body_size == len(body)
    assert len(bytes(kept.body)) == inbound.MAX_BODY_BYTES


def test_quarantine_is_readable_in_the_admin(
    client: Client, source: InboundSource, admin_user: Any
) -> None:
    send(client, b'{"version": "3"}')
    kept = QuarantinedPayload.objects.get()
    client.force_login(admin_user)
    page = client.get(reverse("admin:alerting_quarantinedpayload_change", args=[kept.pk]))
    assert page.status_code == 200
    assert b"version: expected" in page.content
    assert b"&quot;version&quot;: &quot;3&quot;" in page.content


def test_admin_creates_a_source_and_shows_the_token_once(
    client: Client, admin_user: Any, customer_a: Tenant
) -> None:
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:alerting_inboundsource_add"),
        {
            "name": "Prometheus",
            "slug": "prom",
            "kind": "alertmanager",
            "customer": customer_a.customer.pk,
            "asset": customer_a.asset.pk,
            "asset_label": "leitstand_asset",
            "priority_label": "severity",
            "priority_map": '{"critical": "P1"}',
            "default_priority": "P2",
            "enabled": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "shown only now" in text
    token = text.split("(shown only now): ")[1].split("<")[0].strip()
    on_call()
    assert send(client, alertmanager(FIRING), slug="prom", token=token).status_code == 200


def test_source_must_name_an_asset_of_its_customer(customer_a: Tenant, customer_b: Tenant) -> None:
    from django.core.exceptions import ValidationError

    bad = InboundSource(
        name="x", slug="x", kind="generic", customer=customer_a.customer, asset=customer_b.asset
    )
    bad.set_token("t" * 32)
    with pytest.raises(ValidationError, match="asset"):
        bad.full_clean()
    bad.asset = customer_a.asset
    bad.priority_map = {"critical": "urgent"}
    with pytest.raises(ValidationError, match="P1, P2 or none"):
        bad.full_clean()


# -- a real server ------------------------------------------------------------------


def post_real(url: str, body: bytes, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
            "User-Agent": "Alertmanager/0.27.0",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.django_db(transaction=True)
def test_through_a_real_running_server(live_server: Any, customer_a: Tenant) -> None:
    """Alertmanager-shaped requests over a socket: fire twice, garbage, resolve."""
    make_source(customer_a, "prometheus", "alertmanager", TOKEN)
    on_call()
    url = live_server.url + reverse("hooks:inbound", args=["prometheus"])
    assert post_real(url, alertmanager(FIRING), TOKEN) == (
        200,
        {"received": 1, "outcomes": {"opened": 1}},
    )
    assert post_real(url, alertmanager(FIRING), TOKEN) == (
        200,
        {"received": 1, "outcomes": {"repeated": 1}},
    )
    assert post_real(url, b"{", "wrong")[0] == 401
    status, answer = post_real(url, alertmanager(FIRING, version="5"), TOKEN)
    assert (status, answer) == (400, {"error": "version: expected '4', got '5'"})
    assert post_real(url, alertmanager(RESOLVED, status="resolved"), TOKEN) == (
        200,
        {"received": 1, "outcomes": {"resolved": 1}},
    )
    assert Alert.objects.get().resolved_at is not None
    assert list(Notification.objects.values_list("kind", flat=True).order_by("id")) == [
        "alarm",
        "recovery",
    ]
    assert QuarantinedPayload.objects.count() == 1


def test_an_internal_failure_keeps_the_payload_and_asks_for_a_retry(
    client: Client, source: InboundSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database outage mid-request: 503 (Alertmanager retries), the body kept, no 500."""

    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("connection lost")

    monkeypatch.setattr(actions, "receive_external", broken)
    body = alertmanager(FIRING)
    response = send(client, body)
    assert response.status_code == 503
    assert response.json() == {"error": "could not be processed now; kept for review, retry later"}
    kept = QuarantinedPayload.objects.get()
    assert kept.error == "internal error: RuntimeError"
    assert bytes(kept.body) == body


def test_admin_rotates_a_token_and_the_old_one_stops_working(
    client: Client, admin_user: Any, source: InboundSource
) -> None:
    on_call()
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:alerting_inboundsource_changelist"),
        {"action": "rotate_token", "_selected_action": [source.pk]},
        follow=True,
    )
    text = response.content.decode()
    token = text.split("(shown only now): ")[1].split("<")[0].strip()
    client.logout()
    assert send(client, alertmanager(FIRING)).status_code == 401
    assert send(client, alertmanager(FIRING), token=token).status_code == 200
