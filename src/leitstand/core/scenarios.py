"""``leitstand scenarios check``: contracts as data, answered by the platform's own rules.

Each scenario file's catalog is loaded through :func:`leitstand.contracts.catalog.load_catalog`
(the ``leitstand catalog load`` path) inside a transaction that is rolled back
afterwards; each case is answered with the rule objects the models hand out
(``to_rule()``), the same ones tickets, invoices, maintenance, backups and the
agent use. The format is specified in ``shared/scenarios/FORMAT.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from django.db import models, transaction

from leitstand.backups.models import BackupPolicy
from leitstand.backups.retention import daily_snapshots, kept
from leitstand.billing.charges import charge
from leitstand.billing.models import RateCard
from leitstand.contracts.catalog import CatalogError, load_catalog, parse_catalog, read_document
from leitstand.lib.durations import format_duration, parse_duration, parse_size
from leitstand.lib.money import format_money, parse_money
from leitstand.lib.validation import Node, ValidationError
from leitstand.maintenance.models import MaintenanceWindow, UpdatePolicy
from leitstand.maintenance.updates import assess
from leitstand.operations.intervention import may_intervene
from leitstand.operations.models import InterventionRule, ProcessPolicy, RestartPolicy
from leitstand.operations.process_policy import ProcessInfo, decide_process
from leitstand.operations.restart_policy import decide_restart
from leitstand.reports.claims import decide_claim
from leitstand.reports.models import ClaimRule
from leitstand.sla.deadlines import deadline
from leitstand.sla.models import Calendar, SlaPolicy, SlaTarget

Answer = Any
M = TypeVar("M", bound=models.Model)
CaseHandler = Callable[[Node], tuple[Answer, Answer]]
_HANDLERS: dict[str, tuple[CaseHandler, frozenset[str]]] = {}


def case_kind(kind: str, *fields: str) -> Callable[[CaseHandler], CaseHandler]:
    """Register the answer to one case kind; ``fields`` are the fields it may carry."""

    def register(func: CaseHandler) -> CaseHandler:
        _HANDLERS[kind] = (func, frozenset({"name", "kind", "expect", *fields}))
        return func

    return register


class _Rollback(Exception):
    """Raised to discard a file's catalog after its cases are answered."""


@dataclass
class Outcome:
    """The result of checking files."""

    passed: int = 0
    failed: int = 0
    lines: list[str] = field(default_factory=list)


def check_files(paths: Iterable[str], write: Callable[[str], object] = print) -> Outcome:
    """Check every file; ``write`` one line per case and the summary last."""
    outcome = Outcome()

    def emit(line: str) -> None:
        outcome.lines.append(line)
        write(line)

    for path in paths:
        _check_file(path, outcome, emit)
    emit(f"{outcome.passed} passed, {outcome.failed} failed")
    return outcome


def _check_file(path: str, outcome: Outcome, emit: Callable[[str], None]) -> None:
    label = Path(path).name
    try:
        document = read_document(path, label)
        spec = parse_catalog(document, label)
        cases = Node(document, "")["cases"].sequence()
    except CatalogError as exc:
        emit(f"ERROR {exc}")
        outcome.failed += 1
        return
    except ValidationError as exc:
        emit(f"ERROR {label}: {exc}")
        outcome.failed += 1
        return
    try:
        with transaction.atomic():
            try:
                load_catalog(spec)
            except Exception as exc:
                emit(f"ERROR {label}: catalog: {exc}")
                outcome.failed += 1
                raise _Rollback from None
            for index, case in enumerate(cases):
                _check_case(label, index, case, outcome, emit)
            raise _Rollback
    except _Rollback:
        pass


def _check_case(
    label: str, index: int, case: Node, outcome: Outcome, emit: Callable[[str], None]
) -> None:
    name = f"case {index + 1}"
    try:
        case.mapping(required={"name", "kind", "expect"})
        name = str(case["name"].value)
        kind = case["kind"].text()
        if kind not in _HANDLERS:
            raise case["kind"].error(
                f"unknown kind {kind!r} (expected one of: {', '.join(sorted(_HANDLERS))})"
            )
        handler, allowed = _HANDLERS[kind]
        case.mapping(allowed=allowed)
        expected, got = handler(case)
    except ValidationError as exc:
        emit(f"FAIL {label}: {name}: {exc}")
        outcome.failed += 1
        return
    except Exception as exc:
        emit(f"FAIL {label}: {name}: {type(exc).__name__}: {exc}")
        outcome.failed += 1
        return
    if _equal(expected, got):
        emit(f"PASS {label}: {name}")
        outcome.passed += 1
    else:
        emit(f"FAIL {label}: {name}: expected {_show(expected)}, got {_show(got)}")
        outcome.failed += 1


