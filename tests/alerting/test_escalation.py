"""Staff on call by schedule, escalation after N minutes unacknowledged, reminders, recovery.

Seed 004: "Erreichbarkeit außerhalb der üblichen Bürozeiten" and "1 Stunde
Reaktionszeit für Störungsmeldungen der Kategorie 1": the night rotation is
told at once, the team lead if nobody acknowledges within 15 minutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from tests.alerting.conftest import T0, SmtpSink, alarm_contact, event
from tests.conftest import Tenant

from leitstand.accounts.models import User
from leitstand.alerting import actions
from leitstand.alerting.models import (
    Alert,
    Channel,
    EscalationLevel,
    EscalationPolicy,
    Notification,
    OnCallMember,
    OnCallOverride,
    OnCallSchedule,
)
from leitstand.sla.models import Calendar

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


@dataclass
class Staff:
    day: User
    night1: User
    night2: User
    lead: User
    schedule: OnCallSchedule
    policy: EscalationPolicy


def operator(name: str) -> User:
    user = User.objects.create_user(name, f"{name}@provider.example", "x", is_staff=True)
    Channel.objects.create(kind="email", config={"to": f"{name}@provider.example"}, user=user)
    return user


@pytest.fixture
def staff(db: None) -> Staff:
    calendar = Calendar.objects.create(
        name="office-bw",
        timezone="Europe/Berlin",
        hours={str(d): [["09:00", "17:00"]] for d in range(5)},
        holiday_country="DE",
        holiday_subdivision="BW",
    )
    schedule = OnCallSchedule.objects.create(
        name="ops",
        calendar=calendar,
        handover_at=datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN),
    )
    day, night1, night2, lead = (operator(n) for n in ("day", "night1", "night2", "lead"))
    OnCallMember.objects.create(schedule=schedule, user=day, shift="office")
    OnCallMember.objects.create(schedule=schedule, user=night1, shift="out_of_hours", position=0)
    OnCallMember.objects.create(schedule=schedule, user=night2, shift="out_of_hours", position=1)
    policy = EscalationPolicy.objects.create(
        name="default", is_default=True, renotify_every=timedelta(minutes=30)
    )
    EscalationLevel.objects.create(policy=policy, number=1, schedule=schedule)
    EscalationLevel.objects.create(policy=policy, number=2, delay=timedelta(minutes=15), user=lead)
    return Staff(day, night1, night2, lead, schedule, policy)


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def told(kind: str | None = None) -> list[str]:
    rows = Notification.objects.order_by("id").select_related("channel__user", "channel__contact")
    return [
        (n.channel.user.username if n.channel.user else n.channel.contact.name)  # type: ignore[union-attr]
        for n in rows
        if kind is None or n.kind == kind
    ]


def down(tenant: Tenant, at: datetime = T0) -> Alert:
    event(tenant.check, "critical", at=at)
    actions.process_new_events()
    return Alert.objects.get(resolved_at=None)


# -- level 1: who is on call ----------------------------------------------------------


def test_out_of_hours_the_night_rotation_is_told_at_once(
    customer_a: Tenant, staff: Staff, clock: Any
) -> None:
    alert = down(customer_a)  # Wednesday 04:00 in Berlin
    assert told() == ["night1"]
    assert alert.level == 1
    assert alert.next_escalation_at == T0 + timedelta(minutes=15)


def test_in_office_hours_the_day_team_is_told(customer_a: Tenant, staff: Staff, clock: Any) -> None:
    at = datetime(2026, 11, 18, 10, 0, tzinfo=BERLIN)
    clock.move_to(at)
    down(customer_a, at)
    assert told() == ["day"]


def test_a_public_holiday_is_out_of_hours(customer_a: Tenant, staff: Staff, clock: Any) -> None:
    at = datetime(2026, 12, 25, 11, 0, tzinfo=BERLIN)  # Christmas, a Friday; turn 5
    clock.move_to(at)
    down(customer_a, at)
    assert told() == ["night2"]


def test_the_rotation_hands_over_weekly(customer_a: Tenant, staff: Staff, clock: Any) -> None:
    at = datetime(2026, 11, 25, 4, 0, tzinfo=BERLIN)  # a week later
    clock.move_to(at)
    down(customer_a, at)
    assert told() == ["night2"]


def test_an_override_wins(customer_a: Tenant, staff: Staff, clock: Any) -> None:
    cover = operator("cover")
    OnCallOverride.objects.create(
        schedule=staff.schedule,
        user=cover,
        starts_at=T0 - timedelta(hours=1),
        ends_at=T0 + timedelta(hours=1),
    )
    down(customer_a)
    assert told() == ["cover"]


def test_customer_and_staff_are_both_told(customer_a: Tenant, staff: Staff, clock: Any) -> None:
    alarm_contact(customer_a, ("email", {"to": "alice@c90001.example"}))
    down(customer_a)
    assert told() == ["Alice Contact", "night1"]


# -- level 2 and acknowledgement ------------------------------------------------------


def test_level_two_after_fifteen_minutes_unacknowledged(
    customer_a: Tenant, staff: Staff, clock: Any
) -> None:
    down(customer_a)
    clock.shift(timedelta(minutes=14, seconds=59))
    assert not actions.escalate_due()
    assert told() == ["night1"]
    clock.shift(timedelta(seconds=1))
    assert actions.escalate_due()
    assert told() == ["night1", "lead"]
    alert = Alert.objects.get()
    assert alert.level == 2
    assert alert.next_escalation_at is None
    assert not actions.escalate_due()  # done until the reminder is due


def test_acknowledgement_stops_escalation(customer_a: Tenant, staff: Staff, clock: Any) -> None:
    alert = down(customer_a)
    clock.shift(timedelta(minutes=5))
    assert actions.acknowledge(alert, staff.night1)
    assert not actions.acknowledge(alert, staff.night2)  # only the first counts
    assert alert.acknowledged_by == staff.night1
    assert alert.acknowledged_at == T0 + timedelta(minutes=5)
    clock.shift(timedelta(hours=3))
    assert not actions.escalate_due()
    assert told() == ["night1"]


def test_a_late_worker_catches_up(customer_a: Tenant, staff: Staff, clock: Any) -> None:
    down(customer_a)
    clock.shift(timedelta(minutes=40))  # the escalation worker was down
    actions.escalate_due()
    assert told("alarm") == ["night1", "lead"]
    assert told("renotify") == ["night1", "lead"]


def test_reminders_repeat_while_unacknowledged(
    customer_a: Tenant, staff: Staff, clock: Any
) -> None:
    down(customer_a)
    clock.shift(timedelta(minutes=15))
    actions.escalate_due()
    clock.shift(timedelta(minutes=15))  # 30 minutes after opening
    actions.escalate_due()
    assert told("renotify") == ["night1", "lead"]
    clock.shift(timedelta(minutes=30))
    actions.escalate_due()
    assert told("renotify") == ["night1", "lead", "night1", "lead"]
    assert Alert.objects.get().renotify_count == 2
    actions.acknowledge(Alert.objects.get(), staff.lead)
    clock.shift(timedelta(hours=2))
    actions.escalate_due()
    assert len(told("renotify")) == 4


def test_escalating_twice_at_the_same_instant_is_harmless(
    customer_a: Tenant, staff: Staff, clock: Any
) -> None:
    down(customer_a)
    clock.shift(timedelta(minutes=31))
    actions.escalate_due()
    before = Notification.objects.count()
    actions.escalate_due()
    assert Notification.objects.count() == before


def test_recovery_reaches_everyone_alarmed(customer_a: Tenant, staff: Staff, clock: Any) -> None:
    alarm_contact(customer_a, ("email", {"to": "alice@c90001.example"}))
    down(customer_a)
    clock.shift(timedelta(minutes=20))
    actions.escalate_due()
    event(customer_a.check, "ok", old_state="critical", at=T0 + timedelta(minutes=20))
    actions.process_new_events()
    assert told("recovery") == ["Alice Contact", "night1", "lead"]
    alert = Alert.objects.get()
    assert alert.next_escalation_at is None
    assert alert.next_renotify_at is None
    assert not actions.acknowledge(alert, staff.lead)  # nothing left to acknowledge


def test_without_a_policy_only_the_customer_is_told(customer_a: Tenant, clock: Any) -> None:
    alarm_contact(customer_a, ("email", {"to": "alice@c90001.example"}))
    alert = down(customer_a)
    assert told() == ["Alice Contact"]
    assert alert.next_escalation_at is None


def test_the_on_call_engineer_gets_the_mail(
    customer_a: Tenant, staff: Staff, smtp_sink: SmtpSink
) -> None:
    with time_machine.travel(T0, tick=True):
        down(customer_a)
        actions.deliver_due("w1")
    [mail] = smtp_sink.received
    assert mail.recipients == ["night1@provider.example"]


def test_a_deleted_policy_ends_escalation(customer_a: Tenant, staff: Staff, clock: Any) -> None:
    down(customer_a)
    EscalationLevel.objects.all().delete()
    staff.policy.delete()
    clock.shift(timedelta(minutes=20))
    assert actions.escalate_due()
    assert not actions.escalate_due()  # nothing stays due: no busy loop
    assert Alert.objects.get().next_escalation_at is None
