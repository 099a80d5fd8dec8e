"""Tickets: numbering, replies, waiting pauses the clocks, priority changes, time."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from tests.conftest import Tenant

from leitstand.contracts.catalog import load_file
from leitstand.contracts.models import Plan
from leitstand.core.demo import CATALOG
from leitstand.helpdesk import actions
from leitstand.helpdesk.models import Ticket, TicketSequence
from leitstand.helpdesk.rules import ClockState

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def webosa(customer_a: Tenant) -> Tenant:
    """Customer A on the Webosa SLA (P1 clock hours, P2 business hours Mon-Fri 9-17)."""
    load_file(CATALOG)
    customer_a.contract.plan = Plan.objects.get(name="webosa-managed")
    customer_a.contract.save()
    return customer_a


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=AMS)


def ticket(tenant: Tenant, priority: str, when: datetime, **kw: object) -> Ticket:
    return actions.open_ticket(
        tenant.customer,
        "Shop is slow",
        "Since this morning",
        channel=Ticket.Channel.PORTAL,
        priority=priority,
        asset=tenant.asset,
        at=when,
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.django_db
def test_numbers_count_per_year(customer_a: Tenant, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TICKET_NUMBER_FORMAT = "T{year}-{seq:04d}"
    a = ticket(customer_a, "", at(20, 10))
    b = ticket(customer_a, "", at(20, 11))
    c = ticket(customer_a, "", datetime(2027, 1, 2, 9, tzinfo=AMS))
    assert (a.number, b.number, c.number) == ("T2026-0001", "T2026-0002", "T2027-0001")
    assert a.messages.get().body == "Since this morning"
    assert a.contract == customer_a.contract


@pytest.mark.django_db
def test_an_asset_of_another_customer_is_refused(customer_a: Tenant, customer_b: Tenant) -> None:
    with pytest.raises(ValueError, match="another customer"):
        actions.open_ticket(customer_a.customer, "x", "y", channel="portal", asset=customer_b.asset)


@pytest.mark.django_db
def test_p2_clocks_follow_business_hours(webosa: Tenant) -> None:
    t = ticket(webosa, "P2", at(20, 16, 30))  # Friday 16:30
    clocks = {c.target: c for c in actions.clocks(t, now=at(20, 16, 45))}
    assert clocks["initial_response"].deadline == at(23, 9, 30)  # Monday 09:30
    assert clocks["diagnosis"].deadline == at(23, 16, 30)
    assert clocks["restoration"].state == ClockState.NOT_STARTED  # counts from diagnosis
    assert clocks["initial_response"].state == ClockState.RUNNING


@pytest.mark.django_db
def test_first_public_reply_meets_the_response_target(webosa: Tenant, staff_user) -> None:  # type: ignore[no-untyped-def]
    t = ticket(webosa, "P2", at(23, 9))
    actions.reply(t, staff_user, "looking into it (internal)", internal=True, at=at(23, 9, 20))
    assert t.first_response_at is None
    actions.reply(t, staff_user, "We are on it.", at=at(23, 9, 40))
    clock = next(c for c in actions.clocks(t, now=at(23, 12)) if c.target == "initial_response")
    assert (clock.state, t.status) == (ClockState.MET, "open")
    actions.reply(t, staff_user, "again", at=at(23, 10, 40))
    t.refresh_from_db()
    assert t.first_response_at == at(23, 9, 40)


@pytest.mark.django_db
def test_waiting_for_the_customer_stops_the_clock(webosa: Tenant) -> None:
    t = ticket(webosa, "P2", at(23, 9))  # Monday 09:00, diagnosis within 8 business hours
    actions.set_status(t, Ticket.Status.WAITING, at=at(23, 10))
    during = {c.target: c for c in actions.clocks(t, now=at(23, 12))}
    assert during["diagnosis"].state == ClockState.PAUSED
    actions.set_status(t, Ticket.Status.OPEN, at=at(23, 14))
    after = {c.target: c for c in actions.clocks(t, now=at(23, 15))}
    assert after["diagnosis"].deadline == at(24, 13)  # the webosa scenario: Tuesday 13:00
    assert after["diagnosis"].state == ClockState.RUNNING


@pytest.mark.django_db
def test_a_new_priority_moves_the_deadlines_at_once(webosa: Tenant) -> None:
    t = ticket(webosa, "P2", at(21, 3, 10))  # Saturday night
    p2 = next(c for c in actions.clocks(t, now=at(21, 3, 20)) if c.target == "initial_response")
    assert p2.deadline == at(23, 10)
    actions.set_priority(t, "P1")
    p1 = next(c for c in actions.clocks(t, now=at(21, 3, 20)) if c.target == "initial_response")
    assert p1.deadline == at(21, 4, 10)  # a clock hour
    with pytest.raises(ValueError, match="not defined by SLA policy"):
        actions.set_priority(t, "P7")


@pytest.mark.django_db
def test_breaching_soon_and_breached(webosa: Tenant) -> None:
    t = ticket(webosa, "P1", at(21, 3, 10))
    states = {
        minutes: next(
            c.state
            for c in actions.clocks(t, now=at(21, 3, 10) + timedelta(minutes=minutes))
            if c.target == "initial_response"
        )
        for minutes in (30, 50, 61)
    }
    assert states == {30: ClockState.RUNNING, 50: ClockState.WARNING, 61: ClockState.BREACHED}


@pytest.mark.django_db
def test_time_is_billable_by_the_contract(webosa: Tenant, staff_user) -> None:  # type: ignore[no-untyped-def]
    request = ticket(webosa, "P2", at(23, 9))
    # Seed 002 §1.6: the customer agreed to the proposed costs (tests/helpdesk/test_estimates.py)
    request.estimates.create(
        reference="E1",
        description="x",
        effort=timedelta(hours=1),
        amount=0,
        valid_until=at(30, 9),
        state="approved",
        text="x",
        decided_at=at(23, 9),
        created_at=at(23, 9),
    )
    entry = actions.log_time(request, staff_user, "it_support", timedelta(minutes=40))
    assert entry.billable
    incident = ticket(webosa, "P1", at(23, 9), kind=Ticket.Kind.INCIDENT)
    assert not actions.log_time(incident, staff_user, "it_support", timedelta(minutes=40)).billable
    incident.out_of_scope = True  # seed 002 §1.5: it was not an incident
    incident.save()
    assert actions.log_time(incident, staff_user, "it_support", timedelta(minutes=20)).billable
    assert not actions.log_time(request, staff_user, "coffee", timedelta(minutes=5)).billable
    with pytest.raises(ValueError, match="positive duration"):
        actions.log_time(request, staff_user, "it_support", timedelta(0))


@pytest.mark.django_db(transaction=True)
def test_concurrent_numbering_has_no_gaps_and_no_twins(customer_a: Tenant) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers anyway; the race needs PostgreSQL")
    numbers: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(10):
                numbers.append(actions.next_number(at(20, 10)))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert sorted(numbers) == [f"LS-2026-{n:06d}" for n in range(1, 41)]
    assert TicketSequence.objects.get(year=2026).last == 40