def _equal(expected: Answer, got: Answer) -> bool:
    if isinstance(expected, dict):
        # FORMAT.md: "An expect map is compared key by key".
        return isinstance(got, dict) and all(_equal(v, got.get(k)) for k, v in expected.items())
    if isinstance(expected, datetime) and isinstance(got, datetime):
        # Compare in UTC: Python never calls an instant in the repeated autumn hour
        # equal to an instant in another zone, even when it is the same moment (PEP 495).
        return expected.astimezone(UTC) == got.astimezone(UTC)
    return bool(expected == got)


def _show(value: Answer) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, Decimal):
        return format_money(value)
    return str(value)


def _entry(node: Node, model: type[M], what: str) -> M:
    name = node.text()
    try:
        return model._default_manager.get(name=name)
    except model.DoesNotExist:  # type: ignore[attr-defined]
        raise node.error(f"unknown {what} {name!r}") from None


def _expect_map(case: Node, keys: set[str]) -> Node:
    return case["expect"].mapping(allowed=keys)


# --------------------------------------------------------------------------
# The case kinds of FORMAT.md


@case_kind("deadline", "policy", "priority", "target", "start", "diagnosed_at", "paused")
def _deadline(case: Node) -> tuple[Answer, Answer]:
    policy = _entry(case["policy"], SlaPolicy, "SLA policy")
    priority, target_name = case["priority"].text(), case["target"].text()
    try:
        target = policy.target(priority, target_name)
    except SlaTarget.DoesNotExist:
        raise case["target"].error(
            f"policy {policy.name!r} has no target {target_name!r} for priority {priority!r}"
        ) from None
    paused = []
    if (pauses := case.get("paused")) is not None:
        for pair in pauses.sequence():
            items = pair.sequence()
            if len(items) != 2:
                raise pair.error("a pause is [from, to]")
            paused.append((items[0].instant(), items[1].instant()))
    diagnosed = case["diagnosed_at"].instant() if case.has("diagnosed_at") else None
    got = deadline(
        target.to_rule(),
        policy.calendar.to_rule(),
        case["start"].instant(),
        diagnosed_at=diagnosed,
        paused=paused,
    )
    expected = None if case["expect"].value is None else case["expect"].instant()
    return expected, got


@case_kind("elapsed", "calendar", "from", "to")
def _elapsed(case: Node) -> tuple[Answer, Answer]:
    calendar = _entry(case["calendar"], Calendar, "calendar").to_rule()
    got = calendar.elapsed(case["from"].instant(), case["to"].instant())
    expected = case["expect"].parse(lambda t: parse_duration(t, allow="hms").as_timedelta())
    return expected, got


@case_kind("next_business_day", "calendar", "after")
def _next_business_day(case: Node) -> tuple[Answer, Answer]:
    calendar = _entry(case["calendar"], Calendar, "calendar").to_rule()
    return case["expect"].date(), calendar.next_business_day(case["after"].date())


@case_kind("charge", "rate_card", "work_type", "duration")
def _charge(case: Node) -> tuple[Answer, Answer]:
    card = _entry(case["rate_card"], RateCard, "rate card").to_rule()
    work_type = case["work_type"].text()
    if work_type not in card.rates:
        raise case["work_type"].error(f"rate card has no work type {work_type!r}")
    duration = case["duration"].parse(lambda t: parse_duration(t, allow="smhdw").as_timedelta())
    return case["expect"].check(lambda: parse_money(case["expect"].value)), charge(
        card, work_type, duration
    )


@case_kind("claim", "rule", "month", "filed_on", "reported_incidents")
def _claim(case: Node) -> tuple[Answer, Answer]:
    rule = _entry(case["rule"], ClaimRule, "claim rule").to_rule()
    month = case["month"].text()
    try:
        year, month_number = (int(p) for p in month.split("-"))
        date(year, month_number, 1)
    except ValueError:
        raise case["month"].error(f"bad month {month!r}: expected YYYY-MM") from None
    got = decide_claim(
        rule,
        year,
        month_number,
        case["filed_on"].date(),
        case["reported_incidents"].integer(minimum=0),
    )
    return case["expect"].text(), str(got)


