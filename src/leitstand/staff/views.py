"""Back office: overview of customers and the catalog, the monitoring board."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from leitstand.billing.models import RateCard
from leitstand.contracts.models import Asset, Customer, Plan
from leitstand.core.access import staff_required
from leitstand.monitoring.history import check_availability
from leitstand.monitoring.models import Check
from leitstand.operations.models import Agent
from leitstand.sla.models import SlaPolicy
from leitstand.staff import monitoring


@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Customers with their asset counts, and the offer in force."""
    customers = Customer.objects.annotate(asset_count=Count("assets", distinct=True))
    return render(
        request,
        "staff/dashboard.html",
        {
            "customers": customers,
            "plans": Plan.objects.select_related("sla_policy", "rate_card"),
            "policies": SlaPolicy.objects.select_related("calendar").prefetch_related("targets"),
            "rate_cards": RateCard.objects.prefetch_related("rates"),
        },
    )


@staff_required
def customer_detail(request: HttpRequest, number: str) -> HttpResponse:
    """One customer: contacts, assets and their contracts."""
    customer = get_object_or_404(Customer, number=number)
    return render(
        request,
        "staff/customer.html",
        {
            "customer": customer,
            "contacts": customer.contacts.prefetch_related("verified_emails"),
            "assets": customer.assets.prefetch_related("contracts__plan", "checks"),
        },
    )


# --- monitoring -------------------------------------------------------------


def _board_context(request: HttpRequest) -> dict[str, Any]:
    form = monitoring.board_filter(request.GET)
    now = timezone.now()
    page = monitoring.board_page(form, request.GET.get("page"), now)
    # The partial keeps the filters (not the page number: polling stays on the
    # page the operator is looking at, the links carry it).
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "form": form,
        "page": page,
        "now": now,
        "filters": query.urlencode(),
        "query": request.GET.urlencode(),
        "state_labels": monitoring.STATE_LABELS,
    }


@staff_required
def monitoring_board(request: HttpRequest) -> HttpResponse:
    """Every enabled check of every customer, problems first."""
    return render(request, "staff/monitoring/board.html", _board_context(request))


@staff_required
def monitoring_board_rows(request: HttpRequest) -> HttpResponse:
    """The board's table alone: what htmx fetches every 30 seconds."""
    return render(request, "staff/monitoring/_board.html", _board_context(request))


def _range_links(range_key: str) -> list[dict[str, Any]]:
    return [
        {"key": key, "label": label, "current": key == range_key}
        for key, label in monitoring.RANGE_LABELS.items()
    ]


@staff_required
def monitoring_check(request: HttpRequest, pk: int) -> HttpResponse:
    """One check: state, availability and latency over a range, recent events."""
    now = timezone.now()
    check = get_object_or_404(monitoring.board_checks(now), pk=pk)
    range_key = monitoring.parse_range(request.GET.get("range"))
    span = monitoring.RANGES[range_key]
    _series, summary = monitoring.check_series(check, range_key, now)
    return render(
        request,
        "staff/monitoring/check.html",
        {
            "check": check,
            "range_key": range_key,
            "ranges": _range_links(range_key),
            "range_label": monitoring.RANGE_LABELS[range_key],
            "availability": check_availability(check, now - span, now),
            "summary": summary,
            "events": check.events.all()[:20],
            "state_labels": monitoring.STATE_LABELS,
        },
    )


def _json_range(request: HttpRequest) -> str | None:
    value = request.GET.get("range", monitoring.DEFAULT_RANGE)
    return value if value in monitoring.RANGES else None


def _bad_range() -> JsonResponse:
    return JsonResponse({"error": "unknown range", "ranges": list(monitoring.RANGES)}, status=400)


@staff_required
def monitoring_check_series(request: HttpRequest, pk: int) -> HttpResponse:
    """Chart data of one check (JSON for uPlot)."""
    check = get_object_or_404(Check, pk=pk)
    if (range_key := _json_range(request)) is None:
        return _bad_range()
    series, _summary = monitoring.check_series(check, range_key, timezone.now())
    return JsonResponse(series)


@staff_required
def monitoring_asset(request: HttpRequest, pk: int) -> HttpResponse:
    """One asset (host): its checks and, with an agent, its metric graphs."""
    asset = get_object_or_404(Asset.objects.select_related("customer"), pk=pk)
    agent = Agent.objects.filter(asset=asset).first()
    range_key = monitoring.parse_range(request.GET.get("range"))
    now = timezone.now()
    return render(
        request,
        "staff/monitoring/asset.html",
        {
            "asset": asset,
            "agent": agent,
            "checks": monitoring.board_checks(now).filter(asset=asset),
            "range_key": range_key,
            "ranges": _range_links(range_key),
            "range_label": monitoring.RANGE_LABELS[range_key],
            "metrics": monitoring.host_summary(agent, range_key, now) if agent else [],
            "state_labels": monitoring.STATE_LABELS,
        },
    )


@staff_required
def monitoring_asset_metrics(request: HttpRequest, pk: int) -> HttpResponse:
    """Chart data of one asset's agent metrics (JSON for uPlot); 404 without an agent."""
    agent = get_object_or_404(Agent, asset_id=pk)
    if (range_key := _json_range(request)) is None:
        return _bad_range()
    return JsonResponse(monitoring.host_series(agent, range_key, timezone.now()))
