"""From check events to alerts: who is told, grouping per host, recovery, suppression."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from tests.alerting.conftest import T0, alarm_contact, event
from tests.conftest import Tenant

from leitstand.accounts.models import User
from leitstand.alerting import actions
from leitstand.alerting.models import Alert, Channel, Notification, ProcessedEvent
from leitstand.contracts.models import AddOn, Contact
from leitstand.monitoring.models import Check, CheckEvent

pytestmark = pytest.mark.django_db

EMAIL = ("email", {"to": "alice@c90001.example"})
Outcome = ProcessedEvent.Outcome


def outcomes() -> list[str]:
    return [p.outcome for p in ProcessedEvent.objects.order_by("event__at", "event_id")]


def told() -> list[tuple[str, str]]:
    return [(n.kind, str(n.channel)) for n in Notification.objects.order_by("id")]


# -- who is told ----------------------------------------------------------------------


def test_without_booked_alarming_the_customer_is_not_told(customer_a: Tenant) -> None:
    """Seed 001 §5.2: without alarming booked, nothing goes to the customer."""
    alarm_contact(customer_a, EMAIL)
    customer_a.contract.alarming_booked = False
    customer_a.contract.save()
    event(customer_a.check, "critical")
    actions.process_new_events()
    assert Alert.objects.count() == 1  # the record and the staff side still exist
    assert Notification.objects.count() == 0


@pytest.mark.parametrize("how", ["booked", "plan", "addon"])
def test_alarming_from_contract_plan_or_addon(customer_a: Tenant, how: str) -> None:
    alarm_contact(customer_a, EMAIL)
    contract = customer_a.contract
    contract.alarming_booked = how == "booked"
    contract.save()
    if how == "plan":
        contract.plan.alarming_included = True
        contract.plan.save()
    if how == "addon":
        addon = AddOn.objects.create(
            plan=contract.plan, code="alarm", title="Alarming", grants=["alarming"]
        )
        contract.addons.add(addon)
    event(customer_a.check, "critical")
    actions.process_new_events()
    assert Notification.objects.count() == 1


def test_only_contacts_that_receive_alarms_are_told(customer_a: Tenant) -> None:
    alarm_contact(customer_a, EMAIL)
    quiet = Contact.objects.create(customer=customer_a.customer, name="Quiet")
    Channel.objects.create(kind="email", config={"to": "quiet@c90001.example"}, contact=quiet)
    event(customer_a.check, "critical")
    actions.process_new_events()
    assert [n.channel.contact for n in Notification.objects.all()] == [customer_a.contact]


def test_a_person_is_told_on_the_first_enabled_channel_only(customer_a: Tenant) -> None:
    off, first, _second = alarm_contact(
        customer_a,
        ("email", {"to": "off@c90001.example"}),
        ("email", {"to": "first@c90001.example"}),
        ("email", {"to": "second@c90001.example"}),
    )
    off.enabled = False
    off.save()
    event(customer_a.check, "critical")
    actions.process_new_events()
    assert [n.channel for n in Notification.objects.all()] == [first]


def test_another_customers_contacts_are_never_told(customer_a: Tenant, customer_b: Tenant) -> None:
    alarm_contact(customer_a, EMAIL)
    alarm_contact(customer_b, ("email", {"to": "bob@c90002.example"}))
    event(customer_a.check, "critical")
    actions.process_new_events()
    assert [n.channel.contact for n in Notification.objects.all()] == [customer_a.contact]


# -- grouping and recovery --------------------------------------------------------------


@pytest.fixture
def host(customer_a: Tenant) -> tuple[Check, Check, Check]:
    """A host check with two services that depend on it, on the same asset."""
    ping = Check.objects.create(asset=customer_a.asset, name="PING", kind="icmp")
    customer_a.check.parent = ping
    customer_a.check.save()
    smtp = Check.objects.create(asset=customer_a.asset, name="SMTP", kind="smtp", parent=ping)
    return ping, customer_a.check, smtp


def test_one_host_down_gives_one_alarm(
    customer_a: Tenant, host: tuple[Check, Check, Check]
) -> None:
    ping, http, smtp = host
    alarm_contact(customer_a, EMAIL)
    event(ping, "critical")
    event(http, "unreachable", at=T0 + timedelta(seconds=1))
    event(smtp, "unreachable", at=T0 + timedelta(seconds=2))
    actions.process_new_events()
    assert outcomes() == [Outcome.OPENED, Outcome.GROUPED, Outcome.GROUPED]
    [alert] = Alert.objects.all()
    assert alert.summary == "PING critical"
    assert told() == [("alarm", f"email #{Channel.objects.get().pk}")]
    assert {p.alert for p in ProcessedEvent.objects.all()} == {alert}


def test_services_first_then_host_is_still_one_alarm(
    customer_a: Tenant, host: tuple[Check, Check, Check]
) -> None:
    ping, http, _ = host
    alarm_contact(customer_a, EMAIL)
    event(http, "critical")
    event(ping, "critical", at=T0 + timedelta(seconds=1))
    actions.process_new_events()
    assert outcomes() == [Outcome.OPENED, Outcome.GROUPED]
    assert Notification.objects.count() == 1


def test_recovery_when_the_last_check_is_ok(
    customer_a: Tenant, host: tuple[Check, Check, Check]
) -> None:
    ping, http, _smtp = host
    alarm_contact(customer_a, EMAIL)
    event(ping, "critical")
    event(http, "unreachable", at=T0 + timedelta(seconds=1))
    actions.process_new_events()
    event(ping, "ok", old_state="critical", at=T0 + timedelta(minutes=5))
    actions.process_new_events()
    assert outcomes()[-1] == Outcome.GROUPED  # HTTP is still down
    assert Alert.objects.get().resolved_at is None
    event(http, "ok", old_state="unreachable", at=T0 + timedelta(minutes=6))
    actions.process_new_events()
    assert outcomes()[-1] == Outcome.RESOLVED
    alert = Alert.objects.get()
    assert alert.resolved_at is not None
    assert [kind for kind, _ in told()] == ["alarm", "recovery"]


def test_a_new_problem_after_recovery_opens_a_new_alert(customer_a: Tenant) -> None:
    alarm_contact(customer_a, EMAIL)
    event(customer_a.check, "critical")
    event(customer_a.check, "ok", old_state="critical", at=T0 + timedelta(minutes=1))
    event(customer_a.check, "critical", at=T0 + timedelta(minutes=2))
    actions.process_new_events()
    assert outcomes() == [Outcome.OPENED, Outcome.RESOLVED, Outcome.OPENED]
    assert Alert.objects.count() == 2
    assert [kind for kind, _ in told()] == ["alarm", "recovery", "alarm"]


def test_no_recovery_to_a_channel_that_failed(customer_a: Tenant) -> None:
    alarm_contact(customer_a, EMAIL)
    event(customer_a.check, "critical")
    actions.process_new_events()
    Notification.objects.update(status=Notification.Status.FAILED)
    event(customer_a.check, "ok", old_state="critical", at=T0 + timedelta(minutes=1))
    actions.process_new_events()
    assert [kind for kind, _ in told()] == ["alarm"]


def test_ok_without_an_open_alert_is_ignored(customer_a: Tenant) -> None:
    event(customer_a.check, "ok", old_state="pending")
    actions.process_new_events()
    assert outcomes() == [Outcome.IGNORED]


# -- suppression ------------------------------------------------------------------------


def test_maintenance_silences_but_keeps_the_record(customer_a: Tenant) -> None:
    alarm_contact(customer_a, EMAIL)
    event(customer_a.check, "critical", in_maintenance=True)
    actions.process_new_events()
    assert outcomes() == [Outcome.MAINTENANCE]
    assert Alert.objects.count() == 0
    assert Notification.objects.count() == 0


def test_a_dependency_on_another_asset_silences(customer_a: Tenant, customer_b: Tenant) -> None:
    """A's web server sits behind B's... say, a shared switch: B's alert is the one that counts."""
    alarm_contact(customer_a, EMAIL)
    customer_a.check.parent = customer_b.check
    customer_a.check.save()
    event(customer_b.check, "critical")
    event(customer_a.check, "critical", at=T0 + timedelta(seconds=1))
    event(customer_a.check, "unreachable", old_state="critical", at=T0 + timedelta(seconds=2))
    actions.process_new_events()
    assert outcomes() == [Outcome.OPENED, Outcome.DEPENDENCY, Outcome.DEPENDENCY]
    assert [a.asset for a in Alert.objects.all()] == [customer_b.asset]
    assert Notification.objects.count() == 0  # B has no alarm contact


