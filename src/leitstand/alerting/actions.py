"""Alerting workflows: events in, alerts and outbox rows out, deliveries recorded.

Every background function here is a *step*: it claims a little work
atomically, does it, and returns whether it did anything, so a loop can sleep
when there is nothing to do and any number of workers can share the work. A
crash at any line loses nothing: an unclaimed event stays unclaimed (its
claim rolls back with the rest of its transaction), and a notification
claimed by a worker that died is claimed again when the lease runs out.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from leitstand.accounts.models import User
from leitstand.alerting import oncall, retry
from leitstand.alerting.channels import ConfigError, Outcome, SendResult, registry
from leitstand.alerting.inbound import InboundAlert
from leitstand.alerting.messages import render
from leitstand.alerting.models import (
    Alert,
    Channel,
    EscalationLevel,
    EscalationPolicy,
    ExternalAlert,
    ExternalEvent,
    InboundSource,
    Notification,
    ProcessedEvent,
)
from leitstand.contracts.models import Asset
from leitstand.maintenance.models import PlannedWork
from leitstand.monitoring.models import CheckEvent, CheckStatus
from leitstand.monitoring.states import EventKind, Status

log = logging.getLogger(__name__)

# Several times one send's timeouts (SMTP 15 s, HTTP 10 s per operation), so
# a slow send is not taken over by a second worker while it is still going.
LEASE = timedelta(minutes=2)

PROBLEMS = [s.value for s in Status if s.is_problem]

Outcomes = ProcessedEvent.Outcome


# -- who is told --------------------------------------------------------------------


def customer_channels(asset: Asset, on: datetime) -> list[Channel]:
    """The first enabled channel of each alarm contact, if the contract includes alarming.

    A person is told on their first enabled channel; the others are fall-backs.

    Seed 001 §5.2: "Sollte der Kunde keine Alarmierung beauftragen oder ist
    diese auf eigenen Wunsch deaktiviert, so ist auch seitens [des Providers]
    keine proaktive Reaktion [...] möglich." No alarming booked, nothing goes
    to the customer (the provider's staff are still told).
    """
    contract = asset.active_contract(timezone.localdate(on))
    if contract is None or not contract.alarming:
        return []
    channels = Channel.objects.filter(
        contact__customer_id=asset.customer_id, contact__receives_alarms=True, enabled=True
    ).order_by("contact_id", "position", "id")
    first: dict[int | None, Channel] = {}
    for channel in channels:
        first.setdefault(channel.contact_id, channel)
    return list(first.values())


def staff_channels(level: EscalationLevel, at: datetime) -> list[Channel]:
    """The first channel of whoever is on call for ``level`` at ``at``, and of its named user."""
    users: list[int] = []
    if level.schedule is not None:
        duty = level.schedule.on_call(at)
        if duty.user is not None:
            users.append(duty.user)
        else:
            log.warning("nobody on call in %s (%s) at %s", level.schedule, duty.shift, at)
    if level.user_id is not None and level.user_id not in users:
        users.append(level.user_id)
    result = []
    for user in users:
        channel = Channel.objects.filter(user_id=user, enabled=True).first()
        if channel is None:
            log.warning("staff user %s has no enabled alert channel", user)
        else:
            result.append(channel)
    return result


def queue(
    alert: Alert, channel: Channel, kind: str, *, level: int, round_: int, now: datetime
) -> Notification:
    """Write one outbox row; writing the same one twice is harmless.

    The key names alert, kind, round and channel, so re-running a step that
    crashed after queueing finds the row instead of queueing a second one.
    """
    key = f"a{alert.pk}-{kind}{round_}-c{channel.pk}"
    notification, _ = Notification.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "alert": alert,
            "channel": channel,
            "kind": kind,
            "level": level,
            "round": round_,
            "created_at": now,
            "next_attempt_at": now,
        },
    )
    return notification


# -- events -------------------------------------------------------------------------


def _silenced(event: CheckEvent) -> str | None:
    """Why a problem event raises no alarm (its record stays), or None."""
    if event.in_maintenance:
        # Seed 002 §1.2: "Webosa performs Scheduled Maintenance during predefined
        # maintenance windows"; the outage it causes is expected, so it is
        # recorded (the event and this mark) but nobody is woken for it.
        return Outcomes.MAINTENANCE
    if event.flapping:
        return Outcomes.FLAPPING
    check = event.service_check
    parent = check.parent
    if parent is not None and parent.asset_id != check.asset_id:
        # A dependency on another asset (a switch, a hypervisor) is down: that
        # asset has its own alert; telling about each dependant is noise.
        if event.new_state == Status.UNREACHABLE:
            return Outcomes.DEPENDENCY
        parent_state = CheckStatus.objects.filter(service_check=parent).first()
        if parent_state is not None and Status(parent_state.hard_state).is_problem:
            return Outcomes.DEPENDENCY
    return None


def _others_down(
    asset_id: int, *, check_id: int | None = None, external_id: int | None = None
) -> bool:
    """Whether another check of the asset is still confirmed down, or an external alarm firing.

    Both kinds of problem share the asset's one alert, so either keeps it open.
    """
    checks = CheckStatus.objects.filter(
        service_check__asset_id=asset_id, hard_state__in=PROBLEMS
    ).exclude(service_check_id=check_id)
    firing = ExternalAlert.objects.filter(
        asset_id=asset_id, state=ExternalAlert.State.FIRING, alert__isnull=False
    )
    if external_id is not None:
        firing = firing.exclude(pk=external_id)
    return checks.exists() or firing.exists()


def process_event(event: CheckEvent, *, now: datetime | None = None) -> ProcessedEvent:
    """Turn one CheckEvent into an alert change and outbox rows.

    Seed 002 §1.5: "When a potential incident is detected, Webosa personnel
    are notified automatically." Whether the asset's other checks are still
    down is read from CheckStatus as it is now, so a backlog processed late
    judges a recovery by the present, not by the moment of the event.

    Call it inside the transaction that stores the event: either both are
    stored or neither, so no event is ever silently skipped. Raises
    IntegrityError if the event was already processed (the claim).
    """
    now = now or timezone.now()
    check = event.service_check
    mark = ProcessedEvent.objects.create(event=event, processed_at=now, outcome=Outcomes.IGNORED)
    if event.kind != EventKind.STATE:
        mark.outcome = Outcomes.FLAPPING
        mark.save(update_fields=["outcome"])
        return mark
    # Serialise all alert changes of one asset: two workers processing a
    # host-down and a service-down at once must still open one alert.
    # of=("self",): lock the asset row only, not the customer joined to it.
    asset = (
        Asset.objects.select_for_update(of=("self",))
        .select_related("customer")
        .get(pk=check.asset_id)
    )
    group = f"asset:{asset.pk}"
    open_alert = Alert.objects.select_for_update().filter(group_key=group, resolved_at=None).first()
    if Status(event.new_state).is_problem:
        silenced = _silenced(event)
        if silenced is not None:
            mark.outcome = silenced
            mark.alert = open_alert
        elif open_alert is not None:
            mark.outcome, mark.alert = Outcomes.GROUPED, open_alert
        else:
            mark.outcome, mark.alert = Outcomes.OPENED, open_alert_for(asset, event, now)
    elif open_alert is not None:
        mark.alert = open_alert
        if _others_down(check.asset_id, check_id=event.service_check_id):
            mark.outcome = Outcomes.GROUPED
        else:
            mark.outcome = Outcomes.RESOLVED
            resolve(open_alert, now)
    mark.save(update_fields=["outcome", "alert"])
    return mark


def open_alert_for(asset: Asset, event: CheckEvent, now: datetime) -> Alert:
    """Open the asset's alert for a check event (see :func:`open_alert`)."""
    reason = f": {event.reason}" if event.reason else ""
    return open_alert(
        asset,
        summary=f"{event.service_check.name} {event.new_state}{reason}",
        priority=event.priority,
        at=event.at,
        now=now,
        opened_by=event,
    )


def open_alert(
    asset: Asset,
    *,
    summary: str,
    priority: str,
    at: datetime,
    now: datetime,
    opened_by: CheckEvent | None = None,
) -> Alert:
    """Open the asset's alert, tell the customer and escalation level(s) due now.

    The one way an alert opens, whether a check or an inbound alarm caused it.
    """
    policy = EscalationPolicy.objects.filter(is_default=True).first()
    alert = Alert.objects.create(
        asset=asset,
        group_key=f"asset:{asset.pk}",
        opened_by=opened_by,
        opened_at=at,
        summary=summary[:300],
        priority=priority,
        policy=policy,
        next_renotify_at=now + policy.renotify_every if policy and policy.renotify_every else None,
    )
    for channel in customer_channels(asset, at):
        queue(alert, channel, Notification.Kind.ALARM, level=0, round_=0, now=now)
    _escalate(alert, now)
    return alert


def resolve(alert: Alert, now: datetime) -> None:
    """Close the alert and tell everyone who was (or is about to be) alarmed."""
    alert.resolved_at = now
    alert.next_escalation_at = None
    alert.next_renotify_at = None
    alert.save(update_fields=["resolved_at", "next_escalation_at", "next_renotify_at"])
    alarmed = (
        alert.notifications.filter(kind=Notification.Kind.ALARM)
        .exclude(status=Notification.Status.FAILED)
        .select_related("channel")
    )
    for notification in alarmed:
        queue(
            alert,
            notification.channel,
            Notification.Kind.RECOVERY,
            level=notification.level,
            round_=0,
            now=now,
        )


def process_new_events(*, limit: int = 100, now: datetime | None = None) -> bool:
    """Step: process events that no transaction has processed yet; True if this call did."""
    pending = list(
        CheckEvent.objects.filter(alerting__isnull=True)
        .select_related("service_check__parent")
        .order_by("at", "id")[:limit]
    )
    done = 0
    for event in pending:
        try:
            with transaction.atomic():
                process_event(event, now=now)
            done += 1
        except IntegrityError:
            # Another worker claimed it (or opened the asset's alert) first;
            # whatever is left is picked up by the next step.
            continue
        except Exception:
            # One event that cannot be processed (a bug, a broken row) must
            # not hold up every event after it; it stays unprocessed and is
            # tried again, and logged, on every step until it is fixed.
            log.exception("cannot process check event %s", event.pk)
    return done > 0


# -- acknowledgement and escalation -------------------------------------------------


def acknowledge(
    alert: Alert, user: User, *, now: datetime | None = None, via: str = "admin"
) -> bool:
    """Stop escalation and reminders; True if this call acknowledged it.

    ``via`` records where (``link``, ``back office``, ``sms``, ``admin``), for
    the alert's timeline.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.acknowledged_at is not None or locked.resolved_at is not None:
            return False
        locked.acknowledged_at = now
        locked.acknowledged_by = user
        locked.acknowledged_via = via
        locked.next_escalation_at = None
        locked.next_renotify_at = None
        locked.save(
            update_fields=[
                "acknowledged_at",
                "acknowledged_by",
                "acknowledged_via",
                "next_escalation_at",
                "next_renotify_at",
            ]
        )
    alert.refresh_from_db()
    return True


def _escalate(alert: Alert, now: datetime) -> None:
    """Tell every level whose time has come and set the next escalation time."""
    if alert.policy is None:
        # The policy was deleted since the alert opened: nothing left to escalate.
        alert.next_escalation_at = None
        alert.save(update_fields=["next_escalation_at"])
        return
    levels = list(alert.policy.levels.select_related("schedule", "schedule__calendar"))
    delays = [level.delay for level in levels]
    due = oncall.escalation_due(alert.opened_at, delays, alert.level, now)
    for level in levels[alert.level : due]:
        for channel in staff_channels(level, now):
            queue(
                alert,
                channel,
                Notification.Kind.ALARM,
                level=level.number,
                round_=level.number,
                now=now,
            )
    alert.level = due
    alert.next_escalation_at = oncall.next_escalation(alert.opened_at, delays, due)
    alert.save(update_fields=["level", "next_escalation_at"])


def _renotify(alert: Alert, now: datetime) -> None:
    """Remind the levels told so far, as they are on call now."""
    if alert.policy is None or alert.policy.renotify_every is None:
        # The policy was changed or removed since the alert opened.
        alert.next_renotify_at = None
        alert.save(update_fields=["next_renotify_at"])
        return
    alert.renotify_count += 1
    levels = alert.policy.levels.filter(number__lte=alert.level).select_related("schedule")
    for level in levels:
        for channel in staff_channels(level, now):
            queue(
                alert,
                channel,
                Notification.Kind.RENOTIFY,
                level=level.number,
                round_=alert.renotify_count,
                now=now,
            )
    alert.next_renotify_at = now + alert.policy.renotify_every
    alert.save(update_fields=["renotify_count", "next_renotify_at"])


def escalate_due(*, now: datetime | None = None, limit: int = 50) -> bool:
    """Step: escalate and remind unacknowledged open alerts whose time has come."""
    now = now or timezone.now()
    due = Q(next_escalation_at__lte=now) | Q(next_renotify_at__lte=now)
    waiting = Q(acknowledged_at__isnull=True, resolved_at__isnull=True)
    ids = list(Alert.objects.filter(due, waiting).values_list("pk", flat=True)[:limit])
    done = 0
    for pk in ids:
        with transaction.atomic():
            # Re-read under the lock: another worker may have done it, or
            # someone acknowledged in between.
            alert = (
                # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable
                # side of the outer join to the policy.
                Alert.objects.select_for_update(of=("self",))
                .select_related("policy")
                .filter(due, waiting, pk=pk)
                .first()
            )
            if alert is None:
                continue
            if alert.next_escalation_at is not None and alert.next_escalation_at <= now:
                _escalate(alert, now)
            if alert.next_renotify_at is not None and alert.next_renotify_at <= now:
                _renotify(alert, now)
            done += 1
    return done > 0


# -- delivery -----------------------------------------------------------------------


def _claimable(now: datetime) -> Q:
    return Q(status=Notification.Status.QUEUED, next_attempt_at__lte=now) | Q(
        status=Notification.Status.SENDING, claimed_until__lt=now
    )


def claim(worker_id: str, now: datetime, limit: int) -> list[int]:
    """Claim up to ``limit`` due notifications with a conditional UPDATE each.

    The UPDATE repeats the condition, so of two workers that saw the same
    row only one changes it; the other's UPDATE matches nothing.
    """
    # A recovery waits while its alarm to the same channel is still unsent:
    # after an outage, "RECOVERED" must not arrive before "PROBLEM".
    alarm_pending = Notification.objects.filter(
        alert=OuterRef("alert"),
        channel=OuterRef("channel"),
        kind=Notification.Kind.ALARM,
        status__in=[Notification.Status.QUEUED, Notification.Status.SENDING],
    )
    candidates = list(
        Notification.objects.filter(_claimable(now))
        .exclude(Q(kind=Notification.Kind.RECOVERY) & Exists(alarm_pending))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    claimed = []
    for pk in candidates:
        won = (
            Notification.objects.filter(_claimable(now), pk=pk).update(
                status=Notification.Status.SENDING,
                claimed_by=worker_id,
                claimed_until=now + LEASE,
                attempts=F("attempts") + 1,
            )
            == 1
        )
        if won:
            claimed.append(pk)
    return claimed


def send(notification: Notification) -> SendResult:
    """One attempt on the notification's channel; a broken config is permanent."""
    try:
        channel = registry.build(notification.channel.kind, notification.channel.config)
    except ConfigError as error:
        return SendResult.permanent(f"channel misconfigured: {error}")
    try:
        return channel.send(render(notification))
    except Exception as error:
        # A bug in rendering or a channel must not leave the row claimed
        # forever: record it as a failed attempt, so backoff and the 24-hour
        # horizon apply and the next channel is tried in the end.
        log.exception("sending notification %s failed", notification.pk)
        return SendResult.retry(f"internal error: {type(error).__name__}: {error}")


def record(notification: Notification, worker_id: str, result: SendResult, now: datetime) -> None:
    """Store the outcome, unless the lease was lost to another worker meanwhile."""
    with transaction.atomic():
        row = (
            Notification.objects.select_for_update()
            .filter(pk=notification.pk, status=Notification.Status.SENDING, claimed_by=worker_id)
            .first()
        )
        if row is None:
            log.warning("lease on notification %s lost before recording", notification.pk)
            return
        row.claimed_by, row.claimed_until = "", None
        row.last_error = "" if result.outcome == Outcome.OK else result.detail[:500]
        give_up = result.outcome == Outcome.PERMANENT
        if result.outcome == Outcome.OK:
            row.status, row.sent_at = Notification.Status.SENT, now
        elif not give_up:
            retry_at = retry.next_attempt(row.created_at, now, row.attempts)
            if retry_at is None:
                give_up = True
            else:
                row.status, row.next_attempt_at = Notification.Status.QUEUED, retry_at
        if give_up:
            row.status = Notification.Status.FAILED
            fall_through(row, now)
        row.save()


def fall_through(failed: Notification, now: datetime) -> Notification | None:
    """Queue the same message on the owner's next channel after ``failed``'s."""
    channels = list(failed.channel.owner_channels())
    position = (failed.channel.position, failed.channel_id)
    later = [c for c in channels if (c.position, c.pk) > position]
    if not later:
        log.warning("notification %s failed and its owner has no further channel", failed.pk)
        return None
    return queue(
        failed.alert, later[0], failed.kind, level=failed.level, round_=failed.round, now=now
    )


def deliver_due(worker_id: str, *, now: datetime | None = None, limit: int = 10) -> bool:
    """Step: claim, send and record up to ``limit`` due notifications; True if any.

    One claim per send, not ``limit`` claims up front: ten sends into a
    mail server that swallows connections take ten timeouts, longer than a
    lease, and another worker would take over rows this one still means to
    send.
    """
    did = False
    for _ in range(limit):
        claimed = claim(worker_id, now or timezone.now(), 1)
        if not claimed:
            break
        did = True
        notification = Notification.objects.select_related(
            "alert__asset__customer", "channel__contact__customer", "channel__user"
        ).get(pk=claimed[0])
        result = send(notification)
        record(notification, worker_id, result, timezone.now())
    return did


# -- inbound alarms -----------------------------------------------------------------


def _inbound_asset(source: InboundSource, labels: Mapping[str, str]) -> Asset:
    """The asset a label names among the source's customer's assets, else the source's."""
    name = labels.get(source.asset_label) if source.asset_label else None
    if name:
        named = Asset.objects.filter(customer_id=source.customer_id, name=name).first()
        if named is not None:
            return named
    return source.asset


def _in_maintenance(asset_id: int, at: datetime) -> bool:
    return PlannedWork.objects.filter(assets=asset_id, starts_at__lte=at, ends_at__gt=at).exists()


def receive_external(
    source: InboundSource, item: InboundAlert, *, now: datetime | None = None
) -> str:
    """Fold one inbound alarm into its ExternalAlert and the asset's alert; the outcome.

    The same path as a check event: the alarm joins its asset's one open
    alert (grouping), opens one otherwise (customer and escalation levels
    told, reminders, escalation), is silenced but recorded during announced
    maintenance, and resolves the alert, with recovery messages, once
    nothing else of the asset is down. Delivering the same payload again
    changes nothing (Alertmanager repeats firing alerts every
    ``repeat_interval``); a firing alarm that was silenced is looked at again
    on each repetition, so it alarms once the maintenance is over.

    Returns "opened", "grouped", "resolved", "maintenance", "ignored" or
    "repeated" (nothing changed).
    """
    now = now or timezone.now()
    with transaction.atomic():
        asset = Asset.objects.select_for_update(of=("self",)).get(
            pk=_inbound_asset(source, item.labels).pk
        )
        external = (
            ExternalAlert.objects.select_for_update()
            .filter(source=source, fingerprint=item.fingerprint)
            .first()
        )
        fields = {
            "asset": asset,
            "name": item.name[:200],
            "summary": item.summary[:300],
            "priority": source.priority_for(dict(item.labels)),
            "labels": dict(item.labels),
            "annotations": dict(item.annotations),
            "last_received_at": now,
        }
        open_alert_ = (
            Alert.objects.select_for_update()
            .filter(group_key=f"asset:{asset.pk}", resolved_at=None)
            .first()
        )
        if item.firing:
            outcome = _external_firing(
                external,
                item,
                fields=fields,
                asset=asset,
                open_alert_=open_alert_,
                source=source,
                now=now,
            )
        else:
            outcome = _external_resolved(
                external, item, fields=fields, open_alert_=open_alert_, source=source, now=now
            )
    return outcome


def _external_firing(
    external: ExternalAlert | None,
    item: InboundAlert,
    *,
    fields: dict[str, Any],
    asset: Asset,
    open_alert_: Alert | None,
    source: InboundSource,
    now: datetime,
) -> str:
    starts = item.starts_at or now
    if external is None:
        external = ExternalAlert(
            source=source,
            fingerprint=item.fingerprint,
            state=ExternalAlert.State.RESOLVED,  # becomes firing below
            starts_at=starts,
            first_received_at=now,
            **fields,
        )
    elif external.state == ExternalAlert.State.RESOLVED and starts <= external.starts_at:
        # A late retry of a delivery from before the resolution: stale.
        return "repeated"
    was_firing = external.pk is not None and external.state == ExternalAlert.State.FIRING
    was_linked = (
        was_firing
        and external.alert_id is not None
        and open_alert_ is not None
        and external.alert_id == open_alert_.pk
    )
    for name, value in fields.items():
        setattr(external, name, value)
    if external.state == ExternalAlert.State.RESOLVED:
        external.starts_at, external.ends_at = starts, None
    external.state = ExternalAlert.State.FIRING
    if was_linked:
        external.save()
        return "repeated"
    if external.priority == "none":
        outcome, alert = Outcomes.IGNORED, None
    elif _in_maintenance(asset.pk, now):
        outcome, alert = Outcomes.MAINTENANCE, None
    elif open_alert_ is not None:
        outcome, alert = Outcomes.GROUPED, open_alert_
    else:
        outcome = Outcomes.OPENED
        title = f"{item.name}: {item.summary}" if item.summary else item.name
        alert = open_alert(
            asset, summary=f"{source.name}: {title}", priority=external.priority, at=now, now=now
        )
    if was_firing and outcome in (Outcomes.IGNORED, Outcomes.MAINTENANCE):
        last = external.events.order_by("-at", "-id").values_list("outcome", flat=True).first()
        if last == outcome:
            # Recorded as silenced on an earlier delivery already: nothing new.
            external.save()
            return "repeated"
    external.alert = alert
    external.save()
    ExternalEvent.objects.create(
        external=external, at=now, new_state=external.state, outcome=outcome, alert=alert
    )
    return str(outcome)


def _external_resolved(
    external: ExternalAlert | None,
    item: InboundAlert,
    *,
    fields: dict[str, Any],
    open_alert_: Alert | None,
    source: InboundSource,
    now: datetime,
) -> str:
    if external is not None and external.state == ExternalAlert.State.RESOLVED:
        return "repeated"
    ends = item.ends_at or now
    if external is None:
        # Resolved before we ever heard it fire (we were down, or it was
        # sent elsewhere): keep the record, nobody to tell.
        external = ExternalAlert.objects.create(
            source=source,
            fingerprint=item.fingerprint,
            state=ExternalAlert.State.RESOLVED,
            starts_at=item.starts_at or ends,
            ends_at=ends,
            first_received_at=now,
            **fields,
        )
        ExternalEvent.objects.create(
            external=external, at=now, new_state=external.state, outcome=Outcomes.IGNORED
        )
        return str(Outcomes.IGNORED)
    for name, value in fields.items():
        setattr(external, name, value)
    external.state, external.ends_at = ExternalAlert.State.RESOLVED, ends
    linked = open_alert_ is not None and external.alert_id == open_alert_.pk
    external.save()
    if open_alert_ is None or not linked:
        outcome = Outcomes.IGNORED
    elif _others_down(open_alert_.asset_id, external_id=external.pk):
        outcome = Outcomes.GROUPED
    else:
        outcome = Outcomes.RESOLVED
        resolve(open_alert_, now)
    ExternalEvent.objects.create(
        external=external,
        at=now,
        new_state=external.state,
        outcome=outcome,
        alert=open_alert_ if linked else None,
    )
    return str(outcome)
