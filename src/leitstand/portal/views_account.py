"""The customer's people and licences: who may order paid work, whose address is
verified, how many accounts are used against the booked limits; changes to
either are asked for as change-request tickets.

Every query starts from ``request.customer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib import messages
from django.db.models import Max, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from leitstand.contracts.models import AddOn, Asset, Contract, Customer, VerifiedEmail
from leitstand.core.access import customer_required
from leitstand.operations.licences import Usage, limit
from leitstand.operations.models import LicenceUsage
from leitstand.portal import requests
from leitstand.portal.forms_requests import ContactChangeForm, LicenceExpansionForm

PEAK_OVER = timedelta(days=30)


@customer_required
def contacts(request: HttpRequest) -> HttpResponse:
    """Seed 001 §4 "die weisungsberechtigten Mitarbeiter", seed 000 VIII the e-mail
    address "registered in the customer account": the people, their roles and
    which of their addresses are verified, and since when."""
    customer = request.customer  # type: ignore[attr-defined]
    people = customer.contacts.order_by("name").prefetch_related(
        Prefetch("verified_emails", queryset=VerifiedEmail.objects.order_by("address"))
    )
    users = customer.users.filter(is_active=True).order_by("login")
    return render(
        request,
        "portal/contacts.html",
        {"customer": customer, "contacts": people, "users": users, "section": "contacts"},
    )


@customer_required
@require_http_methods(["GET", "POST"])
def contact_change(request: HttpRequest) -> HttpResponse:
    """Ask for a change of contacts; the portal login verifies the request."""
    customer = request.customer  # type: ignore[attr-defined]
    initial = {}
    wanted = request.GET.get("contact", "")
    if wanted.isdigit() and customer.contacts.filter(pk=int(wanted)).exists():
        initial = {"contact": int(wanted), "change": "details"}
    form = ContactChangeForm(customer, data=request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        ticket = requests.request_contact_change(customer, request.user, form.cleaned_data)
        messages.success(
            request,
            _("Your change request %(number)s was sent. We confirm the change there.")
            % {"number": ticket.number},
        )
        return redirect("portal:ticket", number=ticket.number)
    return render(
        request,
        "portal/contact_change.html",
        {"customer": customer, "form": form, "section": "contacts"},
    )


@dataclass
class LicenceRow:
    """One contract's limits and usage."""

    asset: Asset
    contract: Contract
    accounts: Usage
    concurrent: Usage
    concurrent_latest: int | None
    measured_at: datetime | None
    expansions: list[AddOn]


def _active(customer: Customer, today: object) -> list[Contract]:
    return list(
        Contract.objects.filter(asset__customer=customer, starts_on__lte=today)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .select_related("asset", "plan")
        .prefetch_related("addons", "plan__addons")
        .order_by("asset__name")
    )


def licence_rows(customer: Customer, now: datetime) -> list[LicenceRow]:
    """Seed 000 VI: limits "determined by the booked service type" plus booked
    expansions, against the latest count of accounts and the peak of concurrent
    users over the last 30 days."""
    rows = []
    for contract in _active(customer, timezone.localdate(now)):
        booked = list(contract.addons.all())
        latest = (
            LicenceUsage.objects.filter(asset=contract.asset_id, measured_at__lte=now)
            .order_by("-measured_at")
            .first()
        )
        accounts = (
            LicenceUsage.objects.filter(
                asset=contract.asset_id, measured_at__lte=now, user_accounts__isnull=False
            )
            .order_by("-measured_at")
            .values_list("user_accounts", flat=True)
            .first()
        )
        peak = LicenceUsage.objects.filter(
            asset=contract.asset_id, measured_at__gt=now - PEAK_OVER, measured_at__lte=now
        ).aggregate(peak=Max("concurrent_users"))["peak"]
        plan = contract.plan
        rows.append(
            LicenceRow(
                asset=contract.asset,
                contract=contract,
                accounts=Usage(
                    accounts,
                    limit(plan.max_user_accounts, (a.extra_user_accounts for a in booked)),
                ),
                concurrent=Usage(
                    peak,
                    limit(plan.max_concurrent_users, (a.extra_concurrent_users for a in booked)),
                ),
                concurrent_latest=latest.concurrent_users if latest else None,
                measured_at=latest.measured_at if latest else None,
                expansions=[
                    a
                    for a in plan.addons.all()
                    if (a.extra_user_accounts or a.extra_concurrent_users) and a not in booked
                ],
            )
        )
    return rows


@customer_required
def licences(request: HttpRequest) -> HttpResponse:
    """Licence usage against the limits, per booked server or service."""
    customer = request.customer  # type: ignore[attr-defined]
    return render(
        request,
        "portal/licences.html",
        {
            "customer": customer,
            "rows": licence_rows(customer, timezone.now()),
            "section": "licences",
        },
    )


@customer_required
@require_http_methods(["GET", "POST"])
def licence_expand(request: HttpRequest) -> HttpResponse:
    """Ask for more accounts or concurrent users; billing prices the ticket's add-on."""
    customer = request.customer  # type: ignore[attr-defined]
    contracts = _active(customer, timezone.localdate())
    assets = customer.assets.filter(pk__in=[c.asset_id for c in contracts])
    offered = [
        a
        for c in contracts
        for a in c.plan.addons.all()
        if (a.extra_user_accounts or a.extra_concurrent_users) and a not in c.addons.all()
    ]
    unique = list({a.pk: a for a in offered}.values())
    initial = {}
    wanted = request.GET.get("asset", "")
    if wanted.isdigit() and assets.filter(pk=int(wanted)).exists():
        initial["asset"] = int(wanted)
    form = LicenceExpansionForm(assets, unique, data=request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ticket = requests.request_licence_expansion(
            data["asset"],
            request.user,
            addon=data["addon_obj"],
            extra_user_accounts=data.get("extra_user_accounts"),
            extra_concurrent_users=data.get("extra_concurrent_users"),
            note=data.get("note") or "",
        )
        messages.success(
            request,
            _("Your request %(number)s was sent; the expansion is charged once it is booked.")
            % {"number": ticket.number},
        )
        return redirect("portal:ticket", number=ticket.number)
    return render(
        request,
        "portal/licence_expand.html",
        {"customer": customer, "form": form, "addons": unique, "section": "licences"},
    )
