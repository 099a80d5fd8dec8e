"""Process-limit exceptions a customer asks for, and staff confirm in writing.

Seed 000 IX: "Exceptions may be authorised by system administration. If the
Customer requests exception rules that could compromise system stability, these
must be confirmed in writing. There is no entitlement to the implementation of
such changes. If the stable operation of the servers or network is impacted,
IT-Hafen reserves the right to adjust or revoke these exception rules."
Seed 003 §9: "Ausnahmen können von der Systemadministration konfiguriert
werden. Sollten solche Ausnahmeregelungen vom Kunden gefordert werden, die
potenziell die Systemstabilität beeinträchtigen, ist eine schriftliche
Bestätigung erforderlich."

A request opens a change-request ticket; the written confirmation (or the
refusal, or a later revocation) is recorded on the request *and* sent to the
customer as a message on that ticket. Only a confirmed request inside its
validity reaches the agent (:func:`in_force_for`, used by
:func:`leitstand.operations.escalation.policy_document`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leitstand.contracts.models import Asset
from leitstand.helpdesk import actions as helpdesk
from leitstand.helpdesk.models import Ticket
from leitstand.lib.durations import format_size
from leitstand.operations.models import ProcessExceptionRequest, ProcessPolicy
from leitstand.operations.process_policy import base_name

Status = ProcessExceptionRequest.Status


class ExceptionRequestError(ValueError):
    """A request or decision that cannot be made; the message is for the user."""


@dataclass(frozen=True)
class Limits:
    """The limits that apply to one command today on one asset."""

    max_runtime: timedelta | None
    max_rss: int | None


def process_policy_of(asset: Asset) -> ProcessPolicy | None:
    """The process policy of the asset's contract in force, if any."""
    contract = asset.active_contract()
    policy = contract.policy("process_policy") if contract else None
    return policy if isinstance(policy, ProcessPolicy) else None


def is_prohibited(policy: ProcessPolicy, command: str) -> bool:
    """Whether the policy forbids ``command`` outright (seed 003 §13)."""
    return base_name(command) in {base_name(p) for p in policy.prohibited}


def check_request(
    policy: ProcessPolicy | None,
    command: str,
    max_runtime: timedelta | None,
    max_rss: int | None,
) -> str | None:
    """Why this request cannot be made, or None. The message is translated."""
    if policy is None:
        return _("No process limits apply to this server, so no exception is needed.")
    name = base_name(command)
    if not name:
        return _("Name the program (its command name, e.g. pg_dump).")
    if is_prohibited(policy, name):
        # Seed 003 §13: a prohibited program is never excepted.
        return _("%(name)s is a prohibited program; no exception is possible.") % {"name": name}
    if max_runtime is None and max_rss is None:
        return _("Ask for a longer runtime, more memory, or both.")
    rule = policy.to_rule()
    runtime_now, rss_now = rule.limits_for(name)
    raises = (max_runtime is not None and (runtime_now is None or max_runtime > runtime_now)) or (
        max_rss is not None and (rss_now is None or max_rss > rss_now)
    )
    if not raises:
        return _("The limits you ask for are not above the ones that apply already.")
    return None


def _limits_text(max_runtime_seconds: int | None, max_rss_bytes: int | None) -> str:
    parts = []
    if max_runtime_seconds is not None:
        parts.append(
            _("runtime up to %(duration)s")
            % {"duration": str(timedelta(seconds=max_runtime_seconds))}
        )
    if max_rss_bytes is not None:
        parts.append(_("memory up to %(size)s") % {"size": format_size(max_rss_bytes)})
    return ", ".join(parts)


