"""Threshold checks over agent metrics: evaluated when a report arrives.

Seed 001 §3.2: "Alarmierung per E-Mail und/oder SMS (CPU-Load, RAM,
File-System-Auslastung, Host-Down)"; seed 003 §2: "Serverlast • Festplatten
(RAID-Status, S.M.A.R.T., Speicherauslastung)", "Mailversandlimits"; seed 000
VII: "a daily backup" (its age).

These checks are *passive*: nothing is probed; the agent's report is the
observation. They are evaluated in the transaction that stores the report, so
the result, the state change and its event are written together or not at all.
A sweep marks them CRITICAL when the agent has gone silent for longer than the
check's ``max_age_s`` (default 300 s: five missed reports) -- the "host down"
of a host that cannot be pinged from outside.

Metric names are those of the agent protocol (``docs/agent-protocol.md``) as the
server stores them: ``cpu_percent``, ``load1``, ``mem_percent``,
``swap_percent``, ``mail_queue``, ``backup_age_s`` (seconds since the last
good backup ended), ``fs:<mount>:percent``,
``raid:<device>:degraded`` and ``smart:<device>:failed`` (1 means bad). A ``*``
in a name matches every mount or device; the worst one decides.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from leitstand.maintenance.models import PlannedWork
from leitstand.monitoring import hooks
from leitstand.monitoring.checks import fields
from leitstand.monitoring.checks.base import ParamsError, Result, State
from leitstand.monitoring.models import Check, CheckEvent, CheckResult, CheckStatus
from leitstand.monitoring.states import CheckState, Status, advance

KIND = "agent_metric"
PASSIVE_KINDS = frozenset({KIND})
DEFAULT_MAX_AGE_S = 300.0
# Once the agent is silent, each sweep is one failed attempt: with 3 attempts
# the silence is confirmed two minutes after it was first noticed.
SWEEP_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class AgentMetricParams:
    """Which metric, its thresholds (reached = state), and how old a report may be."""

    metric: str
    warning: float | None = None
    critical: float | None = None
    max_age_s: float = DEFAULT_MAX_AGE_S


def parse_params(raw: Mapping[str, Any]) -> AgentMetricParams:
    """Validate the JSON stored on the check; ``ParamsError`` names the field."""
    fields.only(raw, {"metric", "warning", "critical", "max_age_s"})
    metric = fields.text(raw, "metric")
    thresholds = []
    for name in ("warning", "critical"):
        value = raw.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ParamsError(f"{name}: must be a number")
        thresholds.append(None if value is None else float(value))
    warning, critical = thresholds
    if warning is None and critical is None:
        raise ParamsError("warning: give a warning or a critical threshold (or both)")
    if warning is not None and critical is not None and warning > critical:
        raise ParamsError("warning: must not be greater than critical")
    max_age = fields.optional_seconds(raw, "max_age_s")
    return AgentMetricParams(metric, warning, critical, max_age or DEFAULT_MAX_AGE_S)


def evaluate(
    params: AgentMetricParams, samples: Mapping[str, float], report_age_s: float | None
) -> Result:
    """The state for the latest report's ``samples``, ``report_age_s`` old (None: never)."""
    if report_age_s is None:
        return Result(State.CRITICAL, "the agent has never reported")
    if report_age_s > params.max_age_s:
        minutes = report_age_s / 60
        return Result(State.CRITICAL, f"no report from the agent for {minutes:.0f} min")
    matching = {
        name: value for name, value in samples.items() if fnmatch.fnmatchcase(name, params.metric)
    }
    if not matching:
        return Result(State.UNKNOWN, f"the last report has no value for {params.metric}")
    name, value = max(matching.items(), key=lambda item: item[1])
    state, limit = State.OK, None
    if params.critical is not None and value >= params.critical:
        state, limit = State.CRITICAL, f"critical at {params.critical:g}"
    elif params.warning is not None and value >= params.warning:
        state, limit = State.WARNING, f"warning at {params.warning:g}"
    summary = f"{name} = {value:g}" + (f" ({limit})" if limit else "")
    return Result(state, summary, metrics={name: value})


def _in_maintenance(asset_id: int, at: datetime) -> bool:
    return PlannedWork.objects.filter(assets=asset_id, starts_at__lte=at, ends_at__gt=at).exists()


def record(check: Check, result: Result, at: datetime) -> list[CheckEvent]:
    """Fold a result into the check's state and store result, status and events.

    Runs under a row lock on the status, so a report and the silence sweep
    never fold into the same state twice.
    """
    with transaction.atomic():
        status = CheckStatus.objects.select_for_update().filter(pk=check.pk).first()
        parent = (
            CheckStatus.objects.filter(pk=check.parent_id)
            .values_list("hard_state", flat=True)
            .first()
            if check.parent_id
            else None
        )
        new, events = advance(
            status.to_state() if status is not None else CheckState(),
            Status(result.state),
            max_attempts=check.max_attempts,
            parent_down=parent in (Status.CRITICAL, Status.UNREACHABLE),
            parent_pending=parent == Status.PENDING,
        )
        maintenance = _in_maintenance(check.asset_id, at)
        CheckResult.objects.create(
            service_check=check,
            at=at,
            state=new.state.value,
            summary=result.summary[:300],
            metrics=result.metrics,
            in_maintenance=maintenance,
        )
        stored = [
            CheckEvent.objects.create(
                service_check=check,
                at=at,
                kind=e.kind.value,
                old_state=e.old.value,
                new_state=e.new.value,
                reason=result.summary[:300],
                priority=check.priority,
                flapping=e.flapping,
                in_maintenance=maintenance,
            )
            for e in events
        ]
        hooks.emit(stored)
        changed = any(e.kind == "state" for e in events)
        values = {
            "state": new.state.value,
            "hard_state": new.hard_state.value,
            "attempt": new.attempt,
            "flapping": new.flapping,
            "history": [s.value for s in new.history],
            "summary": result.summary[:300],
            "last_run_at": at,
        }
        if changed:
            values["last_change_at"] = at
        CheckStatus.objects.update_or_create(service_check=check, defaults=values)
    return stored


def on_report(asset_id: int, collected_at: datetime, samples: Mapping[str, float]) -> int:
    """Evaluate the asset's agent-metric checks against a new report; how many ran."""
    # The report itself is the observation: it is never "too old" here, even
    # when it arrives late from the agent's buffer after an outage. Silence is
    # the sweep's business.
    checks = Check.objects.filter(asset_id=asset_id, kind=KIND, enabled=True)
    for check in checks:
        try:
            params = parse_params(check.params)
        except ParamsError as exc:
            result = Result(State.UNKNOWN, f"invalid check: {exc}")
        else:
            result = evaluate(params, samples, 0.0)
        record(check, result, collected_at)
    return len(checks)


def sweep_silent(now: datetime) -> int:
    """Mark agent-metric checks CRITICAL whose agent has been silent too long."""
    marked = 0
    for check in Check.objects.filter(kind=KIND, enabled=True).select_related("asset"):
        try:
            params = parse_params(check.params)
        except ParamsError:
            continue
        last = CheckStatus.objects.filter(pk=check.pk).values_list("last_run_at", flat=True).first()
        agent = getattr(check.asset, "agent", None)
        seen = agent.last_seen_at if agent is not None else None
        if seen is not None and now - seen <= timedelta(seconds=params.max_age_s):
            continue
        if last is not None and now - last < SWEEP_EVERY:
            continue  # counted as an attempt a moment ago
        age = None if seen is None else (now - seen).total_seconds()
        record(check, evaluate(params, {}, age), now)
        marked += 1
    return marked
