"""Claim workflows: submit (portal), withdraw (portal), decide (back office), tell the customer.

Every state change happens under a row lock inside a transaction, and only
from the state it expects: two operators deciding at once, or a customer
withdrawing while staff decide, leave exactly one decision.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from leitstand.contracts.models import Contract
from leitstand.helpdesk import actions as helpdesk
from leitstand.helpdesk.models import Ticket
from leitstand.reports.claims import ClaimDecision
from leitstand.reports.models import Claim
from leitstand.reports.sla import MonthReport, local_today, month_report

log = logging.getLogger("leitstand.reports")


class ClaimError(Exception):
    """A claim action refused, with a message for the person who asked (translated)."""


def refusal(decision: ClaimDecision | None, deadline: date | None) -> str | None:
    """The plain-words reason a claim cannot be filed, or None when it can."""
    if decision is None:
        return _("Your contract for this server provides no penalty compensation.")
    if decision == ClaimDecision.REJECTED_EARLY:
        return _("The month is not over yet. You can submit a claim from the first day after it.")
    if decision == ClaimDecision.REJECTED_LATE:
        return _("The claim period for this month ended on %(deadline)s.") % {
            "deadline": formats.date_format(deadline, "DATE_FORMAT") if deadline else "",
        }
    if decision == ClaimDecision.REJECTED_NO_REPORTED_INCIDENT:
        return _(
            "A claim is only possible for a month in which you reported at least one "
            "incident yourself. There is no incident reported by you in this month."
        )
    return None


def submit_claim(
    contract: Contract,
    year: int,
    month: int,
    statement: str,
    *,
    user: Any,
    tickets: Iterable[Ticket] = (),
    now: datetime | None = None,
) -> Claim:
    """File a claim for ``contract`` and the month, if the contract allows it now.

    Seed 002 §2.2: "Claims must be submitted within 14 calendar days following the
    end of the relevant month. A claim may only be submitted if the Client
    reported at least one incident during that month." The day of filing is
    the customer's local date. Raises :class:`ClaimError` with the reason.
    """
    now = now or timezone.now()
    customer = contract.asset.customer
    statement = statement.strip()
    if not statement:
        raise ClaimError(_("Please describe what happened."))
    report = month_report(contract, year, month)
    reason = refusal(report.admissible(local_today(customer, now)), report.deadline)
    if reason is not None:
        raise ClaimError(reason)
    chosen = list(tickets)
    if any(t.customer_id != customer.pk for t in chosen):
        raise ClaimError(_("You can only refer to your own tickets."))
    try:
        with transaction.atomic():
            claim = Claim.objects.create(
                customer=customer,
                contract=contract,
                month=date(year, month, 1),
                submitted_by=user,
                submitted_at=now,
                statement=statement,
                currency=contract.plan.currency,
            )
            claim.tickets.set(chosen)
            # Seed 002 §2.2 "Claims must be submitted via the support channel": the
            # helpdesk gets a claim ticket, so the claim sits in the same queues.
            with translation.override(customer.language or "de"):
                subject = _("SLA claim %(month)s (%(asset)s)") % {
                    "month": formats.date_format(claim.month, "YEAR_MONTH_FORMAT"),
                    "asset": contract.asset.name,
                }
            claim.ticket = helpdesk.open_ticket(
                customer,
                subject,
                statement,
                channel=Ticket.Channel.PORTAL,
                kind=Ticket.Kind.CLAIM,
                asset=contract.asset,
                requester_email=getattr(user, "email", "") or "",
                verified=True,
                user=user,
                at=now,
            )
            claim.save(update_fields=["ticket"])
    except IntegrityError:
        raise ClaimError(
            _("There is already a claim for this server and month. You can follow it in the list.")
        ) from None
    return claim


def withdraw_claim(claim: Claim, *, now: datetime | None = None) -> Claim:
    """The customer takes back a claim not yet decided."""
    with transaction.atomic():
        locked = Claim.objects.select_for_update().get(pk=claim.pk)
        if locked.state != Claim.State.SUBMITTED:
            raise ClaimError(_("This claim has already been decided and cannot be withdrawn."))
        locked.state = Claim.State.WITHDRAWN
        locked.decided_at = now or timezone.now()
        locked.save(update_fields=["state", "decided_at"])
        if locked.ticket is not None:
            helpdesk.set_status(locked.ticket, Ticket.Status.CLOSED, at=locked.decided_at)
    return locked


def decide(
    claim: Claim,
    state: str,
    *,
    user: Any,
    reason: str = "",
    amount: Decimal | None = None,
    now: datetime | None = None,
) -> Claim:
    """Accept, partly accept or reject a submitted claim.

    Accepting grants what the contract's compensation rule computes from the
    measured availability (cap included); a partial acceptance grants less,
    with a reason; a rejection needs a reason. The computation is stored with
    the decision, so the customer's letter and the credit say the same.
    """
    reason = reason.strip()
    if state not in Claim.DECIDED_STATES:
        raise ClaimError(_("Unknown decision."))
    if state != Claim.State.ACCEPTED and not reason:
        raise ClaimError(_("Please give the customer a reason."))
    with transaction.atomic():
        locked = (
            Claim.objects.select_for_update()
            .select_related("contract__asset__customer", "contract__plan")
            .get(pk=claim.pk)
        )
        if locked.state != Claim.State.SUBMITTED:
            raise ClaimError(_("This claim has already been decided or withdrawn."))
        report = month_report(locked.contract, *locked.year_month)
        computed = _computed(report)
        granted: Decimal | None = None
        if state == Claim.State.ACCEPTED:
            if computed is None or computed <= 0:
                raise ClaimError(
                    _(
                        "The measurements show no compensation for this month; "
                        "reject the claim with a reason instead."
                    )
                )
            granted = computed
        elif state == Claim.State.PARTLY_ACCEPTED:
            if computed is None or computed <= 0:
                raise ClaimError(_("There is no computed compensation to grant a part of."))
            if amount is None or amount <= 0 or amount >= computed:
                raise ClaimError(
                    _("A partial compensation must be more than 0 and less than %(amount)s.")
                    % {"amount": computed}
                )
            if amount != amount.quantize(Decimal("0.01")):
                raise ClaimError(_("Amounts have at most two decimal places."))
            granted = amount
        locked.state = state
        locked.reason = reason
        locked.decided_by = user
        locked.decided_at = now or timezone.now()
        locked.availability = report.availability
        locked.target = report.compensation.target if report.compensation else None
        locked.computed_amount = computed
        locked.amount = granted
        locked.save()
        if locked.ticket is not None:
            # The answer on the claim ticket too: the customer reads it where they asked.
            with translation.override(locked.customer.language or "de"):
                body = render_to_string("reports/mail_decision.txt", {"claim": locked})
            helpdesk.reply(locked.ticket, user, body, at=locked.decided_at)
            helpdesk.set_status(locked.ticket, Ticket.Status.RESOLVED, at=locked.decided_at)
        transaction.on_commit(lambda: notify_decision(locked.pk))
    return locked


def _computed(report: MonthReport) -> Decimal | None:
    return None if report.compensation is None else report.compensation.amount


def notify_decision(claim_id: int) -> bool:
    """Mail the decision to the person who submitted the claim, in the customer's language.

    Runs after the decision is committed: a mail server that is down must not
    undo a decision. What was not sent stays marked and is sent again by
    :func:`send_pending_notices`. True when a mail went out.
    """
    claim = (
        Claim.objects.select_related("customer", "contract__asset", "submitted_by")
        .filter(pk=claim_id, state__in=Claim.DECIDED_STATES, notified_at__isnull=True)
        .first()
    )
    if claim is None:
        return False
    address = getattr(claim.submitted_by, "email", "") or ""
    if not address:
        # Nobody to write to: recorded as done, so the retry loop does not spin on it.
        Claim.objects.filter(pk=claim.pk).update(notified_at=timezone.now())
        return False
    with translation.override(claim.customer.language or "de"):
        subject = _("Your claim for %(month)s: %(state)s") % {
            "month": formats.date_format(claim.month, "YEAR_MONTH_FORMAT"),
            "state": claim.get_state_display(),
        }
        body = render_to_string("reports/mail_decision.txt", {"claim": claim})
    try:
        EmailMessage(subject=subject, body=body, to=[address]).send()
    except Exception:  # any failure of the mail server: try again later
        log.warning("decision mail for claim %s not sent; will retry", claim.pk, exc_info=True)
        return False
    Claim.objects.filter(pk=claim.pk).update(notified_at=timezone.now())
    return True


def send_pending_notices(limit: int = 50) -> int:
    """Send decision mails that could not be sent before; how many went out."""
    ids = list(
        Claim.objects.filter(
            state__in=Claim.DECIDED_STATES, notified_at__isnull=True, decided_at__isnull=False
        )
        .order_by("decided_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in ids if notify_decision(pk))