def request_exception(
    asset: Asset,
    user: Any,
    command: str,
    *,
    max_runtime: timedelta | None,
    max_rss: int | None,
    reason: str,
    at: datetime | None = None,
) -> ProcessExceptionRequest:
    """Record the request and open its change-request ticket (verified: portal login)."""
    at = at or timezone.now()
    policy = process_policy_of(asset)
    problem = check_request(policy, command, max_runtime, max_rss)
    if problem:
        raise ExceptionRequestError(problem)
    name = base_name(command)
    runtime_s = None if max_runtime is None else int(max_runtime.total_seconds())
    limits = _limits_text(runtime_s, max_rss)
    body = "\n".join(
        [
            _("Please allow an exception to the process limits."),
            _("Server: %(asset)s") % {"asset": asset.name},
            _("Program: %(name)s") % {"name": name},
            _("Requested limits: %(limits)s") % {"limits": limits},
            "",
            _("Reason:"),
            reason,
            "",
            _(
                "An exception that could affect the stability of the system needs written "
                "confirmation by the system administration; there is no entitlement to it."
            ),
        ]
    )
    with transaction.atomic():
        ticket = helpdesk.open_ticket(
            asset.customer,
            _("Process-limit exception for %(name)s on %(asset)s")
            % {"name": name, "asset": asset.name},
            body,
            channel=Ticket.Channel.PORTAL,
            kind=Ticket.Kind.CHANGE,
            asset=asset,
            requester_email=getattr(user, "email", "") or "",
            verified=True,
            user=user,
            at=at,
        )
        return ProcessExceptionRequest.objects.create(
            asset=asset,
            command=name,
            max_runtime_seconds=runtime_s,
            max_rss_bytes=max_rss,
            reason=reason,
            requested_by=user,
            requested_at=at,
            ticket=ticket,
        )


def _decide(
    request: ProcessExceptionRequest,
    staff: Any,
    text: str,
    status: str,
    allowed_from: tuple[str, ...],
    **fields: Any,
) -> ProcessExceptionRequest:
    if not text.strip():
        raise ExceptionRequestError(_("The decision needs a written text for the customer."))
    now = timezone.now()
    with transaction.atomic():
        locked = ProcessExceptionRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status not in allowed_from:
            raise ExceptionRequestError(
                _("This request is already %(status)s.") % {"status": locked.get_status_display()}
            )
        locked.status = status
        locked.decided_by = staff
        locked.decided_at = now
        locked.decision_text = text.strip()
        for key, value in fields.items():
            setattr(locked, key, value)
        locked.full_clean(exclude=["ticket", "requested_by", "decided_by", "asset"])
        locked.save()
        if locked.ticket is not None:
            helpdesk.reply(locked.ticket, staff, locked.decision_text, at=now)
    request.refresh_from_db()
    return request


def confirm(
    request: ProcessExceptionRequest,
    staff: Any,
    text: str,
    *,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> ProcessExceptionRequest:
    """Staff's written confirmation: who, when, the text, and for how long it holds."""
    start = valid_from or timezone.now()
    if valid_until is not None and valid_until <= start:
        raise ExceptionRequestError(_("The end of the validity must lie after its start."))
    policy = process_policy_of(request.asset)
    if policy is not None and is_prohibited(policy, request.command):
        # The contract changed since the request: a forbidden program stays forbidden.
        raise ExceptionRequestError(
            _("%(name)s is a prohibited program; no exception is possible.")
            % {"name": request.command}
        )
    return _decide(
        request,
        staff,
        text,
        Status.CONFIRMED,
        (Status.REQUESTED,),
        valid_from=start,
        valid_until=valid_until,
    )


def decline(request: ProcessExceptionRequest, staff: Any, text: str) -> ProcessExceptionRequest:
    """No exception; seed 000 IX "There is no entitlement to the implementation"."""
    return _decide(request, staff, text, Status.DECLINED, (Status.REQUESTED,))


def revoke(request: ProcessExceptionRequest, staff: Any, text: str) -> ProcessExceptionRequest:
    """Seed 000 IX: the provider "reserves the right to adjust or revoke these exception
    rules" when stable operation is impacted; it ends now."""
    return _decide(
        request, staff, text, Status.REVOKED, (Status.CONFIRMED,), valid_until=timezone.now()
    )


def in_force_for(asset: Asset, at: datetime | None = None) -> list[ProcessExceptionRequest]:
    """The asset's confirmed exceptions valid at ``at``, one per command (the latest
    confirmation wins), ordered by command."""
    at = at or timezone.now()
    rows = (
        ProcessExceptionRequest.objects.filter(
            asset=asset, status=Status.CONFIRMED, valid_from__lte=at
        )
        .exclude(valid_until__lte=at)
        .order_by("command", "-decided_at")
    )
    chosen: dict[str, ProcessExceptionRequest] = {}
    for row in rows:
        chosen.setdefault(row.command, row)
    return [chosen[c] for c in sorted(chosen)]
