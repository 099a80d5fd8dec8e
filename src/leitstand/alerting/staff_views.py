"""Back-office pages: the open alerts per host, one alert's timeline, acknowledgement.

Issue 5 item 3: acknowledgement "from [...] the back office". Views parse,
authorise (:func:`~leitstand.core.access.staff_required`), call one action,
render.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from leitstand.alerting import actions
from leitstand.alerting.models import Alert, Channel, Notification
from leitstand.core.access import staff_required

RECENT = timedelta(hours=24)


def recipient(channel: Channel) -> str:
    """Who a channel reaches, as an operator reads it."""
    if channel.user is not None:
        user = channel.user
        return str(user.get_full_name() or user.username or user.login)
    if channel.contact is not None:
        return f"{channel.contact.name} ({channel.contact.customer.number})"
    return str(channel)


@dataclass(frozen=True)
class Told:
    """One notification as the overview lists it."""

    who: str
    kind: str
    status: str
    at: datetime | None


def _told(alert: Alert) -> list[Told]:
    return [
        Told(recipient(n.channel), n.get_kind_display(), n.get_status_display(), n.sent_at)
        for n in alert.notifications.all()
    ]


@staff_required
def alert_list(request: HttpRequest) -> HttpResponse:
    """Open alerts grouped by host, and those resolved in the last 24 hours."""
    now = timezone.now()
    alerts = list(
        Alert.objects.filter(resolved_at__isnull=True)
        .select_related("asset__customer", "acknowledged_by")
        .prefetch_related(
            "notifications__channel__user", "notifications__channel__contact__customer"
        )
        .order_by("asset__customer__number", "asset__name", "-opened_at")
    )
    hosts = [
        {"asset": asset, "alerts": [{"alert": a, "told": _told(a)} for a in group]}
        for asset, group in groupby(alerts, key=lambda a: a.asset)
    ]
    recent = (
        Alert.objects.filter(resolved_at__gte=now - RECENT)
        .select_related("asset__customer", "acknowledged_by")
        .order_by("-resolved_at")[:100]
    )
    return render(
        request,
        "alerting/staff/alerts.html",
        {"nav": "alerts", "hosts": hosts, "open_count": len(alerts), "recent": recent},
    )


@dataclass(frozen=True)
class Entry:
    """One line of an alert's timeline."""

    at: datetime
    what: str
    detail: str = ""


def timeline(alert: Alert) -> list[Entry]:
    """Everything that happened to ``alert``, oldest first."""
    entries = [Entry(alert.opened_at, _("Alert opened"), alert.summary)]
    for mark in alert.events.select_related("event__service_check"):
        event = mark.event
        entries.append(
            Entry(
                event.at,
                _("Check %(check)s: %(old)s → %(new)s")
                % {
                    "check": event.service_check.name,
                    "old": event.old_state,
                    "new": event.new_state,
                },
                mark.get_outcome_display(),
            )
        )
    for ext in alert.external_events.select_related("external__source"):
        entries.append(
            Entry(
                ext.at,
                _("%(source)s: %(name)s %(state)s")
                % {
                    "source": ext.external.source.name,
                    "name": ext.external.name,
                    "state": ext.get_new_state_display(),
                },
                ext.get_outcome_display(),
            )
        )
    notifications = alert.notifications.select_related(
        "channel__user", "channel__contact__customer"
    )
    for n in notifications:
        who = recipient(n.channel)
        level = _("level %(level)s") % {"level": n.level} if n.level else _("customer")
        entries.append(
            Entry(
                n.created_at,
                _("%(kind)s queued for %(who)s (%(level)s, %(channel)s)")
                % {
                    "kind": n.get_kind_display(),
                    "who": who,
                    "level": level,
                    "channel": n.channel.kind,
                },
            )
        )
        if n.sent_at is not None:
            entries.append(
                Entry(
                    n.sent_at,
                    _("%(kind)s delivered to %(who)s") % {"kind": n.get_kind_display(), "who": who},
                    ngettext_attempts(n.attempts),
                )
            )
        elif n.status == Notification.Status.FAILED:
            entries.append(
                Entry(
                    n.next_attempt_at,
                    _("%(kind)s to %(who)s failed") % {"kind": n.get_kind_display(), "who": who},
                    n.last_error,
                )
            )
    for reply in alert.sms_replies.all():
        entries.append(
            Entry(
                reply.received_at,
                _("SMS reply from %(number)s") % {"number": reply.from_number},
                reply.get_outcome_display(),
            )
        )
    if alert.acknowledged_at is not None:
        by = alert.acknowledged_by
        entries.append(
            Entry(
                alert.acknowledged_at,
                _("Acknowledged by %(who)s")
                % {"who": (by.get_full_name() or by.username) if by else "?"},
                alert.get_acknowledged_via_display(),
            )
        )
    if alert.resolved_at is not None:
        entries.append(Entry(alert.resolved_at, _("Resolved")))
    return sorted(entries, key=lambda e: e.at)


def ngettext_attempts(attempts: int) -> str:
    return ngettext("%(count)d attempt", "%(count)d attempts", attempts) % {"count": attempts}


@staff_required
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One alert: its facts, its notifications and its timeline."""
    alert = get_object_or_404(
        Alert.objects.select_related("asset__customer", "acknowledged_by", "policy"), pk=pk
    )
    notifications = alert.notifications.select_related(
        "channel__user", "channel__contact__customer"
    )
    rows = [{"n": n, "who": recipient(n.channel)} for n in notifications]
    return render(
        request,
        "alerting/staff/alert.html",
        {"nav": "alerts", "alert": alert, "timeline": timeline(alert), "notifications": rows},
    )


@staff_required  # first: a customer user gets 404, not 405 (the route must stay unknown)
@require_POST
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    """Acknowledge as the logged-in operator (POST, CSRF-protected)."""
    alert = get_object_or_404(Alert, pk=pk)
    user = request.user
    assert user.is_authenticated  # staff_required
    if actions.acknowledge(alert, user, via="back office"):
        messages.success(request, _("Alert acknowledged: escalation and reminders stop."))
    else:
        messages.info(request, _("The alert was already acknowledged or resolved."))
    return redirect("alerts:detail", pk=alert.pk)
