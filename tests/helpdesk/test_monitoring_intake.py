"""Monitoring events become incidents: one per host, recoveries noted, maintenance and
flapping left alone, each event read once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.conftest import Tenant

from leitstand.helpdesk.actions import process_new_events
from leitstand.helpdesk.models import Ticket
from leitstand.monitoring.models import Check, CheckEvent

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def event(check: Check, minutes: int, old: str, new: str, **kw: object) -> CheckEvent:
    return CheckEvent.objects.create(
        service_check=check,
        at=T0 + timedelta(minutes=minutes),
        kind=kw.pop("kind", "state"),
        old_state=old,
        new_state=new,
        reason=f"{new} reason",
        priority="P1",
        **kw,
    )


def test_a_host_down_opens_one_incident_for_all_its_services(customer_a: Tenant) -> None:
    ping = Check.objects.create(asset=customer_a.asset, name="Ping", kind="tcp", params={})
    event(ping, 0, "ok", "critical")
    event(customer_a.check, 1, "ok", "unreachable")
    assert process_new_events() == 2
    incident = Ticket.objects.get()
    assert (incident.kind, incident.channel, incident.priority, incident.verified) == (
        "incident",
        "monitoring",
        "P1",
        True,
    )
    assert incident.subject == "alice-server: Ping critical"
    assert incident.created_at == T0
    assert [m.body for m in incident.messages.order_by("created_at")] == [
        "Ping is critical: critical reason",
        "HTTP is unreachable: unreachable reason",
    ]


def test_recovery_is_noted_on_the_incident(customer_a: Tenant) -> None:
    event(customer_a.check, 0, "ok", "critical")
    event(customer_a.check, 5, "critical", "ok")
    process_new_events()
    incident = Ticket.objects.get()
    assert incident.messages.last().body == "HTTP recovered: ok reason"  # type: ignore[union-attr]
    assert incident.status == "new"  # people close incidents, not the monitor


def test_a_resolved_incident_is_not_reused(customer_a: Tenant) -> None:
    event(customer_a.check, 0, "ok", "critical")
    process_new_events()
    Ticket.objects.update(status="resolved")
    event(customer_a.check, 60, "ok", "critical")
    process_new_events()
    assert Ticket.objects.count() == 2


@pytest.mark.parametrize(
    "extra", [{"in_maintenance": True}, {"flapping": True}, {"kind": "flapping_start"}]
)
def test_maintenance_flapping_and_other_events_open_nothing(
    customer_a: Tenant, extra: dict[str, object]
) -> None:
    event(customer_a.check, 0, "ok", "critical", **extra)
    assert process_new_events() == 1
    assert not Ticket.objects.exists()


def test_each_event_is_read_once(customer_a: Tenant) -> None:
    event(customer_a.check, 0, "ok", "critical")
    assert process_new_events() == 1
    assert process_new_events() == 0
    assert Ticket.objects.get().messages.count() == 1


def test_incidents_belong_to_the_assets_customer(customer_a: Tenant, customer_b: Tenant) -> None:
    event(customer_a.check, 0, "ok", "critical")
    event(customer_b.check, 0, "ok", "critical")
    process_new_events()
    assert sorted(Ticket.objects.values_list("customer__number", flat=True)) == ["C90001", "C90002"]
