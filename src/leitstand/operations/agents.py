"""Agent workflows: enrollment, authentication, reports and signed remote actions.

The wire protocol is ``docs/agent-protocol.md``. Views parse and call these
functions; these functions hold the rules and change the models, each state
change inside a transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from leitstand.contracts.models import Asset
from leitstand.lib.validation import Node, ValidationError
from leitstand.monitoring import passive
from leitstand.operations import escalation
from leitstand.operations.models import (
    Agent,
    AgentReport,
    EnrollmentToken,
    HostMetric,
    LicenceUsage,
    QuarantinedReport,
    RemoteAction,
)

# The action types are the agent's: one list for both ends of the protocol.
from leitstand_agent.config import ACTION_TYPES

TOKEN_LIFETIME = timedelta(hours=24)
ACTION_LIFETIME = timedelta(minutes=5)  # the agent refuses anything further ahead
REPORT_INTERVAL_S = 60
RATE_LIMIT_PER_MINUTE = 120  # a replay after an outage sends one report after another
MAX_REPORT_BYTES = 4 * 1024 * 1024
MAX_SKEW = timedelta(days=1)


class AgentError(Exception):
    """A refusal with the HTTP status the API answers and a message for the agent."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_secret() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


# --------------------------------------------------------------------------
# Enrollment and credentials


def create_enrollment_token(asset: Asset, lifetime: timedelta = TOKEN_LIFETIME) -> str:
    """A single-use token for ``asset``; only its hash is stored, so show it once."""
    token = _new_secret()
    EnrollmentToken.objects.create(
        asset=asset, token_hash=_hash(token), expires_at=timezone.now() + lifetime
    )
    return token


@dataclass(frozen=True)
class Enrollment:
    """What the agent receives once."""

    agent: Agent
    secret: str
    action_key: str


def enroll(token: str, hostname: str, machine_id: str, version: str) -> Enrollment:
    """Use a token: create (or re-key) the asset's agent and hand out its credentials."""
    now = timezone.now()
    with transaction.atomic():
        row = (
            EnrollmentToken.objects.select_for_update()
            .select_related("asset")
            .filter(token_hash=_hash(token))
            .first()
        )
        if row is None or row.used_at is not None or row.expires_at <= now:
            raise AgentError(403, "enrollment token unknown, used or expired")
        row.used_at = now
        row.save(update_fields=["used_at"])
        secret, action_key = _new_secret(), _new_secret()
        agent, _ = Agent.objects.update_or_create(
            asset=row.asset,
            defaults={
                "hostname": hostname[:255],
                "machine_id": machine_id[:64],
                "version": version[:32],
                "secret_hash": _hash(secret),
                "pending_secret_hash": "",
                "action_key": action_key,
                "enrolled_at": now,
                "last_seq": 0,
            },
        )
    return Enrollment(agent, secret, action_key)


def authenticate(header: str) -> Agent:
    """``Bearer <host_id>.<secret>`` -> the agent, or AgentError 403.

    A secret from a rotation in progress is accepted and, on first use,
    becomes the only valid one: the agent may crash between receiving and
    storing a new secret without locking itself out.
    """
    scheme, _, credentials = header.partition(" ")
    host_id, _, secret = credentials.partition(".")
    if scheme != "Bearer" or not host_id.isdigit() or not secret:
        raise AgentError(403, "missing or malformed credentials")
    agent = Agent.objects.filter(pk=int(host_id)).select_related("asset").first()
    digest = _hash(secret)
    if agent is None:
        raise AgentError(403, "unknown host or wrong secret")
    if hmac.compare_digest(digest, agent.secret_hash):
        return agent
    if agent.pending_secret_hash and hmac.compare_digest(digest, agent.pending_secret_hash):
        Agent.objects.filter(pk=agent.pk, pending_secret_hash=digest).update(
            secret_hash=digest, pending_secret_hash=""
        )
        agent.secret_hash, agent.pending_secret_hash = digest, ""
        return agent
    raise AgentError(403, "unknown host or wrong secret")


def rotate_secret(agent: Agent) -> str:
    """A new secret; the current one stays valid until the new one is first used."""
    secret = _new_secret()
    Agent.objects.filter(pk=agent.pk).update(pending_secret_hash=_hash(secret))
    return secret


