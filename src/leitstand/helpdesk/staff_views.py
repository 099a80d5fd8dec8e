"""Back-office pages of the helpdesk: the queues, the ticket page and its quick
actions, the phone-call form, attachment downloads.

Issue 6 item 7: "queues (mine, unassigned, breaching soon, waiting), ticket page
with the whole thread and SLA state, quick actions". Views parse, authorise
(staff only, :func:`~leitstand.core.access.staff_required`), call one action
from ``actions`` and redirect (POST/redirect/GET); bad input shows the form
again with its message and keeps what was typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leitstand.accounts.models import User
from leitstand.contracts.models import Asset, Contact, Customer
from leitstand.core.access import staff_required
from leitstand.helpdesk import actions, attachments, queues
from leitstand.helpdesk.models import Attachment, Message, RunningTimer, Ticket, TicketEvent

STATUS_ACTIONS = [
    (Ticket.Status.OPEN, gettext_lazy("Open")),
    (Ticket.Status.WAITING, gettext_lazy("Waiting for the customer")),
    (Ticket.Status.RESOLVED, gettext_lazy("Resolved")),
    (Ticket.Status.CLOSED, gettext_lazy("Closed")),
]
EVENT_LABELS = {
    "assignee": gettext_lazy("Assignee"),
    "status": gettext_lazy("State"),
    "priority": gettext_lazy("Priority"),
    "diagnosed_at": gettext_lazy("Diagnosed"),
    "restored_at": gettext_lazy("Restored"),
    "out_of_scope": gettext_lazy("Outside the service scope"),
}
MAX_MINUTES = 24 * 60
CLOCK_STATES = {
    "not_started": gettext_lazy("not started"),
    "running": gettext_lazy("running"),
    "warning": gettext_lazy("breaching soon"),
    "paused": gettext_lazy("paused"),
    "met": gettext_lazy("met"),
    "breached": gettext_lazy("breached"),
}


def staff_users() -> Any:
    """Who can be assigned: active provider staff (no customer users)."""
    return User.objects.filter(is_staff=True, is_active=True, customer__isnull=True).order_by(
        "username"
    )


# --- forms -----------------------------------------------------------------


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=gettext_lazy("Assignee"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("nobody"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_users()  # type: ignore[attr-defined]


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("State"), choices=STATUS_ACTIONS)


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(label=gettext_lazy("Priority"), choices=())

    def __init__(self, ticket: Ticket, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        policy = actions.policy_of(ticket)
        names = policy.priorities() if policy is not None else []
        self.fields["priority"].choices = [(p, p) for p in names]  # type: ignore[attr-defined]


class TextForm(forms.Form):
    body = forms.CharField(label=gettext_lazy("Text"), widget=forms.Textarea(attrs={"rows": 6}))


class TimeForm(forms.Form):
    work_type = forms.ChoiceField(label=gettext_lazy("Work type"), choices=())
    minutes = forms.IntegerField(
        label=gettext_lazy("Minutes"), min_value=1, max_value=MAX_MINUTES, required=False
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=500, required=False)

    def __init__(self, ticket: Ticket, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["work_type"].choices = [(w, w) for w in actions.work_types(ticket)]  # type: ignore[attr-defined]


class ScopeForm(forms.Form):
    out_of_scope = forms.BooleanField(required=False)


class MilestoneForm(forms.Form):
    field = forms.ChoiceField(
        choices=[
            ("diagnosed_at", gettext_lazy("Diagnosed")),
            ("restored_at", gettext_lazy("Restored")),
        ]
    )


class PhoneTicketForm(forms.Form):
    """A call taken by staff (issue 6 item 2)."""

    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Ticket.Kind.choices)
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=300)
    body = forms.CharField(
        label=gettext_lazy("What the caller said"), widget=forms.Textarea(attrs={"rows": 8})
    )
    asset = forms.ModelChoiceField(
        label=gettext_lazy("Server or service"), queryset=Asset.objects.none(), required=False
    )
    requester = forms.ModelChoiceField(
        label=gettext_lazy("Caller"), queryset=Contact.objects.none(), required=False
    )
    verified = forms.BooleanField(
        label=gettext_lazy("The caller identified as this contact"), required=False
    )
    priority = forms.CharField(label=gettext_lazy("Priority"), max_length=50, required=False)

    def __init__(self, customer: Customer, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["asset"].queryset = customer.assets.all()  # type: ignore[attr-defined]
        self.fields["requester"].queryset = customer.contacts.all()  # type: ignore[attr-defined]


class CustomerPickForm(forms.Form):
    customer = forms.CharField(label=gettext_lazy("Customer number"), max_length=20)

    def clean_customer(self) -> Customer:
        number = self.cleaned_data["customer"].strip()
        customer = Customer.objects.filter(number__iexact=number).first()
        if customer is None:
            raise forms.ValidationError(
                gettext_lazy("No customer has the number %(number)s."), params={"number": number}
            )
        return customer


# --- queues ----------------------------------------------------------------


@staff_required
@require_GET
def queue(request: HttpRequest, key: str = queues.DEFAULT_QUEUE) -> HttpResponse:
    """One queue, filtered and paginated; htmx asks for the table alone."""
    if key not in queues.QUEUES:
        key = queues.DEFAULT_QUEUE
    now = timezone.now()
    form = queues.base_filters({k: v for k, v in request.GET.items() if k != "page"})
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        filters = {
            "customer": form.cleaned_data["customer"],
            "priority": form.cleaned_data["priority"].strip(),
            "kind": form.cleaned_data["kind"],
        }
    horizon = queues.horizon_of(form)
    rows = queues.tickets_in(key, request.user, now, horizon=horizon, **filters)
    if form.is_bound and not form.is_valid():
        rows = rows.none()  # a filter that cannot be applied shows nothing, not everything
    page = queues.CappedPaginator(rows, queues.PAGE_SIZE).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in request.GET.items() if k != "page" and v})
    context = {
        "nav": "tickets",
        "key": key,
        "queue": queues.QUEUES[key],
        "queues": queues.QUEUES.values(),
        "form": form,
        "page": page,
        "rows": queues.rows(list(page.object_list), now),
        "filters": query,
        "horizon": queues.format_span(horizon),
        "now": now,
        "priorities": queues.priorities(),
        "cap": f"{queues.COUNT_CAP:,}",
    }
    if request.headers.get("HX-Request"):
        return render(request, "helpdesk/staff/_queue_table.html", context)
    return render(request, "helpdesk/staff/queue.html", context)


# --- the ticket page -------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One line of the thread: a message, a system event, or a file."""

    at: datetime
    kind: str  # "customer", "staff", "note", "system", "event"
    message: Message | None = None
    event: TicketEvent | None = None


