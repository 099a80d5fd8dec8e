"""Backups and restore requests, process limits and exception requests.

Seed 003 §6 (backups, restores of files, folders, accounts and whole servers),
seed 000 VII (daily backup, 14 days, restore by ticket, charged when the
customer caused the loss), seed 000 IX / 003 §9 (process monitoring and
exceptions confirmed in writing). Every query starts from ``request.customer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from leitstand.backups import restores, snapshots
from leitstand.backups.models import BackupPolicy, RestoreRequest
from leitstand.contracts.models import Asset, Contract, Customer
from leitstand.core.access import customer_required
from leitstand.lib.durations import format_size
from leitstand.operations import process_exceptions
from leitstand.operations.models import (
    ProcessExceptionRequest,
    ProcessPolicy,
    RemoteAction,
)
from leitstand.portal.forms_requests import ProcessExceptionForm, RestoreForm

DAY = 86400


def human_span(months: int, seconds: int) -> str:
    """``6mo`` -> "6 months", ``14d`` -> "14 days", ``2h`` -> "2 hours", translated."""
    parts = []
    if months:
        parts.append(ngettext("%(n)d month", "%(n)d months", months) % {"n": months})
    if seconds and seconds % DAY == 0:
        days = seconds // DAY
        parts.append(ngettext("%(n)d day", "%(n)d days", days) % {"n": days})
    elif seconds and seconds % 3600 == 0:
        hours = seconds // 3600
        parts.append(ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours})
    elif seconds:
        minutes = max(1, seconds // 60)
        parts.append(ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes})
    return ", ".join(parts) or "–"


def how_often(seconds: int) -> str:
    """How often a backup runs, in words."""
    if seconds == DAY:
        return _("daily")
    return _("every %(span)s") % {"span": human_span(0, seconds)}


def _contracts(customer: Customer) -> list[Contract]:
    today = timezone.localdate()
    return list(
        Contract.objects.filter(asset__customer=customer, starts_on__lte=today)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .select_related(
            "asset",
            "plan__backup_policy",
            "backup_policy",
            "plan__process_policy",
            "process_policy",
            "plan__rate_card",
            "rate_card",
        )
        .order_by("asset__name")
    )


def _zone(customer: Customer) -> ZoneInfo:
    try:
        return ZoneInfo(customer.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass
class BackupRow:
    """What is backed up on one asset, and how far back a restore can go."""

    asset: Asset
    policy: BackupPolicy | None
    frequency: str
    retention: str
    window: restores.RestoreWindow | None
    last_run: RemoteAction | None
    notice: str
    snapshots: list[snapshots.Snapshot]


@customer_required
def backups(request: HttpRequest) -> HttpResponse:
    """Seed 000 VII "a daily backup that secures all data each day and retains it for
    up to 14 days. To restore a backup, a ticket may be submitted via the customer
    portal": the policy per server, the restore window, and the restore requests."""
    customer = request.customer  # type: ignore[attr-defined]
    now = timezone.now()
    rows = []
    for contract in _contracts(customer):
        policy = contract.policy("backup_policy")
        policy = policy if isinstance(policy, BackupPolicy) else None
        last_run = (
            RemoteAction.objects.filter(agent__asset=contract.asset, type="run_backup")
            .exclude(status=RemoteAction.Status.PENDING)
            .order_by("-created_at")
            .first()
        )
        rows.append(
            BackupRow(
                asset=contract.asset,
                policy=policy,
                frequency=how_often(policy.interval_seconds) if policy else "",
                retention=human_span(policy.keep_months, policy.keep_seconds) if policy else "",
                window=restores.window(policy, now) if policy else None,
                last_run=last_run,
                notice=restores.billing_notice(restores.restore_price(contract)),
                snapshots=snapshots.recent(contract.asset, restores.window(policy, now).oldest)
                if policy
                else [],
            )
        )
    requested = (
        RestoreRequest.objects.filter(asset__customer=customer)
        .select_related("asset", "ticket")
        .order_by("-requested_at")[:50]
    )
    return render(
        request,
        "portal/backups.html",
        {"customer": customer, "rows": rows, "requested": requested, "section": "backups"},
    )


