"""SLA warnings before a breach and escalation on breach, through alerting's outbox,
against the real SLA module (Webosa: P1 on clock hours, P2 on business hours)
and a real SMTP server receiving the mail."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from tests.alerting.conftest import SmtpSink, on_call
from tests.conftest import Tenant

from leitstand.accounts.models import User
from leitstand.alerting import actions as alerting
from leitstand.alerting.models import Alert, Channel, Notification
from leitstand.contracts.catalog import load_file
from leitstand.contracts.models import Plan
from leitstand.core.demo import CATALOG
from leitstand.core.periodic import REGISTRY
from leitstand.helpdesk import actions, sla_watch
from leitstand.helpdesk.models import SlaNotice, Ticket
from leitstand.helpdesk.rules import Clock, ClockState
from leitstand.helpdesk.sla_watch import notice_due, watch

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Amsterdam, office hours
H = timedelta(hours=1)
M = timedelta(minutes=1)


def clock(
    *,
    within: timedelta = H,
    deadline: datetime | None = T0 + H,
    achieved: datetime | None = None,
    state: ClockState = ClockState.RUNNING,
    used: float | None = 0.5,
) -> Clock:
    return Clock("initial_response", within, deadline, achieved, state, used)


@pytest.mark.parametrize(
    ("the_clock", "now", "expected"),
    [
        (clock(used=0.5), T0 + 30 * M, None),
        (clock(used=0.79), T0 + 47 * M, None),
        (clock(used=0.8), T0 + 48 * M, "warning"),  # the share reached
        (clock(within=10 * H, deadline=T0 + 10 * H, used=0.5), T0, None),
        # less than 10 minutes of the target's own time left, before the share is reached
        (clock(within=30 * M, deadline=T0 + 30 * M, used=0.66), T0 + 20 * M, None),
        (clock(within=30 * M, deadline=T0 + 30 * M, used=0.7), T0 + 21 * M, "warning"),
        (clock(used=0.9, state=ClockState.PAUSED), T0 + 50 * M, None),  # the customer holds it
        (clock(used=1.2, state=ClockState.BREACHED), T0 + 61 * M, "breach"),
        (clock(deadline=None, used=None, state=ClockState.NOT_STARTED), T0, None),
        (clock(achieved=T0 + 59 * M, state=ClockState.MET, used=0.98), T0 + 2 * H, None),
        (clock(achieved=T0 + 61 * M, state=ClockState.BREACHED, used=1.0), T0 + 2 * H, None),
    ],
)
def test_notice_due(the_clock: Clock, now: datetime, expected: str | None) -> None:
    assert notice_due(the_clock, now, warn_share=0.8, warn_before=10 * M) == expected


# --------------------------------------------------------------------------


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "leitstand@provider.example"
    yield sink
    sink.stop()


@pytest.fixture
def webosa(customer_a: Tenant, settings: Any) -> Tenant:
    settings.TICKET_NUMBER_FORMAT = "LS-{year}-{seq:06d}"
    settings.HELPDESK_SLA_WARN_SHARE = 0.8
    settings.HELPDESK_SLA_WARN_BEFORE = timedelta(minutes=5)
    load_file(CATALOG)
    customer_a.contract.plan = Plan.objects.get(name="webosa-managed")
    customer_a.contract.save()
    return customer_a


@pytest.fixture
def duty(db: None) -> User:
    """The on-call engineer at level 1 of the default escalation policy."""
    return on_call("duty")


def p1(tenant: Tenant, priority: str = "P1", at: datetime = T0) -> Ticket:
    return actions.open_ticket(
        tenant.customer,
        "Shop down",
        "The shop answers 502.",
        channel=Ticket.Channel.PORTAL,
        kind=Ticket.Kind.INCIDENT,
        priority=priority,
        asset=tenant.asset,
        at=at,
    )


def run(at: datetime) -> int:
    with time_machine.travel(at, tick=False):
        return watch()


def deliver(at: datetime) -> None:
    with time_machine.travel(at, tick=False):
        alerting.escalate_due(now=at)
        while alerting.deliver_due("test-worker", now=at):
            pass


def notices(ticket: Ticket) -> list[tuple[str, str, str]]:
    return list(
        ticket.sla_notices.order_by("created_at", "pk").values_list("target", "priority", "kind")
    )


pytestmark = pytest.mark.django_db


def test_warn_once_before_and_escalate_once_at_the_breach(
    webosa: Tenant, duty: User, smtp: SmtpSink
) -> None:
    ticket = p1(webosa)
    assert run(T0 + 30 * M) == 0
    # 49 of 60 minutes used: more than 80 %
    assert run(T0 + 49 * M) == 1
    assert run(T0 + 50 * M) == 0  # exactly once
    assert notices(ticket) == [("initial_response", "P1", "warning")]
    warning = SlaNotice.objects.get()
    assert warning.deadline == T0 + H
    assert warning.alert is not None
    assert warning.alert.policy is None  # a warning tells, it does not chase
    deliver(T0 + 50 * M)
    [mail] = smtp.received
    assert mail.recipients == ["duty@provider.example"]
    assert mail.header("Subject") == "PROBLEM: alice-server"
    body = mail.data.decode()
    assert f"SLA warning: ticket {ticket.number} (Shop down), P1 initial response" in body
    assert "82 % of the time used" in body

    assert run(T0 + 61 * M) == 1
    assert run(T0 + 62 * M) == 0
    assert notices(ticket) == [
        ("initial_response", "P1", "warning"),
        ("initial_response", "P1", "breach"),
    ]
    breach = SlaNotice.objects.get(kind="breach")
    assert breach.alert is not None
    assert breach.alert.policy is not None  # escalates through alerting's levels
    warning.alert.refresh_from_db()
    assert warning.alert.resolved_at == T0 + 61 * M  # superseded by the breach
    deliver(T0 + 62 * M)
    assert len(smtp.received) == 2
    assert f"SLA breached: ticket {ticket.number}" in smtp.received[1].data.decode()
    assert "Acknowledge" in smtp.received[1].data.decode()


def test_a_breach_without_an_earlier_warning_is_escalated_alone(
    webosa: Tenant, duty: User, smtp: SmtpSink
) -> None:
    ticket = p1(webosa)
    assert run(T0 + 2 * H) == 1  # the worker was down through the warning
    assert notices(ticket) == [("initial_response", "P1", "breach")]


def test_an_old_breach_is_recorded_but_pages_nobody(
    webosa: Tenant, duty: User, smtp: SmtpSink, settings: Any
) -> None:
    settings.HELPDESK_SLA_STALE_AFTER = timedelta(hours=24)
    ticket = p1(webosa)
    assert run(T0 + 30 * H) == 2  # initial response and diagnosis, both over a day ago
    assert notices(ticket) == [
        ("initial_response", "P1", "breach"),
        ("diagnosis", "P1", "breach"),
    ]
    assert not Alert.objects.exists()
    fresh = p1(webosa, at=T0 + 29 * H)
    assert run(T0 + 30 * H + M) == 1
    assert SlaNotice.objects.get(ticket=fresh).alert is not None


def test_waiting_for_the_customer_holds_the_warning_and_moves_the_deadline(
    webosa: Tenant, duty: User, smtp: SmtpSink
) -> None:
    ticket = p1(webosa)
    actions.set_status(ticket, Ticket.Status.WAITING, at=T0 + 10 * M)
    assert run(T0 + 55 * M) == 0
    assert run(T0 + 90 * M) == 0  # past the first deadline, but the clock stopped at 10 min
    actions.set_status(ticket, Ticket.Status.OPEN, at=T0 + 2 * H)
    # 10 + 35 = 45 of 60 minutes used
    assert run(T0 + 2 * H + 35 * M) == 0
    # 10 + 40 = 50 of 60 minutes used
    assert run(T0 + 2 * H + 40 * M) == 1
    notice = SlaNotice.objects.get()
    assert (notice.kind, notice.deadline) == ("warning", T0 + 2 * H + 50 * M)
    assert run(T0 + 2 * H + 49 * M) == 0
    assert run(T0 + 2 * H + 51 * M) == 1
    assert notices(ticket)[-1] == ("initial_response", "P1", "breach")


def test_a_new_priority_is_a_new_deadline_with_its_own_warning(
    webosa: Tenant, duty: User, smtp: SmtpSink
) -> None:
    ticket = p1(webosa, "P2")  # 1 business hour to respond, 8 to diagnose
    assert run(T0 + 49 * M) == 1
    p2_warning = SlaNotice.objects.get()
    assert (p2_warning.priority, p2_warning.target) == ("P2", "initial_response")
    actions.set_priority(ticket, "P1")
    assert run(T0 + 50 * M) == 1
    assert notices(ticket)[-1] == ("initial_response", "P1", "warning")
    assert p2_warning.alert is not None
    p2_warning.alert.refresh_from_db()
    assert p2_warning.alert.resolved_at == T0 + 50 * M  # the P2 deadline no longer applies


def test_a_met_target_warns_nobody_and_closes_its_alert(
    webosa: Tenant, duty: User, smtp: SmtpSink, staff_user: User
) -> None:
    ticket = p1(webosa)
    assert run(T0 + 50 * M) == 1
    actions.reply(ticket, staff_user, "We are on it.", at=T0 + 55 * M)
    assert run(T0 + 70 * M) == 0  # met: no breach
    alert = SlaNotice.objects.get().alert
    assert alert is not None
    alert.refresh_from_db()
    assert alert.resolved_at == T0 + 70 * M
    # no recovery message for a warning: nothing had failed
    assert not Notification.objects.filter(kind=Notification.Kind.RECOVERY).exists()


def test_the_assignee_hears_it_first(webosa: Tenant, duty: User, smtp: SmtpSink) -> None:
    owner = User.objects.create_user("owner", "owner@provider.example", "x", is_staff=True)
    Channel.objects.create(kind="email", config={"to": "owner@provider.example"}, user=owner)
    ticket = p1(webosa)
    Ticket.objects.filter(pk=ticket.pk).update(assignee=owner)
    assert run(T0 + 50 * M) == 1
    deliver(T0 + 50 * M)
    assert [m.recipients for m in smtp.received] == [["owner@provider.example"]]
    # the breach goes to the owner and up the escalation levels
    assert run(T0 + 61 * M) == 1
    deliver(T0 + 61 * M)
    assert sorted(m.recipients[0] for m in smtp.received[1:]) == [
        "duty@provider.example",
        "owner@provider.example",
    ]


def test_an_acknowledged_breach_stops_escalating(
    webosa: Tenant, duty: User, smtp: SmtpSink
) -> None:
    p1(webosa)
    assert run(T0 + 61 * M) == 1
    alert = Alert.objects.get(resolved_at__isnull=True)
    assert alerting.acknowledge(alert, duty, now=T0 + 62 * M, via="link")
    deliver(T0 + 62 * M)
    assert smtp.received == []


def test_closed_tickets_are_not_watched_and_their_alerts_close(
    webosa: Tenant, duty: User, smtp: SmtpSink
) -> None:
    ticket = p1(webosa)
    assert run(T0 + 61 * M) == 1
    actions.set_status(ticket, Ticket.Status.RESOLVED, at=T0 + 90 * M)
    assert run(T0 + 5 * H) == 0
    assert not Alert.objects.filter(resolved_at__isnull=True).exists()


def test_tickets_without_sla_are_ignored(customer_a: Tenant, duty: User) -> None:
    actions.open_ticket(customer_a.customer, "x", "y", channel="portal", priority="P1")
    assert run(T0 + 10 * H) == 0


def test_the_step_is_registered() -> None:
    assert f"{sla_watch.__name__}.sla_watch" in REGISTRY


@pytest.mark.django_db(transaction=True)
def test_two_workers_write_one_notice(webosa: Tenant, duty: User) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    ticket = p1(webosa)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            watch(T0 + 50 * M)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert notices(ticket) == [("initial_response", "P1", "warning")]
    assert Alert.objects.count() == 1


def test_the_watch_computes_the_same_clocks_as_the_ticket_page(webosa: Tenant) -> None:
    """The pass reads each policy once; its clocks must stay those of actions.clocks."""
    waiting = p1(webosa)
    actions.set_status(waiting, Ticket.Status.WAITING, at=T0 + 10 * M)
    diagnosed = p1(webosa, "P2", at=T0 - 3 * H)
    actions.mark(diagnosed, "diagnosed_at", at=T0 - H)
    answered = p1(webosa, "P2", at=T0 - 30 * H)
    Ticket.objects.filter(pk=answered.pk).update(first_response_at=T0 - 29 * H)
    policies = sla_watch.Policies()
    for ticket in sla_watch.watched():
        for now in (T0, T0 + 50 * M, T0 + 5 * H, T0 + 3 * 24 * H):
            assert sla_watch.clocks(ticket, now, policies) == actions.clocks(ticket, now)
    assert len(policies.rules) == 1


def test_restoration_is_watched_only_once_it_runs(
    webosa: Tenant, duty: User, smtp: SmtpSink, staff_user: User
) -> None:
    ticket = p1(webosa)
    actions.reply(ticket, staff_user, "Looking", at=T0 + 5 * M)
    assert run(T0 + 3 * H + 30 * M) == 1  # diagnosis: 210 of 240 minutes
    assert notices(ticket) == [("diagnosis", "P1", "warning")]
    actions.mark(ticket, "diagnosed_at", at=T0 + 3 * H + 40 * M)
    # restoration counts 4 h from the diagnosis
    assert run(T0 + 6 * H + 40 * M) == 0
    assert run(T0 + 6 * H + 55 * M) == 1
    assert notices(ticket)[-1] == ("restoration", "P1", "warning")


def test_a_disabled_channel_of_the_assignee_falls_back_to_the_on_call_level(
    webosa: Tenant, duty: User, smtp: SmtpSink
) -> None:
    owner = User.objects.create_user("owner", "owner@provider.example", "x", is_staff=True)
    Channel.objects.create(
        kind="email", config={"to": "owner@provider.example"}, user=owner, enabled=False
    )
    ticket = p1(webosa)
    Ticket.objects.filter(pk=ticket.pk).update(assignee=owner)
    assert run(T0 + 50 * M) == 1
    deliver(T0 + 50 * M)
    assert [m.recipients for m in smtp.received] == [["duty@provider.example"]]


def test_without_an_escalation_policy_the_notice_is_still_recorded(
    webosa: Tenant, smtp: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    ticket = p1(webosa)
    assert run(T0 + 50 * M) == 1
    assert run(T0 + 61 * M) == 1
    assert [n[2] for n in notices(ticket)] == ["warning", "breach"]
    assert "nobody to tell" in caplog.text
    assert not Notification.objects.exists()


def test_the_thresholds_come_from_the_settings(webosa: Tenant, duty: User, settings: Any) -> None:
    settings.HELPDESK_SLA_WARN_SHARE = 0.5
    settings.HELPDESK_SLA_WARN_BEFORE = 1  # minutes, as a plain number
    ticket = p1(webosa)
    assert run(T0 + 29 * M) == 0
    assert run(T0 + 30 * M) == 1
    settings.HELPDESK_SLA_WARN_SHARE = 7  # nonsense is clamped to 100 %
    assert sla_watch._warn_share() == 1.0
    assert sla_watch._warn_before() == timedelta(minutes=1)
    assert notices(ticket) == [("initial_response", "P1", "warning")]


def test_a_ticket_that_breaks_the_pass_does_not_stop_it(
    webosa: Tenant, duty: User, caplog: pytest.LogCaptureFixture
) -> None:
    from leitstand.contracts.models import Asset, Contract
    from leitstand.sla.models import Calendar, SlaPolicy

    # A second server under a policy whose calendar names no real time zone.
    calendar = Calendar.objects.get(name="webosa-office")
    calendar.pk, calendar.name, calendar.timezone = None, "broken", "Nowhere/Void"
    calendar.save()
    policy = SlaPolicy.objects.get(name="webosa")
    targets = list(policy.targets.all())
    policy.pk, policy.name, policy.calendar = None, "broken", calendar
    policy.save()
    for target in targets:
        target.pk, target.policy = None, policy
        target.save()
    asset = Asset.objects.create(customer=webosa.customer, name="broken-server")
    contract = Contract.objects.create(asset=asset, plan=webosa.contract.plan, starts_on=T0.date())
    broken = actions.open_ticket(
        webosa.customer, "x", "y", channel="portal", priority="P1", asset=asset, at=T0
    )
    Contract.objects.filter(pk=contract.pk).update(sla_policy=policy)  # broken afterwards
    good = p1(webosa)
    assert run(T0 + 50 * M) == 1
    assert notices(good) == [("initial_response", "P1", "warning")]
    assert notices(broken) == []
    assert f"SLA watch failed for ticket {broken.number}" in caplog.text


def test_both_targets_due_at_once_give_two_notices(
    webosa: Tenant, duty: User, smtp: SmtpSink
) -> None:
    ticket = p1(webosa)
    assert run(T0 + 5 * H) == 2
    assert sorted(notices(ticket)) == [
        ("diagnosis", "P1", "breach"),
        ("initial_response", "P1", "breach"),
    ]
    assert Alert.objects.filter(resolved_at__isnull=True).count() == 2
