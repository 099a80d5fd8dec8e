"""Restore requests: which points in time can be restored, what it may cost, and
the ticket that asks for it.

Seed 003 §6: "Das Wiederherstellen von Backups (Restore) ist über den Support
möglich, wobei sowohl einzelne Dateien, komplette Ordner als auch ganze Accounts
und VMs wiederhergestellt werden können." Seed 000 VII: "To restore a backup, a
ticket may be submitted via the customer portal or by e-mail. The restoration
of a backup may be charged to the Customer if the cause was created by the
Customer or a user of the application. In this case, the cost is €10.00 per
commenced 6 minutes."
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from leitstand.backups.models import BackupPolicy, RestoreRequest
from leitstand.backups.retention import cutoff
from leitstand.billing.models import RateCard
from leitstand.contracts.models import Asset, Contract
from leitstand.helpdesk import actions as helpdesk
from leitstand.helpdesk.models import Ticket
from leitstand.lib.money import format_money

# The rate card's work type for restores (the demo catalog's "critical-incident"
# card prices it as seed 000 VII says).
RESTORE_WORK_TYPE = "restore"


class RestoreError(ValueError):
    """A restore that cannot be requested; the message is for the customer."""


@dataclass(frozen=True)
class RestoreWindow:
    """The period from which data can be restored: (oldest, newest]."""

    oldest: datetime
    newest: datetime

    def contains(self, moment: datetime) -> bool:
        return self.oldest < moment <= self.newest


def window(policy: BackupPolicy, now: datetime) -> RestoreWindow:
    """What the retention keeps at ``now`` (seed 000 VII "retains it for up to 14
    days"): nothing older than the retention's cut-off can be restored."""
    return RestoreWindow(oldest=cutoff(policy.to_rule(), now), newest=now)


@dataclass(frozen=True)
class Price:
    """The price of restore work on a contract: per commenced increment, or per hour."""

    amount: Decimal
    currency: str
    per_increment: timedelta | None  # None: per hour


def restore_price(contract: Contract | None) -> Price | None:
    """The contract's price for restore work, or None when its rate card has none."""
    if contract is None:
        return None
    card = contract.policy("rate_card")
    if not isinstance(card, RateCard):
        return None
    rate = card.rates.filter(work_type=RESTORE_WORK_TYPE).first()
    if rate is None:
        return None
    if rate.per_increment is not None:
        return Price(rate.per_increment, card.currency, timedelta(seconds=card.increment_seconds))
    assert rate.per_hour is not None  # the rate has exactly one of the two (constraint)
    return Price(rate.per_hour, card.currency, None)


def billing_notice(price: Price | None) -> str:
    """What the form tells the customer before submitting (seed 000 VII)."""
    if price is None:
        return _(
            "Your contract sets no price for restores. If the cause was created by you or a "
            "user of the application, the provider may still agree the cost with you first."
        )
    amount = f"{format_money(price.amount)} {price.currency}"
    if price.per_increment is not None:
        return _(
            "A restore is charged if the cause was created by you or a user of the "
            "application: %(amount)s per commenced %(minutes)s minutes of work. There is no "
            "entitlement to a free restore; the provider may restore free of charge at its "
            "discretion."
        ) % {"amount": amount, "minutes": int(price.per_increment.total_seconds() // 60)}
    return _(
        "A restore is charged if the cause was created by you or a user of the "
        "application: %(amount)s per hour of work. There is no entitlement to a free "
        "restore; the provider may restore free of charge at its discretion."
    ) % {"amount": amount}


def backup_policy_of(asset: Asset) -> BackupPolicy | None:
    """The backup policy of the asset's contract in force, if any."""
    contract = asset.active_contract()
    policy = contract.policy("backup_policy") if contract else None
    return policy if isinstance(policy, BackupPolicy) else None


def request_restore(
    asset: Asset,
    user: Any,
    *,
    what: str,
    target: str,
    point_in_time: datetime,
    destination: str,
    cause: str,
    note: str = "",
    at: datetime | None = None,
) -> RestoreRequest:
    """Record the request and open its restore ticket (verified: portal login)."""
    at = at or timezone.now()
    policy = backup_policy_of(asset)
    if policy is None:
        raise RestoreError(_("No backup is booked for this server."))
    span = window(policy, at)
    if not span.contains(point_in_time):
        raise RestoreError(
            _("Backups reach back to %(oldest)s; choose a moment between then and now.")
            % {"oldest": date_format(timezone.localtime(span.oldest), "SHORT_DATETIME_FORMAT")}
        )
    if what != RestoreRequest.What.SERVER and not target.strip():
        raise RestoreError(_("Name the file, folder, account or database to restore."))
    notice = billing_notice(restore_price(asset.active_contract()))
    labels = {
        "what": RestoreRequest.What(what).label,
        "destination": RestoreRequest.Destination(destination).label,
        "cause": RestoreRequest.Cause(cause).label,
    }
    moment = date_format(timezone.localtime(point_in_time), "DATETIME_FORMAT")
    body = "\n".join(
        line
        for line in [
            _("Please restore %(what)s on %(asset)s.") % {"what": labels["what"], "asset": asset},
            _("Path or name: %(target)s") % {"target": target.strip()} if target.strip() else None,
            _("State as of: %(moment)s") % {"moment": moment},
            _("Restore: %(destination)s") % {"destination": labels["destination"]},
            _("Cause: %(cause)s") % {"cause": labels["cause"]},
            note.strip(),
            "",
            _("Shown before sending: %(notice)s") % {"notice": notice},
        ]
        if line is not None
    )
    with transaction.atomic():
        ticket = helpdesk.open_ticket(
            asset.customer,
            _("Restore %(what)s on %(asset)s") % {"what": labels["what"], "asset": asset},
            body,
            channel=Ticket.Channel.PORTAL,
            kind=Ticket.Kind.RESTORE,
            asset=asset,
            requester_email=getattr(user, "email", "") or "",
            verified=True,
            user=user,
            at=at,
        )
        return RestoreRequest.objects.create(
            asset=asset,
            what=what,
            target=target.strip()[:500],
            point_in_time=point_in_time,
            destination=destination,
            cause=cause,
            billable_notice=notice,
            requested_by=user,
            requested_at=at,
            ticket=ticket,
        )