@customer_required
@require_http_methods(["GET", "POST"])
def restore_new(request: HttpRequest) -> HttpResponse:
    """Seed 003 §6: "sowohl einzelne Dateien, komplette Ordner als auch ganze Accounts
    und VMs" -- request a restore of one asset; the billing notice comes first."""
    customer = request.customer  # type: ignore[attr-defined]
    chosen = request.GET.get("asset", "")
    if not chosen.isdigit():
        return redirect("portal:backups")
    asset = get_object_or_404(customer.assets, pk=int(chosen))
    policy = restores.backup_policy_of(asset)
    if policy is None:
        messages.error(request, _("No backup is booked for %(asset)s.") % {"asset": asset.name})
        return redirect("portal:backups")
    zone = _zone(customer)
    now = timezone.now()
    span = restores.window(policy, now)
    notice = restores.billing_notice(restores.restore_price(asset.active_contract()))
    # Times are entered on the customer's wall clock, whatever the server's zone is.
    with timezone.override(zone):
        form = RestoreForm(data=request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                done = restores.request_restore(
                    asset,
                    request.user,
                    what=data["what"],
                    target=data.get("target") or "",
                    point_in_time=data["point_in_time"],
                    destination=data["destination"],
                    cause=data["cause"],
                    note=data.get("note") or "",
                )
            except restores.RestoreError as exc:
                form.add_error("point_in_time", str(exc))
            else:
                messages.success(
                    request,
                    _("Your restore request %(number)s was sent.") % {"number": done.ticket.number},
                )
                return redirect("portal:ticket", number=done.ticket.number)
        return render(
            request,
            "portal/restore_new.html",
            {
                "customer": customer,
                "asset": asset,
                "form": form,
                "policy": policy,
                "window": span,
                "notice": notice,
                "zone": zone.key,
                "section": "backups",
            },
        )


@dataclass
class ProcessRow:
    """The process limits on one asset and the exceptions that apply."""

    asset: Asset
    policy: ProcessPolicy | None
    runtime: str
    memory: str
    catalog_exceptions: list[str]
    in_force: list[ProcessExceptionRequest]


def _limits(runtime_s: int | None, rss: int | None) -> tuple[str, str]:
    return (
        human_span(0, runtime_s) if runtime_s else _("no limit"),
        format_size(rss) if rss else _("no limit"),
    )


@customer_required
def processes(request: HttpRequest) -> HttpResponse:
    """Seed 000 IX: "process monitoring is conducted that terminates any process
    exhibiting excessive runtime and/or RAM consumption. Exceptions may be
    authorised by system administration." The limits, and every request with
    its written confirmation."""
    customer = request.customer  # type: ignore[attr-defined]
    now = timezone.now()
    rows = []
    for contract in _contracts(customer):
        policy = contract.policy("process_policy")
        policy = policy if isinstance(policy, ProcessPolicy) else None
        runtime, memory = _limits(
            policy.max_runtime_seconds if policy else None, policy.max_rss_bytes if policy else None
        )
        catalog = []
        if policy is not None:
            for e in policy.exceptions.all():
                r, m = _limits(e.max_runtime_seconds, e.max_rss_bytes)
                catalog.append(f"{e.command}: {r} / {m}")
        rows.append(
            ProcessRow(
                asset=contract.asset,
                policy=policy,
                runtime=runtime,
                memory=memory,
                catalog_exceptions=catalog,
                in_force=process_exceptions.in_force_for(contract.asset, now) if policy else [],
            )
        )
    requested = (
        ProcessExceptionRequest.objects.filter(asset__customer=customer)
        .select_related("asset", "ticket", "decided_by")
        .order_by("-requested_at")[:100]
    )
    for item in requested:
        runtime, memory = _limits(item.max_runtime_seconds, item.max_rss_bytes)
        item.limits_text = ", ".join(  # type: ignore[attr-defined]
            text
            for present, text in (
                (item.max_runtime_seconds, _("runtime %(span)s") % {"span": runtime}),
                (item.max_rss_bytes, _("memory %(size)s") % {"size": memory}),
            )
            if present
        )
    return render(
        request,
        "portal/processes.html",
        {
            "customer": customer,
            "rows": rows,
            "requested": requested,
            "now": now,
            "section": "processes",
        },
    )


@customer_required
@require_http_methods(["GET", "POST"])
def process_exception_new(request: HttpRequest) -> HttpResponse:
    """Ask for an exception; it applies once staff confirm it in writing."""
    customer = request.customer  # type: ignore[attr-defined]
    with_policy = [
        c.asset_id
        for c in _contracts(customer)
        if isinstance(c.policy("process_policy"), ProcessPolicy)
    ]
    assets = customer.assets.filter(pk__in=with_policy)
    initial = {}
    wanted = request.GET.get("asset", "")
    if wanted.isdigit() and assets.filter(pk=int(wanted)).exists():
        initial["asset"] = int(wanted)
    form = ProcessExceptionForm(assets, data=request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            made = process_exceptions.request_exception(
                data["asset"],
                request.user,
                data["command"],
                max_runtime=data["max_runtime"],
                max_rss=data["max_rss"],
                reason=data["reason"],
            )
        except process_exceptions.ExceptionRequestError as exc:
            form.add_error(None, str(exc))
        else:
            assert made.ticket is not None
            messages.success(
                request,
                _("Your request %(number)s was sent. The exception applies once it is confirmed.")
                % {"number": made.ticket.number},
            )
            return redirect("portal:processes")
    return render(
        request,
        "portal/process_exception_new.html",
        {"customer": customer, "form": form, "section": "processes"},
    )
