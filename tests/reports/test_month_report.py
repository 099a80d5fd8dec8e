"""The monthly SLA report of a contract (reports/sla.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from tests.conftest import Tenant
from tests.reports.conftest import berlin, incident, outage

from leitstand.helpdesk.models import Ticket
from leitstand.monitoring.models import Check
from leitstand.reports.claims import ClaimDecision
from leitstand.reports.models import ClaimRule
from leitstand.reports.sla import month_report, month_span, parse_month, reported_incidents


def test_the_outage_and_the_computed_compensation(
    november_outage: Ticket, customer_a: Tenant, at: Callable[[datetime], None]
) -> None:
    at(berlin(2026, 12, 3, 9, 0))
    report = month_report(customer_a.contract, 2026, 11)
    [service] = report.services
    assert service.measured.down.total_seconds() == 2 * 3600
    assert report.availability == Decimal("99.722")
    assert report.monthly_fee == Decimal("200.00")
    assert report.compensation is not None
    assert report.compensation.credit_percent == Decimal("10")
    assert report.compensation.amount == Decimal("20.00")
    assert report.incidents == [november_outage]
    assert report.reported == 1
    assert report.admissible(berlin(2026, 12, 3, 9, 0).date()) == ClaimDecision.ACCEPTED


def test_the_worst_priority_1_service_decides_and_priority_2_is_not_promised(
    priced: ClaimRule, customer_a: Tenant, at: Callable[[datetime], None]
) -> None:
    at(berlin(2026, 12, 3, 9, 0))
    mail = Check.objects.create(
        asset=customer_a.asset, name="SMTP", kind="smtp", params={"host": "127.0.0.1"}
    )
    extra = Check.objects.create(
        asset=customer_a.asset,
        name="Custom app",
        kind="tcp",
        params={"host": "127.0.0.1", "port": 1},
        priority=Check.Priority.P2,
    )
    outage(customer_a, berlin(2026, 11, 3, 0, 0), berlin(2026, 11, 3, 1, 0))
    for check, hours in ((mail, 10), (extra, 200)):
        for when, old, new in (
            (berlin(2026, 11, 5, 0, 0), "ok", "critical"),
            (berlin(2026, 11, 5, hours % 24, 0).replace(day=5 + hours // 24), "critical", "ok"),
        ):
            check.events.create(at=when, kind="state", old_state=old, new_state=new, priority="P1")
    report = month_report(customer_a.contract, 2026, 11)
    assert [s.check.name for s in report.services] == ["HTTP", "SMTP"]
    # SMTP: 10 h of 720 h down = 98.611 %: below 99 % -> 50 %, capped at 50 %
    assert report.availability == Decimal("98.611")
    assert report.compensation is not None
    assert report.compensation.amount == Decimal("100.00")


def test_month_boundaries_are_the_customers_local_months(
    priced: ClaimRule, customer_a: Tenant
) -> None:
    start, end = month_span(customer_a.customer, 2026, 11)
    assert start == berlin(2026, 11, 1, 0, 0)
    assert end == berlin(2026, 12, 1, 0, 0)
    # 30 Nov 23:30 UTC is already December in Berlin: not a November incident
    incident(customer_a, datetime.fromisoformat("2026-11-30T23:30:00+00:00"))
    incident(customer_a, datetime.fromisoformat("2026-10-31T23:30:00+00:00"))
    assert reported_incidents(customer_a.customer, 2026, 11) == 1
    assert reported_incidents(customer_a.customer, 2026, 12) == 1


def test_incidents_opened_by_monitoring_were_not_reported_by_the_customer(
    priced: ClaimRule, customer_a: Tenant
) -> None:
    incident(customer_a, berlin(2026, 11, 10, 10, 0), channel=Ticket.Channel.MONITORING)
    assert reported_incidents(customer_a.customer, 2026, 11) == 0
    incident(customer_a, berlin(2026, 11, 10, 11, 0), channel=Ticket.Channel.PHONE)
    assert reported_incidents(customer_a.customer, 2026, 11) == 1


def test_another_customers_incidents_do_not_count(
    priced: ClaimRule, customer_a: Tenant, customer_b: Tenant
) -> None:
    incident(customer_b, berlin(2026, 11, 10, 10, 0))
    report = month_report(customer_a.contract, 2026, 11)
    assert report.incidents == []
    assert report.reported == 0


def test_without_a_claim_rule_there_is_no_compensation(customer_a: Tenant) -> None:
    report = month_report(customer_a.contract, 2026, 11)
    assert report.rule is None
    assert report.compensation is None
    assert report.admissible(berlin(2026, 12, 1, 0, 0).date()) is None


def test_a_broken_scale_is_reported_not_raised(priced: ClaimRule, customer_a: Tenant) -> None:
    priced.credit_tiers = [{"below": "99", "credit": "lots"}]
    priced.save()
    report = month_report(customer_a.contract, 2026, 11)
    assert report.compensation is None
    assert "numbers" in report.rule_error


def test_parse_month() -> None:
    assert parse_month("2026-11") == (2026, 11)
    assert parse_month(" 2026-01 ") == (2026, 1)
    for bad in ("", None, "2026-13", "2026-00", "26-11", "2026/11", "2026-11-01", "x-y"):
        assert parse_month(bad) is None
