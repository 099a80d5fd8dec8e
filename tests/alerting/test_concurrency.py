"""Several workers at once: every row claimed once, one alert per host (PostgreSQL only)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from tests.alerting.conftest import T0, alarm_contact, event, on_call
from tests.conftest import Tenant

from leitstand.alerting import actions
from leitstand.alerting.inbound import InboundAlert
from leitstand.alerting.models import (
    Alert,
    ExternalAlert,
    ExternalEvent,
    InboundSource,
    Notification,
    ProcessedEvent,
)
from leitstand.monitoring.models import Check

pytestmark = pytest.mark.django_db(transaction=True)


def race(work: Callable[[], None], threads: int = 4) -> None:
    """Run ``work`` in parallel threads, each on its own connection; re-raise any error."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers anyway; the race needs PostgreSQL")
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def run() -> None:
        try:
            barrier.wait()
            work()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    started = [threading.Thread(target=run) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
    assert errors == []


def test_each_notification_is_claimed_by_exactly_one_worker(customer_a: Tenant) -> None:
    alarm_contact(customer_a, ("email", {"to": "alice@c90001.example"}))
    event(customer_a.check, "critical", at=timezone.now())
    actions.process_new_events()
    alert = Alert.objects.get()
    channel = Notification.objects.get().channel
    for n in range(1, 40):
        actions.queue(alert, channel, "renotify", level=0, round_=n, now=timezone.now())
    claimed: list[int] = []

    def work() -> None:
        name = threading.current_thread().name
        while ids := actions.claim(name, timezone.now(), 3):
            claimed.extend(ids)

    race(work)
    assert len(claimed) == 40
    assert len(set(claimed)) == 40


def test_parallel_event_processing_opens_one_alert_per_host(customer_a: Tenant) -> None:
    alarm_contact(customer_a, ("email", {"to": "alice@c90001.example"}))
    ping = Check.objects.create(asset=customer_a.asset, name="PING", kind="icmp")
    services = [
        Check.objects.create(asset=customer_a.asset, name=f"S{i}", kind="tcp", parent=ping)
        for i in range(5)
    ]
    event(ping, "critical")
    for i, service in enumerate(services, start=1):
        event(service, "unreachable", at=T0 + timedelta(seconds=i))

    def work() -> None:
        while actions.process_new_events():
            pass

    race(work)
    assert Alert.objects.count() == 1
    assert ProcessedEvent.objects.count() == 6
    assert Notification.objects.count() == 1


def test_parallel_inbound_deliveries_make_one_alert_and_one_alarm(customer_a: Tenant) -> None:
    """Alertmanager HA pairs send the same alert twice at once: one alarm, not two."""
    on_call()
    source = InboundSource(
        name="am",
        slug="am",
        kind="alertmanager",
        customer=customer_a.customer,
        asset=customer_a.asset,
    )
    source.set_token("t" * 32)
    source.save()
    item = InboundAlert(
        fingerprint="abc",
        firing=True,
        name="NodeDown",
        summary="down",
        labels={"severity": "critical"},
        starts_at=timezone.now(),
    )
    outcomes: list[str] = []

    def work() -> None:
        outcomes.append(actions.receive_external(source, item))

    race(work)
    assert sorted(outcomes) == ["opened", "repeated", "repeated", "repeated"]
    assert Alert.objects.count() == 1
    assert ExternalAlert.objects.count() == 1
    assert ExternalEvent.objects.count() == 1
    assert Notification.objects.count() == 1