def thread(ticket: Ticket) -> list[Entry]:
    """Messages and events in time order; files hang on their messages."""
    entries: list[Entry] = []
    for m in ticket.messages.select_related("author_user", "author_contact").prefetch_related(
        "attachments"
    ):
        if m.internal:
            kind = "note"
        elif m.channel == Ticket.Channel.MONITORING or (
            m.author_user_id is None and m.author_contact_id is None and not m.author_email
        ):
            kind = "system"
        elif m.author_user_id is not None and getattr(m.author_user, "customer_id", None) is None:
            kind = "staff"
        else:
            kind = "customer"
        entries.append(Entry(m.created_at, kind, message=m))
    for e in ticket.events.select_related("user"):
        entries.append(Entry(e.at, "event", event=e))
    entries.sort(key=lambda x: (x.at, 0 if x.message else 1))
    return entries


def _ticket(number: str) -> Ticket:
    return get_object_or_404(
        Ticket.objects.select_related(
            "customer", "asset", "contract__plan", "assignee", "requester"
        ),
        number=number,
    )


def _render_ticket(
    request: HttpRequest, ticket: Ticket, *, status: int = 200, **bound: forms.Form
) -> HttpResponse:
    now = timezone.now()
    waiting = [
        (p.started_at, p.ended_at, (p.ended_at or now) - p.started_at)
        for p in ticket.waiting_periods.all()
    ]
    entries = ticket.time_entries.select_related("user").order_by("started_at")
    totals = entries.aggregate(total=Sum("seconds"))
    billable = entries.filter(billable=True).aggregate(total=Sum("seconds"))
    timer = RunningTimer.objects.filter(ticket=ticket, user=cast("User", request.user)).first()
    clocks = actions.clocks(ticket, now)
    context = {
        "nav": "tickets",
        "ticket": ticket,
        "thread": thread(ticket),
        "clocks": [
            (
                c,
                queues.target_label(c.target),
                _clock_remaining(c, now),
                queues.format_span(c.within),
                CLOCK_STATES.get(str(c.state), c.state),
            )
            for c in clocks
        ],
        "policy": actions.policy_of(ticket),
        "waiting": waiting,
        "entries": entries,
        "total_minutes": (totals["total"] or 0) // 60,
        "billable_minutes": (billable["total"] or 0) // 60,
        "timer": timer,
        "timer_minutes": int((now - timer.started_at).total_seconds() // 60) if timer else 0,
        "files": ticket.attachments.select_related("uploaded_by", "message"),
        "assign_form": bound.get("assign") or AssignForm(initial={"assignee": ticket.assignee_id}),
        "status_form": bound.get("state") or StatusForm(initial={"status": ticket.status}),
        "priority_form": bound.get("priority")
        or PriorityForm(ticket, initial={"priority": ticket.priority}),
        "reply_form": bound.get("reply") or TextForm(prefix="reply"),
        "note_form": bound.get("note") or TextForm(prefix="note"),
        "time_form": bound.get("time") or TimeForm(ticket),
        "status_actions": STATUS_ACTIONS,
        "event_labels": EVENT_LABELS,
        "max_bytes": attachments.human_size(attachments.max_bytes()),
        "now": now,
    }
    return render(request, "helpdesk/staff/ticket.html", context, status=status)


def _clock_remaining(clock: Any, now: datetime) -> str:
    """Consumed share and what is left, for the SLA table."""
    if clock.used is None or clock.achieved_at is not None or clock.deadline is None:
        return ""
    left = clock.within * max(0.0, 1 - clock.used)
    if clock.deadline <= now:
        return _("overdue by %(span)s") % {"span": queues.format_span(now - clock.deadline)}
    return _("%(used)d %% used, %(span)s left") % {
        "used": round(clock.used * 100),
        "span": queues.format_span(left),
    }


@staff_required
@require_GET
def ticket_detail(request: HttpRequest, number: str) -> HttpResponse:
    """The whole thread, SLA state, contract and asset, time, and the quick actions."""
    return _render_ticket(request, _ticket(number))


def _done(request: HttpRequest, ticket: Ticket, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("tickets:ticket", number=ticket.number)


def _refused(request: HttpRequest, ticket: Ticket, text: str) -> HttpResponse:
    messages.error(request, text)
    return redirect("tickets:ticket", number=ticket.number)


@staff_required
@require_POST
def ticket_assign(request: HttpRequest, number: str) -> HttpResponse:
    """Assign to me (button ``me``) or to the chosen person (or nobody)."""
    ticket = _ticket(number)
    if request.POST.get("me"):
        actions.assign(ticket, request.user, request.user)
        return _done(request, ticket, _("The ticket is assigned to you."))
    form = AssignForm(request.POST)
    if not form.is_valid():
        return _render_ticket(request, ticket, status=400, assign=form)
    actions.assign(ticket, request.user, form.cleaned_data["assignee"])
    return _done(request, ticket, _("Assignee changed."))


@staff_required
@require_POST
def ticket_status(request: HttpRequest, number: str) -> HttpResponse:
    """Change the state; waiting for the customer stops the SLA clocks."""
    ticket = _ticket(number)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _render_ticket(request, ticket, status=400, state=form)
    actions.change_status(ticket, request.user, form.cleaned_data["status"])
    return _done(request, ticket, _("State changed."))


@staff_required
@require_POST
def ticket_priority(request: HttpRequest, number: str) -> HttpResponse:
    """A new priority under the contract's SLA policy; the clocks follow."""
    ticket = _ticket(number)
    form = PriorityForm(ticket, request.POST)
    if not form.is_valid():
        return _render_ticket(request, ticket, status=400, priority=form)
    try:
        actions.change_priority(ticket, request.user, form.cleaned_data["priority"])
    except ValueError:
        return _refused(request, ticket, _("This priority is not defined by the SLA policy."))
    return _done(request, ticket, _("Priority changed; the SLA deadlines were computed again."))


def _files(request: HttpRequest) -> tuple[list[Any], list[str]]:
    files = request.FILES.getlist("files")
    return files, attachments.check_uploads(files)


@staff_required
@require_POST
def ticket_reply(request: HttpRequest, number: str) -> HttpResponse:
    """Answer the customer; the reply goes out by e-mail to the requester."""
    ticket = _ticket(number)
    form = TextForm(request.POST, prefix="reply")
    files, problems = _files(request)
    for problem in problems:
        form.add_error(None, problem)
    if not form.is_valid():
        return _render_ticket(request, ticket, status=400, reply=form)
    try:
        _message, mailed = actions.staff_reply(
            ticket, request.user, form.cleaned_data["body"], files=files
        )
    except attachments.AttachmentError as exc:
        form.add_error(None, str(exc))
        return _render_ticket(request, ticket, status=400, reply=form)
    except actions.MailNotSent:
        form.add_error(
            None,
            _(
                "The e-mail could not be sent, so the reply was not saved. "
                "Your text is still here; please try again."
            ),
        )
        return _render_ticket(request, ticket, status=502, reply=form)
    if mailed:
        return _done(request, ticket, _("Reply sent to the customer."))
    messages.warning(
        request,
        _("Reply saved; the ticket has no e-mail address, so it was not mailed."),
    )
    return redirect("tickets:ticket", number=ticket.number)


@staff_required
@require_POST
def ticket_note(request: HttpRequest, number: str) -> HttpResponse:
    """An internal note (never shown to the customer)."""
    ticket = _ticket(number)
    form = TextForm(request.POST, prefix="note")
    files, problems = _files(request)
    for problem in problems:
        form.add_error(None, problem)
    if not form.is_valid():
        return _render_ticket(request, ticket, status=400, note=form)
    try:
        actions.internal_note(ticket, request.user, form.cleaned_data["body"], files=files)
    except attachments.AttachmentError as exc:
        form.add_error(None, str(exc))
        return _render_ticket(request, ticket, status=400, note=form)
    return _done(request, ticket, _("Internal note added."))


@staff_required
@require_POST
def ticket_time(request: HttpRequest, number: str) -> HttpResponse:
    """Record time: ``action`` is ``log`` (minutes), ``start`` or ``stop`` (the timer)."""
    ticket = _ticket(number)
    form = TimeForm(ticket, request.POST)
    action = request.POST.get("action", "log")
    if action == "stop":
        try:
            entry = actions.stop_timer(ticket, request.user, note=request.POST.get("note", ""))
        except ValueError:
            return _refused(request, ticket, _("No timer is running for you on this ticket."))
        if entry is None:
            return _done(request, ticket, _("Timer stopped; less than a second, nothing recorded."))
        return _done(
            request,
            ticket,
            _("Timer stopped: %(minutes)d min recorded.") % {"minutes": entry.seconds // 60},
        )
    if not form.is_valid():
        return _render_ticket(request, ticket, status=400, time=form)
    work_type = form.cleaned_data["work_type"]
    if action == "start":
        try:
            actions.start_timer(ticket, request.user, work_type)
        except ValueError:
            return _refused(
                request, ticket, _("A timer is already running for you on this ticket.")
            )
        return _done(request, ticket, _("Timer started."))
    minutes = form.cleaned_data["minutes"]
    if not minutes:
        form.add_error("minutes", _("Enter the minutes worked."))
        return _render_ticket(request, ticket, status=400, time=form)
    entry = actions.log_time(
        ticket, request.user, work_type, timedelta(minutes=minutes), note=form.cleaned_data["note"]
    )
    text = (
        _("%(minutes)d min recorded, billable.")
        if entry.billable
        else _("%(minutes)d min recorded, included in the contract.")
    )
    return _done(request, ticket, text % {"minutes": minutes})


@staff_required
@require_POST
def ticket_scope(request: HttpRequest, number: str) -> HttpResponse:
    """Seed 002 §1.5: mark (or unmark) a report as outside the service scope."""
    ticket = _ticket(number)
    form = ScopeForm(request.POST)
    form.is_valid()
    value = bool(form.cleaned_data.get("out_of_scope"))
    actions.set_out_of_scope(ticket, request.user, value)
    if value:
        return _done(
            request, ticket, _("Marked as outside the service scope: the time spent is billable.")
        )
    return _done(request, ticket, _("The mark “outside the service scope” was removed."))


@staff_required
@require_POST
def ticket_milestone(request: HttpRequest, number: str) -> HttpResponse:
    """Record the diagnosis or the restoration (the SLA clocks that count from them)."""
    ticket = _ticket(number)
    form = MilestoneForm(request.POST)
    if not form.is_valid():
        return _refused(request, ticket, _("Unknown milestone."))
    actions.record_milestone(ticket, request.user, form.cleaned_data["field"])
    return _done(request, ticket, _("Milestone recorded."))


@staff_required
@require_POST
def ticket_attach(request: HttpRequest, number: str) -> HttpResponse:
    """Attach files to the ticket (visible to the customer)."""
    ticket = _ticket(number)
    files, problems = _files(request)
    if not files:
        problems.append(_("Choose at least one file."))
    if problems:
        for problem in problems:
            messages.error(request, problem)
        return redirect("tickets:ticket", number=ticket.number)
    try:
        stored = attachments.store_uploads(ticket, files, user=request.user)
    except attachments.AttachmentError as exc:
        return _refused(request, ticket, str(exc))
    text = ngettext("%(count)d file attached.", "%(count)d files attached.", len(stored))
    return _done(request, ticket, text % {"count": len(stored)})


@staff_required
@require_GET
def download(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """Staff download any attachment."""
    attachment = get_object_or_404(Attachment, pk=attachment_id)
    return cast("HttpResponse", attachments.download_response(attachment))


# --- a phone call ----------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def ticket_new(request: HttpRequest) -> HttpResponse:
    """A new ticket from a phone call: first the customer, then the call."""
    pick = CustomerPickForm(request.GET or None)
    if not pick.is_bound or not pick.is_valid():
        return render(request, "helpdesk/staff/new.html", {"nav": "tickets", "pick": pick})
    customer: Customer = pick.cleaned_data["customer"]
    form = PhoneTicketForm(customer, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = actions.phone_ticket(
                customer,
                request.user,
                data["subject"],
                data["body"],
                kind=data["kind"],
                priority=data["priority"].strip(),
                asset=data["asset"],
                requester=data["requester"],
                verified=data["verified"] and data["requester"] is not None,
            )
        except ValueError:
            form.add_error("priority", _("This priority is not defined by the SLA policy."))
        else:
            return _done(
                request, ticket, _("Ticket %(number)s opened.") % {"number": ticket.number}
            )
    return render(
        request,
        "helpdesk/staff/new.html",
        {"nav": "tickets", "pick": pick, "customer": customer, "form": form},
        status=400 if form.errors else 200,
    )
