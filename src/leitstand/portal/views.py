"""Customer portal. Every query starts from ``request.customer``: another customer's
id answers 404, because it is simply not among the objects looked at."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from leitstand.billing.models import Invoice
from leitstand.contracts.models import Customer
from leitstand.core.access import customer_required
from leitstand.core.templatetags.leitstand import plain
from leitstand.helpdesk import actions as helpdesk
from leitstand.helpdesk import attachments
from leitstand.helpdesk.models import Ticket
from leitstand.maintenance.models import PlannedWork
from leitstand.monitoring.history import check_availability
from leitstand.portal import actions
from leitstand.portal.forms import ReplyForm, TicketForm

FEED_SALT = "leitstand.portal.maintenance-feed"


@customer_required
def asset_detail(request: HttpRequest, asset_id: int) -> HttpResponse:
    """One of the customer's own assets, its services and their availability."""
    customer = request.customer  # type: ignore[attr-defined]
    asset = get_object_or_404(customer.assets, pk=asset_id)
    now = timezone.now()
    checks = [
        (check, check_availability(check, now - timedelta(days=30), now))
        for check in asset.checks.filter(enabled=True).select_related("status")
    ]
    return render(
        request,
        "portal/asset.html",
        {
            "customer": customer,
            "asset": asset,
            "contracts": asset.contracts.select_related("plan").prefetch_related("addons"),
            "checks": checks,
        },
    )


@customer_required
def tickets(request: HttpRequest) -> HttpResponse:
    """All of the customer's tickets, newest first."""
    customer = request.customer  # type: ignore[attr-defined]
    rows = customer.tickets.select_related("asset").order_by("-created_at")[:200]
    return render(request, "portal/tickets.html", {"customer": customer, "tickets": rows})


@customer_required
@require_http_methods(["GET", "POST"])
def ticket_new(request: HttpRequest) -> HttpResponse:
    """Open a ticket; a portal login makes the request verified (seed 000 VIII)."""
    customer = request.customer  # type: ignore[attr-defined]
    form = TicketForm(customer, data=request.POST or None)
    files = attachments.form_uploads(request, form)
    if request.method == "POST" and form.is_valid():
        ticket = helpdesk.open_ticket(
            customer,
            form.cleaned_data["subject"],
            form.cleaned_data["body"],
            channel=Ticket.Channel.PORTAL,
            kind=form.cleaned_data["kind"],
            asset=form.cleaned_data["asset"],
            requester_email=request.user.email,  # type: ignore[union-attr]
            verified=True,
            user=request.user,
        )
        attachments.save_uploads(request, ticket, files, ticket.messages.first())
        return redirect("portal:ticket", number=ticket.number)
    return render(request, "portal/ticket_new.html", {"customer": customer, "form": form})


@customer_required
@require_http_methods(["GET", "POST"])
def ticket_detail(request: HttpRequest, number: str) -> HttpResponse:
    """The thread without internal notes, the SLA clocks, the time recorded."""
    customer = request.customer  # type: ignore[attr-defined]
    ticket = get_object_or_404(customer.tickets, number=number)
    form = ReplyForm(data=request.POST or None)
    files = attachments.form_uploads(request, form)
    if request.method == "POST" and form.is_valid():
        message = actions.customer_reply(ticket, request.user, form.cleaned_data["body"])
        attachments.save_uploads(request, ticket, files, message)
        return redirect("portal:ticket", number=ticket.number)
    return render(
        request,
        "portal/ticket.html",
        {
            "customer": customer,
            "ticket": ticket,
            "messages_": ticket.messages.filter(internal=False).order_by("created_at"),
            "clocks": helpdesk.clocks(ticket),
            "time_entries": ticket.time_entries.order_by("started_at"),
            "form": form,
        },
    )