def check_rate(agent: Agent, now: datetime | None = None) -> None:
    """A fixed one-minute window per host, counted with one conditional UPDATE."""
    now = now or timezone.now()
    window = now.replace(second=0, microsecond=0)
    fresh = Agent.objects.filter(pk=agent.pk).exclude(rate_window_start=window)
    if fresh.update(rate_window_start=window, rate_window_count=1):
        return
    within = Agent.objects.filter(
        pk=agent.pk, rate_window_start=window, rate_window_count__lt=RATE_LIMIT_PER_MINUTE
    ).update(rate_window_count=F("rate_window_count") + 1)
    if not within:
        raise AgentError(429, "too many requests", retry_after=60 - now.second)


# --------------------------------------------------------------------------
# Reports


@dataclass(frozen=True)
class ReportOutcome:
    """The API's answer to one report."""

    status: int
    seq: int
    duplicate: bool = False


def _number(node: Node) -> float:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise node.error(f"expected a finite number, got {value!r}")
    return float(value)


def _flag(node: Node, *, when_true: float) -> float:
    return when_true if node.boolean() else 1.0 - when_true


# Report list -> (key field, value field, metric name, value as a number). Health
# flags become 1.0 for the bad state, so that one threshold rule (> 0) fits all.
_LIST_SAMPLES: dict[str, tuple[str, str, str, Callable[[Node], float]]] = {
    "filesystems": ("mount", "percent", "fs:{}:percent", _number),
    "raid": ("device", "degraded", "raid:{}:degraded", lambda n: _flag(n, when_true=1.0)),
    "smart": ("device", "passed", "smart:{}:failed", lambda n: _flag(n, when_true=0.0)),
}


def parse_report(body: bytes) -> tuple[dict[str, Any], list[tuple[str, float]]]:
    """Validate a report; return it and the samples to store. Raises ValidationError.

    Unknown keys are kept (newer agents may send more); known keys must have
    the protocol's types. Garbage is refused as a whole, never half-stored.
    """
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError("report", f"not JSON: {exc}") from None
    root = Node(document, "report").mapping(required={"seq", "collected_at"})
    root["seq"].integer(minimum=1)
    collected = root["collected_at"].instant()
    if collected - timezone.now() > MAX_SKEW:
        raise root["collected_at"].error("lies more than a day in the future (clock skew?)")
    samples: list[tuple[str, float]] = []
    if (metrics := root.get("metrics")) is not None:
        for name, value in metrics.items():
            samples.append((name[:100], _number(value)))
    for section, (key, field, pattern, convert) in _LIST_SAMPLES.items():
        if (items := root.get(section)) is not None:
            for item in items.sequence():
                item.mapping(required={key, field})
                name = pattern.format(item[key].text())[:100]
                samples.append((name, convert(item[field])))
    for key in ("processes", "process_actions", "restart_actions", "failed_units"):
        if (items := root.get(key)) is not None:
            items.sequence()
    if (packages := root.get("packages")) is not None:
        packages.mapping()
    _check_licences(root.get("licences"))
    return document, samples


def _check_licences(licences: Node | None) -> None:
    if licences is not None:
        licences.mapping(allowed=LICENCE_COUNTS)
        for key in LICENCE_COUNTS:
            if (count := licences.get(key)) is not None:
                count.integer(minimum=0)


# Seed 000 VI: "the number of user accounts and the number of simultaneously
# connected users is limited" -- the agent counts both where it can.
LICENCE_COUNTS = ("user_accounts", "concurrent_users")


def _licence_usage(agent: Agent, document: dict[str, Any], at: datetime) -> None:
    """Store the report's licence counts, if it has any (section ``licences``)."""
    counts = document.get("licences") or {}
    values = {key: counts.get(key) for key in LICENCE_COUNTS}
    if any(v is not None for v in values.values()):
        LicenceUsage.objects.create(
            asset_id=agent.asset_id, measured_at=at, source=LicenceUsage.Source.AGENT, **values
        )