def test_flapping_is_recorded_not_alarmed(customer_a: Tenant) -> None:
    alarm_contact(customer_a, EMAIL)
    event(customer_a.check, "critical", kind="flapping_start", flapping=True)
    event(customer_a.check, "critical", flapping=True, at=T0 + timedelta(seconds=1))
    actions.process_new_events()
    assert outcomes() == [Outcome.FLAPPING, Outcome.FLAPPING]
    assert Notification.objects.count() == 0


# -- claiming ---------------------------------------------------------------------------


def test_an_event_is_processed_once(customer_a: Tenant) -> None:
    alarm_contact(customer_a, EMAIL)
    stored = event(customer_a.check, "critical")
    actions.process_event(stored)
    with pytest.raises(IntegrityError):
        actions.process_event(stored)


def test_process_new_events_skips_what_is_done(customer_a: Tenant) -> None:
    alarm_contact(customer_a, EMAIL)
    actions.process_event(event(customer_a.check, "critical"))
    assert not actions.process_new_events()
    assert Notification.objects.count() == 1


# -- configuration ----------------------------------------------------------------------


def test_channel_config_is_validated_by_its_kind(customer_a: Tenant) -> None:
    channel = Channel(kind="webhook", config={"url": "gopher://x"}, contact=customer_a.contact)
    with pytest.raises(ValidationError) as info:
        channel.full_clean()
    assert info.value.message_dict["config"] == ["url: 'gopher://x' is not an http or https URL"]
    channel.kind = "pager"
    with pytest.raises(ValidationError, match="unknown channel kind 'pager'"):
        channel.full_clean()


def test_a_channel_has_exactly_one_owner(customer_a: Tenant, staff_user: User) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Channel.objects.create(kind="email", config={"to": "x@y.example"})
    with pytest.raises(IntegrityError):
        Channel.objects.create(
            kind="email", config={"to": "x@y.example"}, contact=customer_a.contact, user=staff_user
        )


def test_a_broken_event_does_not_hold_up_the_others(
    customer_a: Tenant, customer_b: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    alarm_contact(customer_a, EMAIL)
    alarm_contact(customer_b, ("email", {"to": "bob@c90002.example"}))
    poison = event(customer_a.check, "critical")
    event(customer_b.check, "critical", at=T0 + timedelta(seconds=1))
    original = actions.process_event

    def process_event(stored: CheckEvent, **kwargs: Any) -> ProcessedEvent:
        if stored.pk == poison.pk:
            raise RuntimeError("boom")
        return original(stored, **kwargs)

    monkeypatch.setattr(actions, "process_event", process_event)
    assert actions.process_new_events()
    assert [a.asset for a in Alert.objects.all()] == [customer_b.asset]
    assert not actions.process_new_events()  # only the broken one is left: no busy loop
    monkeypatch.undo()
    assert actions.process_new_events()
    assert Alert.objects.count() == 2