@customer_required
def invoices(request: HttpRequest) -> HttpResponse:
    """Final invoices and credit notes (drafts are the provider's work in progress)."""
    customer = request.customer  # type: ignore[attr-defined]
    rows = customer.invoices.filter(status=Invoice.Status.FINAL).order_by("-issued_on", "-number")
    return render(request, "portal/invoices.html", {"customer": customer, "invoices": rows})


def _own_invoice(request: HttpRequest, number: str) -> Invoice:
    customer: Customer = request.customer  # type: ignore[attr-defined]
    return get_object_or_404(Invoice, customer=customer, number=number, status=Invoice.Status.FINAL)


@customer_required
def invoice_detail(request: HttpRequest, number: str) -> HttpResponse:
    invoice = _own_invoice(request, number)
    return render(
        request,
        "portal/invoice.html",
        {"customer": request.customer, "invoice": invoice, "lines": invoice.lines.all()},  # type: ignore[attr-defined]
    )


@customer_required
def invoice_csv(request: HttpRequest, number: str) -> HttpResponse:
    """The invoice's lines as CSV (semicolon separated, as German spreadsheets expect)."""
    invoice = _own_invoice(request, number)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.csv"'
    writer = csv.writer(response, delimiter=";")
    writer.writerow(
        ["position", "description", "quantity", "unit", "unit_price", "net", "vat_rate", "vat"]
    )
    for line in invoice.lines.all():
        writer.writerow(
            [
                line.position,
                line.description,
                plain(line.quantity),
                line.unit,
                plain(line.unit_price),
                line.net,
                line.vat_rate,
                line.vat,
            ]
        )
    writer.writerow(["", "total", "", "", "", invoice.net_total, "", invoice.vat_total])
    return response


@customer_required
def maintenance(request: HttpRequest) -> HttpResponse:
    """Announced maintenance on the customer's assets, and the calendar feed address."""
    customer = request.customer  # type: ignore[attr-defined]
    work = (
        PlannedWork.objects.filter(
            assets__customer=customer, ends_at__gt=timezone.now() - timedelta(days=30)
        )
        .distinct()
        .prefetch_related("assets")
        .order_by("starts_at")
    )
    token = signing.dumps(customer.pk, salt=FEED_SALT)
    feed = request.build_absolute_uri(reverse("portal:maintenance-feed", args=[token]))
    return render(
        request, "portal/maintenance.html", {"customer": customer, "work": work, "feed": feed}
    )


def maintenance_feed(request: HttpRequest, token: str) -> HttpResponse:
    """iCalendar feed of a customer's announced maintenance.

    Calendar programs cannot log in, so the address itself is the secret: a
    signed customer id. A forged or altered token answers 404.
    """
    try:
        customer_id = signing.loads(token, salt=FEED_SALT)
    except signing.BadSignature:
        raise Http404 from None
    customer = get_object_or_404(Customer, pk=customer_id)
    work = (
        PlannedWork.objects.filter(assets__customer=customer).distinct().prefetch_related("assets")
    )
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")

    def utc(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    def text(value: str) -> str:
        # RFC 5545 3.3.11: backslash, semicolon, comma and newline are escaped.
        for raw, escaped in (("\\", "\\\\"), (";", "\\;"), (",", "\\,"), ("\n", "\\n")):
            value = value.replace(raw, escaped)
        return value

    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Leitstand//Maintenance//EN",
        "CALSCALE:GREGORIAN",
    ]
    for item in work:
        assets = ", ".join(a.name for a in item.assets.all() if a.customer_id == customer.pk)
        description = f"{item.description}\n{assets}" if item.description else assets
        lines += [
            "BEGIN:VEVENT",
            f"UID:planned-work-{item.pk}@leitstand",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{utc(item.starts_at)}",
            f"DTEND:{utc(item.ends_at)}",
            f"SUMMARY:{text(item.title)}",
            f"DESCRIPTION:{text(description)}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return HttpResponse("\r\n".join(lines) + "\r\n", content_type="text/calendar; charset=utf-8")
