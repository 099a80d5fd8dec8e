"""The durable outbox: queued with the event, claimed under a lease, retried, recorded."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from tests.alerting.conftest import T0, HttpSink, SmtpSink, alarm_contact, event
from tests.conftest import Tenant

from leitstand.alerting import actions
from leitstand.alerting.models import Alert, Notification, ProcessedEvent
from leitstand.alerting.retry import GIVE_UP_AFTER

pytestmark = pytest.mark.django_db

EMAIL = ("email", {"to": "alice@c90001.example"})
SECRET = "s3cret-s3cret-s3cret"


def webhook(sink: HttpSink) -> tuple[str, dict[str, Any]]:
    return ("webhook", {"url": sink.url, "secret": SECRET, "allow": ["127.0.0.1/32"]})


@pytest.fixture
def clock() -> Any:
    with time_machine.travel(T0, tick=True) as traveller:
        yield traveller


def only() -> Notification:
    [notification] = Notification.objects.all()
    return notification


def test_rolled_back_event_leaves_no_notification(customer_a: Tenant) -> None:
    alarm_contact(customer_a, EMAIL)

    class Boom(Exception):
        pass

    def store_event_then_fail() -> None:
        with transaction.atomic():
            actions.process_event(event(customer_a.check, "critical"))
            assert Notification.objects.count() == 1
            raise Boom

    with pytest.raises(Boom):
        store_event_then_fail()
    assert Notification.objects.count() == 0
    assert ProcessedEvent.objects.count() == 0


def test_notification_is_queued_before_anything_is_sent(
    customer_a: Tenant, smtp_sink: SmtpSink, clock: Any
) -> None:
    alarm_contact(customer_a, EMAIL)
    event(customer_a.check, "critical")
    assert actions.process_new_events()
    assert not actions.process_new_events()  # nothing left
    notification = only()
    assert notification.status == Notification.Status.QUEUED
    assert notification.kind == Notification.Kind.ALARM
    assert smtp_sink.received == []


def test_email_is_delivered_and_recorded(
    customer_a: Tenant, smtp_sink: SmtpSink, clock: Any
) -> None:
    alarm_contact(customer_a, EMAIL)
    event(customer_a.check, "critical")
    actions.process_new_events()
    assert actions.deliver_due("w1")
    assert not actions.deliver_due("w1")
    notification = only()
    assert notification.status == Notification.Status.SENT
    assert notification.attempts == 1
    assert notification.claimed_by == ""
    [mail] = smtp_sink.received
    assert mail.header("Subject") == "STÖRUNG: alice-server"  # the customer reads German
    assert notification.idempotency_key in mail.header("Message-ID")


def test_outage_is_retried_with_backoff(
    customer_a: Tenant, smtp_sink: SmtpSink, clock: Any
) -> None:
    alarm_contact(customer_a, EMAIL)
    event(customer_a.check, "critical")
    actions.process_new_events()
    smtp_sink.stop()
    actions.deliver_due("w1")
    notification = only()
    assert notification.status == Notification.Status.QUEUED
    assert "ConnectionRefusedError" in notification.last_error
    wait = notification.next_attempt_at - T0
    assert timedelta(seconds=15) <= wait <= timedelta(seconds=31)
    assert not actions.deliver_due("w1")  # not due yet

    smtp_sink.start()
    clock.shift(wait)
    assert actions.deliver_due("w1")
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
    assert notification.attempts == 2
    assert len(smtp_sink.received) == 1


def test_permanent_failure_falls_through_to_the_next_channel(
    customer_a: Tenant, smtp_sink: SmtpSink, http_sink: HttpSink, clock: Any
) -> None:
    alarm_contact(customer_a, EMAIL, webhook(http_sink))
    event(customer_a.check, "critical")
    actions.process_new_events()
    smtp_sink.reply = "550 5.1.1 mailbox unavailable"
    actions.deliver_due("w1")
    first, second = Notification.objects.order_by("id")
    assert first.status == Notification.Status.FAILED
    assert first.attempts == 1  # no retry after a 5xx
    assert first.last_error.startswith("SMTP 550")
    assert second.channel.kind == "webhook"
    # Queued by the failure and sent in the same step.
    assert second.status == Notification.Status.SENT
    [request] = http_sink.received
    assert request.json()["kind"] == "alarm"


def test_gives_up_after_a_day_then_falls_through(
    customer_a: Tenant, smtp_sink: SmtpSink, http_sink: HttpSink, clock: Any
) -> None:
    alarm_contact(customer_a, EMAIL, webhook(http_sink))
    event(customer_a.check, "critical")
    actions.process_new_events()
    smtp_sink.stop()
    email = only()
    while email.status != Notification.Status.FAILED:
        clock.move_to(email.next_attempt_at)
        actions.deliver_due("w1")
        email.refresh_from_db()
    assert email.attempts > 40
    assert email.next_attempt_at == email.created_at + GIVE_UP_AFTER
    fallback = Notification.objects.get(channel__kind="webhook")
    actions.deliver_due("w1")
    fallback.refresh_from_db()
    assert fallback.status == Notification.Status.SENT


def test_last_channel_failing_leaves_a_failed_record(
    customer_a: Tenant, smtp_sink: SmtpSink, clock: Any
) -> None:
    alarm_contact(customer_a, EMAIL)
    event(customer_a.check, "critical")
    actions.process_new_events()
    smtp_sink.reply = "554 no"
    actions.deliver_due("w1")
    assert only().status == Notification.Status.FAILED


def test_misconfigured_channel_fails_permanently(customer_a: Tenant, clock: Any) -> None:
    alarm_contact(customer_a, ("email", {"to": "not-an-address"}))
    event(customer_a.check, "critical")
    actions.process_new_events()
    actions.deliver_due("w1")
    assert only().status == Notification.Status.FAILED
    assert only().last_error.startswith("channel misconfigured: to:")


def test_expired_lease_is_taken_over_with_the_same_key(
    customer_a: Tenant, smtp_sink: SmtpSink, clock: Any
) -> None:
    """A worker that sent and died before recording causes exactly one duplicate."""
    alarm_contact(customer_a, EMAIL)
    event(customer_a.check, "critical")
    actions.process_new_events()
    # Worker 1 claims and sends, then "dies": it never records.
    [pk] = actions.claim("w1", timezone.now(), 10)
    crashed = Notification.objects.get(pk=pk)
    actions.send(crashed)
    assert not actions.deliver_due("w2")  # the lease still holds
    clock.shift(actions.LEASE + timedelta(seconds=1))
    assert actions.deliver_due("w2")
    notification = only()
    assert notification.status == Notification.Status.SENT
    assert notification.attempts == 2
    ids = [mail.header("Message-ID") for mail in smtp_sink.received]
    assert len(ids) == 2
    assert len(set(ids)) == 1  # the same Message-ID: the receiver can fold them
    # Worker 1 comes back to life and tries to record: its lease is gone.
    actions.record(crashed, "w1", actions.SendResult.retry("late"), T0)
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT


def test_two_workers_never_claim_the_same_row(customer_a: Tenant, clock: Any) -> None:
    alarm_contact(customer_a, EMAIL)
    event(customer_a.check, "critical")
    actions.process_new_events()
    alert = Alert.objects.get()
    channel = only().channel
    for n in range(1, 10):
        actions.queue(alert, channel, "renotify", level=0, round_=n, now=T0)
    first = actions.claim("w1", timezone.now(), 4)
    second = actions.claim("w2", timezone.now(), 100)
    assert len(first) == 4
    assert len(second) == 6
    assert set(first).isdisjoint(second)


def test_queueing_twice_is_harmless(customer_a: Tenant, clock: Any) -> None:
    alarm_contact(customer_a, EMAIL)
    event(customer_a.check, "critical")
    actions.process_new_events()
    notification = only()
    again = actions.queue(
        notification.alert, notification.channel, "alarm", level=0, round_=0, now=T0
    )
    assert again == notification


def test_message_is_in_the_customers_language(
    customer_a: Tenant, smtp_sink: SmtpSink, clock: Any
) -> None:
    customer_a.customer.language = "en"
    customer_a.customer.save()
    alarm_contact(customer_a, EMAIL)
    event(customer_a.check, "critical", reason="connection refused")
    actions.process_new_events()
    actions.deliver_due("w1")
    [mail] = smtp_sink.received
    assert mail.header("Subject") == "PROBLEM: alice-server"
    body = mail.data.decode()
    assert "HTTP critical: connection refused, since 2026-11-18 04:00 CET." in body


def test_recovery_never_overtakes_its_alarm(
    customer_a: Tenant, smtp_sink: SmtpSink, clock: Any
) -> None:
    alarm_contact(customer_a, EMAIL)
    event(customer_a.check, "critical")
    actions.process_new_events()
    smtp_sink.stop()
    actions.deliver_due("w1")  # the alarm fails and waits for its retry
    event(customer_a.check, "ok", old_state="critical", at=T0 + timedelta(seconds=5))
    actions.process_new_events()
    smtp_sink.start()
    assert not actions.deliver_due("w1")  # the recovery is due, but its alarm is not sent
    clock.move_to(Notification.objects.get(kind="alarm").next_attempt_at)
    assert actions.deliver_due("w1")
    subjects = [mail.header("X-Leitstand-Kind") for mail in smtp_sink.received]
    assert subjects == ["alarm", "recovery"]


def test_a_bug_while_sending_counts_as_a_failed_attempt(
    customer_a: Tenant, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    alarm_contact(customer_a, EMAIL)
    event(customer_a.check, "critical")
    actions.process_new_events()

    def broken(notification: Notification) -> Any:
        raise KeyError("subject")

    monkeypatch.setattr(actions, "render", broken)
    assert actions.deliver_due("w1")
    notification = only()
    assert notification.status == Notification.Status.QUEUED  # not stuck in "sending"
    assert notification.last_error == "internal error: KeyError: 'subject'"
