"""The portal's overview: servers and services with their state, open tickets with
their SLA state, and the next maintenance.

Seed 001 §3.2 "Laufende Überwachung der VM (Monitoring)" and "Bereitstellung von
Verlaufsdaten in grafischer Form": the overview shows every monitored service's
confirmed state, problems first; the history graphs are on each asset's page.

It stays fast for a customer with hundreds of services and thousands of tickets
(``leitstand bench portal``): services are read as plain values in one query,
closed tickets are never loaded, and the SLA clocks of open tickets come from
the shared rule module with their contract, policy and calendar joined in.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leitstand.contracts.models import Asset, Contract, Customer
from leitstand.core.access import customer_required
from leitstand.helpdesk import actions as helpdesk
from leitstand.helpdesk.rules import ClockState
from leitstand.maintenance.models import PlannedWork
from leitstand.monitoring.models import Check
from leitstand.portal import sla

TICKETS_SHOWN = 25
PROBLEMS_SHOWN = 5  # per asset; the asset's own page lists them all
PROBLEMS = ("critical", "down", "unreachable", "warning", "unknown")
STATE_ORDER = {state: i for i, state in enumerate((*PROBLEMS, "ok", "pending"))}
STATE_LABELS = {
    "ok": _("OK"),
    "warning": _("warning"),
    "critical": _("critical"),
    "unknown": _("unknown"),
    "unreachable": _("unreachable"),
    "down": _("down"),
    "pending": _("not checked yet"),
}


def state_label(state: str) -> str:
    """A service state in the user's language."""
    return str(STATE_LABELS.get(state, state))


@dataclass
class Service:
    """One monitored service as the overview shows it."""

    pk: int
    name: str
    state: str
    summary: str
    since: datetime | None

    @property
    def label(self) -> str:
        return state_label(self.state)


@dataclass
class AssetRow:
    """One asset: its package and the state of its services."""

    asset: Asset
    plans: list[str] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)

    @property
    def counts(self) -> list[tuple[str, str, int]]:
        """(state, its label, how many), worst first."""
        counted = Counter(s.state for s in self.services)
        ordered = sorted(counted.items(), key=lambda item: STATE_ORDER.get(item[0], 99))
        return [(state, state_label(state), n) for state, n in ordered]

    @cached_property
    def all_problems(self) -> list[Service]:
        return sorted(
            (s for s in self.services if s.state in PROBLEMS),
            key=lambda s: (STATE_ORDER.get(s.state, 99), s.name),
        )

    @property
    def problems(self) -> list[Service]:
        """The worst few problems; a big server's full list is on its own page."""
        return self.all_problems[:PROBLEMS_SHOWN]

    @property
    def more_problems(self) -> int:
        return max(0, len(self.all_problems) - PROBLEMS_SHOWN)

    @property
    def worst(self) -> str:
        if not self.services:
            return "none"
        return min((s.state for s in self.services), key=lambda s: STATE_ORDER.get(s, 99))


def _in_force(contract: Contract, today: date) -> bool:
    return contract.starts_on <= today and (contract.ends_on is None or contract.ends_on >= today)


def asset_rows(customer: Customer, today: date) -> list[AssetRow]:
    """The customer's assets with the package in force and every enabled service."""
    contracts = Contract.objects.select_related("plan").prefetch_related("addons")
    assets = customer.assets.order_by("name").prefetch_related(
        Prefetch("contracts", queryset=contracts)
    )
    rows = {}
    for asset in assets:
        plans = [
            " + ".join([str(c.plan), *(a.title for a in c.addons.all())])
            for c in asset.contracts.all()
            if _in_force(c, today)
        ]
        rows[asset.pk] = AssetRow(asset, plans)
    services = (
        Check.objects.filter(asset__customer=customer, enabled=True)
        .order_by("name")
        .values_list(
            "asset_id",
            "pk",
            "name",
            "status__hard_state",
            "status__summary",
            "status__last_change_at",
        )
    )
    for asset_id, pk, name, state, summary, since in services:
        rows[asset_id].services.append(Service(pk, name, state or "pending", summary or "", since))
    return list(rows.values())


def open_tickets(
    customer: Customer, now: datetime, assets: dict[int, Asset] | None = None
) -> list[tuple[object, sla.TicketSla]]:
    """Every open ticket with its most urgent SLA clock, worst first.

    Open tickets share a handful of contracts: each contract is loaded once, with
    its policies, calendars and targets, and handed to all of its tickets, so the
    clocks of hundreds of tickets cost a fixed number of queries. ``assets`` are
    the customer's assets when the caller has them loaded already.
    """
    query = customer.tickets.filter(status__in=helpdesk.OPEN).order_by("-created_at")
    if assets is None:
        query = query.select_related("asset")
    tickets = list(query.prefetch_related("waiting_periods"))
    contracts = (
        Contract.objects.select_related("sla_policy__calendar", "plan__sla_policy__calendar")
        .prefetch_related("sla_policy__targets", "plan__sla_policy__targets")
        .in_bulk({t.contract_id for t in tickets if t.contract_id})
    )
    for ticket in tickets:
        if ticket.contract_id:
            ticket.contract = contracts[ticket.contract_id]
        if assets is not None and ticket.asset_id:
            ticket.asset = assets[ticket.asset_id]
    return sla.order((t, sla.summarise(helpdesk.clocks(t, now), now)) for t in tickets)


@customer_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Servers and services with their state, open tickets with SLA state, next maintenance."""
    customer = request.customer  # type: ignore[attr-defined]
    now = timezone.now()
    assets = asset_rows(customer, timezone.localdate(now))
    service_counts = Counter(s.state for row in assets for s in row.services)
    tickets = open_tickets(customer, now, {row.asset.pk: row.asset for row in assets})
    ticket_counts = Counter(summary.state for _, summary in tickets if summary.state)
    upcoming = (
        PlannedWork.objects.filter(assets__customer=customer, ends_at__gt=now)
        .distinct()
        .order_by("starts_at")[:5]
    )
    return render(
        request,
        "portal/dashboard.html",
        {
            "customer": customer,
            "assets": assets,
            "services_total": sum(service_counts.values()),
            "services_ok": service_counts.get("ok", 0),
            "services_problem": sum(service_counts.get(s, 0) for s in PROBLEMS),
            "tickets": tickets[:TICKETS_SHOWN],
            "tickets_total": len(tickets),
            "tickets_breached": ticket_counts.get(ClockState.BREACHED, 0),
            "tickets_paused": ticket_counts.get(ClockState.PAUSED, 0),
            "maintenance": upcoming,
            "now": now,
        },
    )
