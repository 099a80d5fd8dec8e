"""Back office of billing (/staff/billing/): the month's run, review, finalising, credit notes.

Issue 7 item 2: "Monthly invoice run per customer: draft, review by staff,
finalise. ... Corrections are credit notes." Views parse, authorise (staff
only), call one action from :mod:`leitstand.billing.actions` or
:mod:`leitstand.billing.review`, and redirect with a message.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from leitstand.billing import actions, documents, exports, invoicing, review, tasks
from leitstand.billing.forms import (
    CreditNoteForm,
    ExportForm,
    LineEditForm,
    LineRemoveForm,
    PeriodForm,
)
from leitstand.billing.models import Invoice, InvoiceDocument
from leitstand.billing.portal_views import document_response
from leitstand.core.access import staff_required

PAGE = 100


def _last_month() -> date:
    first = timezone.localdate().replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def _month(request: HttpRequest) -> tuple[date, PeriodForm]:
    form = PeriodForm(request.GET or {"month": f"{_last_month():%Y-%m}"})
    if form.is_valid():
        return form.cleaned_data["month"], form
    return _last_month(), form


def _in_month(month: date) -> Q:
    first, last = invoicing.month_bounds(month.year, month.month)
    return Q(period_start__gte=first, period_start__lte=last)


def _back(month: date) -> HttpResponse:
    return redirect(f"{reverse('billing:index')}?month={month:%Y-%m}")


@staff_required
def index(request: HttpRequest) -> HttpResponse:
    """The month: run it, its drafts with totals and warnings, its final invoices."""
    month, form = _month(request)
    invoices = (
        Invoice.objects.filter(_in_month(month))
        .select_related("customer", "corrects")
        .annotate(line_count=Count("lines"))
        .order_by("status", "customer__number", "kind", "number")
    )
    drafts = invoices.filter(status=Invoice.Status.DRAFT)
    # Summed here, not by the database: SQLite sums decimals as floats.
    summary = {"net": Decimal("0.00"), "vat": Decimal("0.00"), "gross": Decimal("0.00")}
    for net, vat, gross in drafts.values_list("net_total", "vat_total", "gross_total"):
        summary["net"] += net
        summary["vat"] += vat
        summary["gross"] += gross
    page = Paginator(invoices, PAGE).get_page(request.GET.get("page"))
    rows = [(invoice, review.warnings(invoice, deep=False)) for invoice in page]
    return render(
        request,
        "billing/staff_index.html",
        {
            "form": form,
            "month": month,
            "page": page,
            "rows": rows,
            "draft_count": drafts.count(),
            "summary": summary,
            "export_form": ExportForm(initial={"start": f"{month:%Y-%m}", "end": f"{month:%Y-%m}"}),
        },
    )


@staff_required
@require_POST
def run(request: HttpRequest) -> HttpResponse:
    """Draft (or re-draft) every customer's invoice for the month."""
    form = PeriodForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a month as YYYY-MM, e.g. 2026-11."))
        return redirect("billing:index")
    month: date = form.cleaned_data["month"]
    count = actions.run_month(month.year, month.month)
    messages.success(
        request,
        ngettext("%(count)d draft for %(month)s.", "%(count)d drafts for %(month)s.", count)
        % {"count": count, "month": f"{month:%Y-%m}"},
    )
    return _back(month)


@staff_required
@require_POST
def finalise_all(request: HttpRequest) -> HttpResponse:
    """Finalise every draft of the month that has lines, one transaction each."""
    form = PeriodForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a month as YYYY-MM, e.g. 2026-11."))
        return redirect("billing:index")
    month: date = form.cleaned_data["month"]
    drafts = list(
        Invoice.objects.filter(_in_month(month), status=Invoice.Status.DRAFT)
        .filter(lines__isnull=False)
        .distinct()
        .order_by("customer__number")
    )
    if len(drafts) > tasks.IN_REQUEST:
        tasks.finalise_drafts.enqueue([d.pk for d in drafts])
        messages.info(
            request,
            _("%(count)d drafts are being finalised in the background; reload this page to follow.")
            % {"count": len(drafts)},
        )
        return _back(month)
    outcome = review.finalise_all(drafts)
    messages.success(
        request,
        ngettext(
            "%(count)d invoice finalised.",
            "%(count)d invoices finalised.",
            len(outcome.finalised),
        )
        % {"count": len(outcome.finalised)},
    )
    for invoice, problem in outcome.failed:
        messages.error(
            request,
            _("%(customer)s not finalised: %(problem)s")
            % {"customer": invoice.customer, "problem": problem},
        )
    return _back(month)


def _invoice(pk: int) -> Invoice:
    return get_object_or_404(Invoice.objects.select_related("customer", "corrects"), pk=pk)


def _credit_limit(invoice: Invoice) -> Decimal:
    credited = sum(invoice.credit_notes.values_list("net_total", flat=True), Decimal("0.00"))
    return max(Decimal("0.00"), invoice.net_total + credited)