@case_kind("maintenance", "window", "at")
def _maintenance(case: Node) -> tuple[Answer, Answer]:
    window = _entry(case["window"], MaintenanceWindow, "maintenance window").to_rule()
    at = case["at"].instant()
    expect = _expect_map(case, {"in_window", "next_start"})
    expected: dict[str, Answer] = {}
    if expect.has("in_window"):
        expected["in_window"] = expect["in_window"].boolean()
    if expect.has("next_start"):
        expected["next_start"] = expect["next_start"].instant()
    return expected, {"in_window": window.contains(at), "next_start": window.next_start(at)}


@case_kind("retention", "policy", "at", "snapshots")
def _retention(case: Node) -> tuple[Answer, Answer]:
    policy = _entry(case["policy"], BackupPolicy, "backup policy").to_rule()
    snapshots_node = case["snapshots"]
    if isinstance(snapshots_node.value, list):
        snapshots = [item.instant() for item in snapshots_node.sequence()]
    else:
        snapshots_node.mapping(
            allowed={"daily_at", "timezone", "from", "to"},
            required={"daily_at", "timezone", "from", "to"},
        )
        daily_at = snapshots_node["daily_at"].check(
            lambda: time.fromisoformat(snapshots_node["daily_at"].text())
        )
        snapshots = snapshots_node.check(
            lambda: daily_snapshots(
                daily_at,
                snapshots_node["timezone"].text(),
                snapshots_node["from"].date(),
                snapshots_node["to"].date(),
            )
        )
    result = kept(policy, case["at"].instant(), snapshots)
    expect = _expect_map(case, {"kept", "oldest"})
    expected: dict[str, Answer] = {}
    if expect.has("kept"):
        expected["kept"] = expect["kept"].integer(minimum=0)
    if expect.has("oldest"):
        expected["oldest"] = expect["oldest"].instant()
    return expected, {"kept": len(result), "oldest": result[0] if result else None}


@case_kind("intervention", "rule", "alarm_at", "answered_at", "danger", "at")
def _intervention(case: Node) -> tuple[Answer, Answer]:
    rule = _entry(case["rule"], InterventionRule, "intervention rule").to_rule()
    got = may_intervene(
        rule,
        case["alarm_at"].instant(),
        case["at"].instant(),
        answered_at=case["answered_at"].instant() if case.has("answered_at") else None,
        danger=case["danger"].boolean() if case.has("danger") else False,
    )
    return case["expect"].boolean(), got


@case_kind("restart", "policy", "silent_since", "at", "consecutive_restarts")
def _restart(case: Node) -> tuple[Answer, Answer]:
    policy = _entry(case["policy"], RestartPolicy, "restart policy").to_rule()
    got = decide_restart(
        policy,
        case["silent_since"].instant(),
        case["at"].instant(),
        case["consecutive_restarts"].integer(minimum=0),
    )
    return case["expect"].text(), str(got)


@case_kind("process", "policy", "process")
def _process(case: Node) -> tuple[Answer, Answer]:
    policy = _entry(case["policy"], ProcessPolicy, "process policy").to_rule()
    proc = case["process"].mapping(
        allowed={"command", "runtime", "rss"}, required={"command", "runtime", "rss"}
    )
    info = ProcessInfo(
        command=proc["command"].text(),
        runtime=proc["runtime"].parse(lambda t: parse_duration(t).as_timedelta()),
        rss=proc["rss"].parse(parse_size),
    )
    return case["expect"].text(), str(decide_process(policy, info))


@case_kind("update", "policy", "current", "candidate")
def _update(case: Node) -> tuple[Answer, Answer]:
    policy = _entry(case["policy"], UpdatePolicy, "update policy").to_rule()
    result = case["candidate"].check(
        lambda: assess(policy, case["current"].text(), case["candidate"].text())
    )
    expect = _expect_map(case, {"class", "included"})
    expected: dict[str, Answer] = {}
    if expect.has("class"):
        expected["class"] = expect["class"].text()
    if expect.has("included"):
        expected["included"] = expect["included"].boolean()
    got = (
        {"class": str(result.update_class), "included": result.included}
        if result is not None
        else {"class": "none", "included": False}
    )
    return expected, got