def accept_report(agent: Agent, body: bytes) -> ReportOutcome:
    """Store a report once; a bad one goes to quarantine with the reason (AgentError 400)."""
    if len(body) > MAX_REPORT_BYTES:
        _quarantine(agent, f"report larger than {MAX_REPORT_BYTES} bytes", body[:65536])
        raise AgentError(413, f"report larger than {MAX_REPORT_BYTES} bytes")
    try:
        document, samples = parse_report(body)
    except ValidationError as exc:
        _quarantine(agent, str(exc), body)
        raise AgentError(400, str(exc)) from None
    seq = int(document["seq"])
    collected = datetime.fromisoformat(document["collected_at"]).astimezone(UTC)
    now = timezone.now()
    try:
        with transaction.atomic():
            AgentReport.objects.create(agent=agent, seq=seq, collected_at=collected, body=document)
            HostMetric.objects.bulk_create(
                HostMetric(agent=agent, name=name, at=collected, value=value)
                for name, value in samples
            )
            Agent.objects.filter(pk=agent.pk).update(
                last_seen_at=now,
                version=str(document.get("agent_version", agent.version))[:32],
            )
            Agent.objects.filter(pk=agent.pk, last_seq__lt=seq).update(last_seq=seq)
            # Threshold checks over these metrics, and tickets for what the agent
            # escalated or ended, in the same transaction as the report.
            passive.on_report(agent.asset_id, collected, dict(samples))
            _licence_usage(agent, document, collected)
            escalation.handle_report_actions(agent.asset, document)
    except IntegrityError:
        if AgentReport.objects.filter(agent=agent, seq=seq).exists():
            return ReportOutcome(200, seq, duplicate=True)
        raise
    return ReportOutcome(202, seq)


def _quarantine(agent: Agent | None, reason: str, body: bytes) -> None:
    QuarantinedReport.objects.create(
        agent=agent, reason=reason[:500], body=body.decode("utf-8", errors="replace")
    )


# --------------------------------------------------------------------------
# Remote actions


def request_action(
    agent: Agent, action_type: str, params: dict[str, Any], requested_by: Any = None
) -> RemoteAction:
    """Queue an action for the agent (it is signed when handed out)."""
    if action_type not in ACTION_TYPES:
        raise ValueError(f"unknown action {action_type!r}")
    return RemoteAction.objects.create(
        agent=agent,
        type=action_type,
        params=params,
        nonce=secrets.token_urlsafe(24),
        expires_at=(timezone.now() + ACTION_LIFETIME).replace(microsecond=0),
        requested_by=requested_by,
    )


def canonical(payload: dict[str, Any]) -> bytes:
    """The bytes both sides sign: sorted keys, no spaces."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def sign(action_key: str, payload: dict[str, Any]) -> str:
    """Hex HMAC-SHA256 over the canonical payload."""
    return hmac.new(action_key.encode(), canonical(payload), hashlib.sha256).hexdigest()


def hand_out_actions(agent: Agent) -> list[dict[str, Any]]:
    """Signed pending actions for the agent; expired ones are marked so, never sent."""
    now = timezone.now()
    out = []
    with transaction.atomic():
        RemoteAction.objects.filter(
            agent=agent,
            status__in=[RemoteAction.Status.PENDING, RemoteAction.Status.SENT],
            expires_at__lte=now,
        ).update(status=RemoteAction.Status.EXPIRED)
        pending = list(
            RemoteAction.objects.select_for_update()
            .filter(agent=agent, status=RemoteAction.Status.PENDING)
            .order_by("created_at")
        )
        for action in pending:
            payload = {
                "host_id": agent.pk,
                "id": action.pk,
                "type": action.type,
                "params": action.params,
                "nonce": action.nonce,
                "expires_at": action.expires_at.astimezone(UTC).isoformat(),
            }
            out.append({**payload, "signature": sign(agent.action_key, payload)})
            action.status = RemoteAction.Status.SENT
            action.save(update_fields=["status"])
    for item in out:
        del item["host_id"]
    return out


def record_result(agent: Agent, action_id: int, body: bytes) -> RemoteAction:
    """Store what the agent did with an action (audit log)."""
    try:
        node = Node(json.loads(body), "result").mapping(required={"status"})
        status = node["status"].text()
        if status not in {"done", "failed", "rejected"}:
            raise node["status"].error("expected done, failed or rejected")
        output = node["output"].text() if node.has("output") else ""
        started = node["started_at"].instant() if node.has("started_at") else None
        finished = node["finished_at"].instant() if node.has("finished_at") else timezone.now()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AgentError(400, f"result: not JSON: {exc}") from None
    except ValidationError as exc:
        raise AgentError(400, str(exc)) from None
    with transaction.atomic():
        action = RemoteAction.objects.select_for_update().filter(pk=action_id, agent=agent).first()
        if action is None:
            raise AgentError(404, "no such action for this host")
        action.status = status
        action.output = output[:1_000_000]
        action.started_at = started
        action.finished_at = finished
        action.save(update_fields=["status", "output", "started_at", "finished_at"])
    return action