@staff_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One invoice: lines with the time entries behind them, warnings, changes, documents."""
    invoice = _invoice(pk)
    lines = invoice.lines.prefetch_related("time_entries__ticket", "time_entries__user")
    is_draft = invoice.status == Invoice.Status.DRAFT
    return render(
        request,
        "billing/staff_invoice.html",
        {
            "invoice": invoice,
            "lines": lines,
            "is_draft": is_draft,
            "warnings": review.warnings(invoice) if is_draft else [],
            "changes": invoice.line_changes.select_related("changed_by"),
            "documents": invoice.documents.defer("content").order_by("kind"),
            "credit_notes": invoice.credit_notes.order_by("number"),
            "credit_form": CreditNoteForm(limit=_credit_limit(invoice)),
            "credit_limit": _credit_limit(invoice),
            "kinds": InvoiceDocument.Kind,
        },
    )


@staff_required
@require_POST
def edit_line(request: HttpRequest, pk: int, position: int) -> HttpResponse:
    """Correct a draft line (text, quantity, price) with a reason."""
    invoice = _invoice(pk)
    form = LineEditForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(str(e) for e in errors)}")
        return redirect("billing:invoice", pk=pk)
    try:
        review.edit_line(invoice, position, user=request.user, **form.cleaned_data)
    except review.ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Line %(position)d changed.") % {"position": position})
    return redirect("billing:invoice", pk=pk)


@staff_required
@require_POST
def remove_line(request: HttpRequest, pk: int, position: int) -> HttpResponse:
    """Remove a draft line with a reason."""
    invoice = _invoice(pk)
    form = LineRemoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please give a reason for the change."))
        return redirect("billing:invoice", pk=pk)
    try:
        review.remove_line(invoice, position, reason=form.cleaned_data["reason"], user=request.user)
    except review.ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Line %(position)d removed.") % {"position": position})
    return redirect("billing:invoice", pk=pk)


@staff_required
@require_POST
def finalise(request: HttpRequest, pk: int) -> HttpResponse:
    """Finalise one draft: number, immutable, documents stored."""
    invoice = _invoice(pk)
    if invoice.status == Invoice.Status.FINAL:
        messages.info(request, _("The invoice is already final."))
        return redirect("billing:invoice", pk=pk)
    try:
        final = actions.finalise(invoice)
    except documents.DocumentError as exc:
        messages.error(request, _("Not finalised: %(problem)s") % {"problem": exc})
    else:
        messages.success(request, _("Invoice %(number)s finalised.") % {"number": final.number})
    return redirect("billing:invoice", pk=pk)


@staff_required
@require_POST
def credit_note(request: HttpRequest, pk: int) -> HttpResponse:
    """Issue a final credit note against a final invoice."""
    invoice = _invoice(pk)
    if invoice.status != Invoice.Status.FINAL or invoice.kind != Invoice.Kind.INVOICE:
        messages.error(request, _("Only a final invoice can be corrected by a credit note."))
        return redirect("billing:invoice", pk=pk)
    form = CreditNoteForm(request.POST, limit=_credit_limit(invoice))
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(e) for e in errors))
        return redirect("billing:invoice", pk=pk)
    try:
        note = actions.credit_note(
            invoice, [(form.cleaned_data["description"], form.cleaned_data["amount"])]
        )
    except documents.DocumentError as exc:
        messages.error(request, _("Not issued: %(problem)s") % {"problem": exc})
        return redirect("billing:invoice", pk=pk)
    messages.success(request, _("Credit note %(number)s issued.") % {"number": note.number})
    return redirect("billing:invoice", pk=note.pk)


@staff_required
def document(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """A stored document of a final invoice, or a draft's PDF preview (never stored)."""
    invoice = _invoice(pk)
    if kind not in InvoiceDocument.Kind.values:
        raise Http404
    if invoice.status == Invoice.Status.FINAL:
        return document_response(invoice, kind)
    if kind != InvoiceDocument.Kind.PDF:
        raise Http404
    response = HttpResponse(
        documents.render_pdf(invoice, draft=True), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="draft-{invoice.pk}.pdf"'
    return response


@staff_required
def export(request: HttpRequest) -> HttpResponse:
    """All invoice items of a period and customer selection as CSV, streamed."""
    form = ExportForm(request.GET)
    if not form.is_valid():
        month, _period = _month(request)
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return _back(month)
    start: date = form.cleaned_data["start"]
    end: date = form.cleaned_data["end"]
    dialect = form.dialect_()
    lines = exports.lines_for(
        start=start, end=end, customers=form.customer_numbers(), statuses=form.statuses()
    )
    response = StreamingHttpResponse(
        exports.stream(lines, dialect), content_type="text/csv; charset=utf-8"
    )
    name = f"invoice-items-{start:%Y-%m}-{end:%Y-%m}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    # A streamed response is a response like any other to the access decorator.
    return cast(HttpResponse, response)
