"""What the server does with the agent's own actions, and the policy it hands out.

Seed 001 §5.2: the automatic restart "wird höchstens 3x hintereinander
durchgeführt" -- after that a person must look: the host's incident ticket
says so. Seed 003 §13: "Der Betrieb von Anwendungen zum Kryptowährungs-Mining"
is forbidden; a miner the agent ended becomes an abuse ticket.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from leitstand.contracts.models import Asset
from leitstand.helpdesk import actions as helpdesk
from leitstand.helpdesk.models import Message, Ticket
from leitstand.operations import process_exceptions
from leitstand.operations.models import ProcessPolicy, RestartPolicy
from leitstand.operations.process_policy import base_name


def policy_document(asset: Asset) -> dict[str, Any]:
    """The ``GET policy`` answer: the contract's process and restart policy.

    The process policy's exceptions are the catalog's plus the exceptions
    confirmed in writing for this asset and valid now (seed 000 IX "Exceptions
    may be authorised by system administration ... these must be confirmed in
    writing"); an asset's own exception replaces the catalog's for the same
    command. A program the policy prohibits is never excepted: the agent would
    refuse the whole policy, and seed 003 §13 forbids it anyway.
    """
    contract = asset.active_contract()
    process = contract.policy("process_policy") if contract else None
    restart = contract.policy("restart_policy") if contract else None
    out: dict[str, Any] = {"process_policy": None, "restart_policy": None}
    if isinstance(process, ProcessPolicy):
        exceptions = {
            base_name(e.command): {
                "command": e.command,
                "max_runtime_s": e.max_runtime_seconds,
                "max_rss": e.max_rss_bytes,
            }
            for e in process.exceptions.all()
        }
        prohibited = {base_name(p) for p in process.prohibited}
        for granted in process_exceptions.in_force_for(asset):
            if base_name(granted.command) not in prohibited:
                exceptions[base_name(granted.command)] = {
                    "command": granted.command,
                    "max_runtime_s": granted.max_runtime_seconds,
                    "max_rss": granted.max_rss_bytes,
                }
        out["process_policy"] = {
            "max_runtime_s": process.max_runtime_seconds,
            "max_rss": process.max_rss_bytes,
            "exceptions": list(exceptions.values()),
            "prohibited": sorted(process.prohibited),
        }
    if isinstance(restart, RestartPolicy):
        out["restart_policy"] = {
            "silence_s": restart.silence_seconds,
            "max_consecutive": restart.max_consecutive,
        }
    return out


def _ticket_for(asset: Asset, key: str, kind: str, subject: str, body: str) -> Ticket:
    """The open ticket of this group, with ``body`` added; or a new one."""
    existing = Ticket.objects.filter(group_key=key, status__in=helpdesk.OPEN).first()
    if existing is not None:
        Message.objects.create(
            ticket=existing, created_at=timezone.now(), body=body, channel=Ticket.Channel.MONITORING
        )
        return existing
    try:
        with transaction.atomic():
            return helpdesk.open_ticket(
                asset.customer,
                subject,
                body,
                channel=Ticket.Channel.MONITORING,
                kind=kind,
                asset=asset,
                verified=True,
                group_key=key,
            )
    except IntegrityError:  # opened a moment ago by another report: one per group
        return _ticket_for(asset, key, kind, subject, body)


def handle_report_actions(asset: Asset, report: dict[str, Any]) -> list[Ticket]:
    """Open or update tickets for escalated restarts and ended miners."""
    tickets = []
    for item in report.get("restart_actions") or []:
        if isinstance(item, dict) and item.get("decision") == "escalate":
            unit = str(item.get("unit", "?"))[:200]
            tickets.append(
                _ticket_for(
                    asset,
                    f"asset:{asset.pk}",
                    Ticket.Kind.INCIDENT,
                    f"{asset.name}: {unit} keeps failing",
                    f"{unit} was restarted automatically as often as the policy allows "
                    "and is still down; a person has to look now. "
                    f"Last error: {item.get('error') or '-'}",
                )
            )
    for item in report.get("process_actions") or []:
        if (
            isinstance(item, dict)
            and item.get("decision") == "kill:prohibited"
            and item.get("dry_run") is False
        ):
            name = str(item.get("name", "?"))[:200]
            tickets.append(
                _ticket_for(
                    asset,
                    f"abuse:{asset.pk}",
                    Ticket.Kind.ABUSE,
                    f"{asset.name}: prohibited program {name} ended",
                    f"The agent ended {name} (pid {item.get('pid')}, signal {item.get('signal')}) "
                    f"at {item.get('at')}: it is on the contract's list of prohibited programs.",
                )
            )
    return tickets
