"""Warnings before an SLA breach and escalation on breach, through alerting.

Seed 002 §2: "Priority 1: Within 1 hour / Within 4 hours / Within 4 hours
after diagnosis"; "The response time is the period within which Webosa
responds to a detected or reported incident." Seed 004 promises "Reaktionszeit"
per category. A promise like that is kept by telling someone before it is
broken: this step warns when a configurable share of a target is used (or
little time is left) and escalates when the deadline passes, each exactly once
per ticket, target and priority (:class:`~leitstand.helpdesk.models.SlaNotice`).

The clocks come from the shared rule module (:func:`actions.clocks`), so a
waiting period (seed 002: the clock stops while the customer is asked) moves
the deadline and a paused clock warns nobody, and a new priority is a new
deadline with its own warning. The notices go out through alerting's outbox:
a warning to the ticket's assignee (or, without one, to the first level of
the default escalation policy); a breach to the assignee and, unacknowledged,
up alerting's escalation levels with its reminders. When the clock no longer
needs anyone (met, ticket closed, priority changed), its alert is closed.

Settings: ``HELPDESK_SLA_WARN_SHARE`` (default 0.8: warn once 80 % of a target
is used) and ``HELPDESK_SLA_WARN_BEFORE`` (a timedelta, default 30 minutes of
the target's own time, business time for business-hours targets).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leitstand.alerting.actions import queue, staff_channels
from leitstand.alerting.models import Alert, Channel, EscalationPolicy, Notification
from leitstand.core.periodic import periodic
from leitstand.helpdesk import actions
from leitstand.helpdesk.models import SlaNotice, Ticket
from leitstand.helpdesk.rules import ACHIEVED_BY, Clock, clock_state
from leitstand.sla.calendar import BusinessCalendar
from leitstand.sla.deadlines import Target, consumed, deadline
from leitstand.sla.models import SlaPolicy

log = logging.getLogger(__name__)

Kind = SlaNotice.Kind
DEFAULT_WARN_SHARE = 0.8
DEFAULT_WARN_BEFORE = timedelta(minutes=30)
DEFAULT_STALE_AFTER = timedelta(hours=24)
TARGET_NAMES = {
    "initial_response": gettext_lazy("initial response"),
    "response": gettext_lazy("response"),
    "diagnosis": gettext_lazy("diagnosis"),
    "restoration": gettext_lazy("restoration"),
}


def notice_due(
    clock: Clock, now: datetime, *, warn_share: float, warn_before: timedelta
) -> str | None:
    """Which notice a clock calls for at ``now``: ``breach``, ``warning`` or None.

    A met clock needs nobody, a clock not started (restoration before the
    diagnosis) neither, and a paused one warns nobody: the customer holds it.
    Past the deadline only the breach counts, whether a warning went out or not.
    """
    if clock.deadline is None or clock.achieved_at is not None:
        return None
    if now > clock.deadline:
        return Kind.BREACH
    if clock.state == "paused" or clock.used is None:
        return None
    left = clock.within * max(0.0, 1.0 - clock.used)
    if clock.used >= warn_share or left <= warn_before:
        return Kind.WARNING
    return None


def _warn_share() -> float:
    share = float(getattr(settings, "HELPDESK_SLA_WARN_SHARE", DEFAULT_WARN_SHARE))
    return min(max(share, 0.0), 1.0)


def _stale_after() -> timedelta:
    """Breaches older than this are recorded but page nobody: switching the watch on
    over a backlog (or after a long outage) must not wake the on-call engineer
    for every old ticket at once (setting ``HELPDESK_SLA_STALE_AFTER``)."""
    value = getattr(settings, "HELPDESK_SLA_STALE_AFTER", DEFAULT_STALE_AFTER)
    return value if isinstance(value, timedelta) else timedelta(hours=float(value))


def _warn_before() -> timedelta:
    value = getattr(settings, "HELPDESK_SLA_WARN_BEFORE", DEFAULT_WARN_BEFORE)
    return value if isinstance(value, timedelta) else timedelta(minutes=float(value))


def watched() -> QuerySet[Ticket]:
    """Open tickets with a priority under a contract: the ones with clocks."""
    return (
        Ticket.objects.filter(status__in=actions.OPEN, contract__isnull=False)
        .exclude(priority="")
        .select_related("contract__plan", "asset__customer")
        .prefetch_related("waiting_periods", "sla_notices")
    )


Rules = tuple[BusinessCalendar, dict[str, list[tuple[str, Target]]]]


@dataclass
class Policies:
    """The SLA policies of one pass, each read once: a pass over ten thousand
    tickets must not ask the database for the same policy ten thousand times."""

    rules: dict[int, Rules] = field(default_factory=dict)

    def get(self, policy_id: int) -> Rules:
        if policy_id not in self.rules:
            policy = SlaPolicy.objects.select_related("calendar").get(pk=policy_id)
            targets: dict[str, list[tuple[str, Target]]] = {}
            for target in policy.targets.order_by("id"):
                targets.setdefault(target.priority, []).append((target.target, target.to_rule()))
            self.rules[policy_id] = (policy.calendar.to_rule(), targets)
        return self.rules[policy_id]


def clocks(ticket: Ticket, now: datetime, policies: Policies) -> list[Clock]:
    """The ticket's clocks as :func:`actions.clocks` computes them (the same rule
    functions, the same inputs; a test holds the two equal), with each policy
    read once per pass."""
    contract = ticket.contract
    if contract is None or not ticket.priority:
        return []
    policy_id = contract.sla_policy_id or contract.plan.sla_policy_id
    if policy_id is None:
        return []
    calendar, targets = policies.get(policy_id)
    paused_now = ticket.status == Ticket.Status.WAITING
    periods = actions.pauses(ticket, now)
    out = []
    for name, rule in targets.get(ticket.priority, []):
        due = deadline(
            rule, calendar, ticket.created_at, diagnosed_at=ticket.diagnosed_at, paused=periods
        )
        achieved = getattr(ticket, ACHIEVED_BY.get(name, "resolved_at"))
        used_time = consumed(
            rule,
            calendar,
            ticket.created_at,
            achieved or now,
            diagnosed_at=ticket.diagnosed_at,
            paused=periods,
        )
        used = None if used_time is None else used_time / rule.within
        state = clock_state(due, achieved, now, paused=paused_now, used=used)
        out.append(Clock(name, rule.within, due, achieved, state, used))
    return out


def _summary(ticket: Ticket, clock: Clock, kind: str) -> str:
    zone = timezone.get_default_timezone()
    with translation.override(settings.LANGUAGE_CODE):
        values = {
            "number": ticket.number,
            "subject": ticket.subject,
            "target": str(TARGET_NAMES.get(clock.target, clock.target)),
            "priority": ticket.priority,
            "due": formats.date_format(timezone.localtime(clock.deadline, zone), "DATETIME_FORMAT")
            if clock.deadline
            else "",
            "used": round((clock.used or 0) * 100),
        }
        if kind == Kind.BREACH:
            text = _(
                "SLA breached: ticket %(number)s (%(subject)s), %(priority)s %(target)s was due "
                "%(due)s"
            )
        else:
            text = _(
                "SLA warning: ticket %(number)s (%(subject)s), %(priority)s %(target)s due "
                "%(due)s, %(used)s %% of the time used"
            )
        return (text % values)[:300]


def _first_channel(user_id: int | None) -> Channel | None:
    if user_id is None:
        return None
    return Channel.objects.filter(user_id=user_id, enabled=True).order_by("position", "id").first()


def raise_alert(ticket: Ticket, notice: SlaNotice, clock: Clock, now: datetime) -> Alert | None:
    """Open the notice's alert and queue its notifications in alerting's outbox.

    A warning has no escalation policy (it tells, it does not chase); a
    breach gets the default policy and ``next_escalation_at = now``, so that
    alerting's own escalation step tells level after level and reminds them
    until someone acknowledges.
    """
    asset = ticket.asset or (ticket.contract.asset if ticket.contract else None)
    if asset is None:
        log.warning("SLA %s of %s: no asset to hang the alert on", notice.kind, ticket.number)
        return None
    policy = EscalationPolicy.objects.filter(is_default=True).first()
    breach = notice.kind == Kind.BREACH
    alert = Alert.objects.create(
        asset=asset,
        group_key=f"sla:{ticket.pk}:{notice.target}:{notice.priority}:{notice.kind}"[:100],
        opened_at=now,
        summary=_summary(ticket, clock, notice.kind),
        priority=ticket.priority[:10],
        policy=policy if breach else None,
        next_escalation_at=now if breach and policy is not None else None,
        next_renotify_at=(
            now + policy.renotify_every
            if breach and policy is not None and policy.renotify_every
            else None
        ),
    )
    told = 0
    assignee_channel = _first_channel(ticket.assignee_id)
    if assignee_channel is not None:
        queue(alert, assignee_channel, Notification.Kind.ALARM, level=0, round_=0, now=now)
        told += 1
    if not breach and told == 0 and policy is not None:
        # Nobody owns the ticket: whoever is on call at the first level hears it.
        first = policy.levels.select_related("schedule", "schedule__calendar").first()
        if first is not None:
            for channel in staff_channels(first, now):
                queue(
                    alert,
                    channel,
                    Notification.Kind.ALARM,
                    level=first.number,
                    round_=first.number,
                    now=now,
                )
                told += 1
    if told == 0 and not (breach and policy is not None):
        log.warning("SLA %s of %s: nobody to tell", notice.kind, ticket.number)
    return alert


def _close(alerts: QuerySet[Alert], now: datetime) -> int:
    """Close alerts that need nobody any more, without recovery messages (nothing recovered)."""
    return alerts.filter(resolved_at__isnull=True).update(
        resolved_at=now, next_escalation_at=None, next_renotify_at=None
    )


def settle(now: datetime, policies: Policies | None = None) -> int:
    """Close the alerts of notices whose clock needs nobody any more; how many."""
    policies = policies or Policies()
    open_notices = (
        SlaNotice.objects.filter(alert__resolved_at__isnull=True)
        .select_related("ticket__contract__plan")
        .prefetch_related("ticket__waiting_periods")
    )
    done: list[int] = []
    by_ticket: dict[int, list[SlaNotice]] = {}
    for notice in open_notices:
        by_ticket.setdefault(notice.ticket_id, []).append(notice)
    for notices in by_ticket.values():
        ticket = notices[0].ticket
        states = {c.target: c for c in clocks(ticket, now, policies)} if ticket.is_open else {}
        breached = {n.target for n in notices if n.kind == Kind.BREACH}
        for notice in notices:
            clock = states.get(notice.target)
            over = (
                not ticket.is_open
                or notice.priority != ticket.priority
                or clock is None
                or clock.achieved_at is not None
                or (notice.kind == Kind.WARNING and notice.target in breached)
            )
            if over and notice.alert_id is not None:
                done.append(notice.alert_id)
    return _close(Alert.objects.filter(pk__in=done), now) if done else 0


def check_ticket(
    ticket: Ticket,
    now: datetime,
    *,
    warn_share: float,
    warn_before: timedelta,
    policies: Policies | None = None,
) -> int:
    """Warn or escalate what is due on one ticket; how many notices it wrote."""
    seen = {(n.target, n.priority, n.kind) for n in ticket.sla_notices.all()}
    written = 0
    for clock in clocks(ticket, now, policies or Policies()):
        kind = notice_due(clock, now, warn_share=warn_share, warn_before=warn_before)
        if kind is None or (clock.target, ticket.priority, kind) in seen:
            continue
        if kind == Kind.WARNING and (clock.target, ticket.priority, Kind.BREACH) in seen:
            continue
        assert clock.deadline is not None
        try:
            with transaction.atomic():
                # The unique constraint is the claim: of two workers, one writes.
                notice = SlaNotice.objects.create(
                    ticket=ticket,
                    target=clock.target,
                    priority=ticket.priority,
                    kind=kind,
                    deadline=clock.deadline,
                    created_at=now,
                )
                if now - clock.deadline <= _stale_after():
                    notice.alert = raise_alert(ticket, notice, clock, now)
                    notice.save(update_fields=["alert"])
        except IntegrityError:
            continue
        written += 1
    return written


def watch(now: datetime | None = None, *, limit: int | None = None) -> int:
    """One pass over the open tickets with clocks; the number of notices written."""
    now = now or timezone.now()
    share, before = _warn_share(), _warn_before()
    policies = Policies()
    written = 0
    tickets: Any = watched().order_by("pk")
    if limit is not None:
        tickets = tickets[:limit]
    for ticket in tickets.iterator(chunk_size=500):
        try:
            written += check_ticket(
                ticket, now, warn_share=share, warn_before=before, policies=policies
            )
        except Exception:
            # One broken ticket (a policy without a calendar ...) must not stop the others.
            log.exception("SLA watch failed for ticket %s", ticket.number)
    settle(now, policies)
    return written


@periodic(every=60.0)
def sla_watch() -> int:
    """Step: warn before and escalate on SLA breaches."""
    return watch()
