"""The catalog: a provider's offer as code (``leitstand catalog load|dump``).

The format is specified in ``shared/scenarios/FORMAT.md`` (section *catalog*);
Leitstand adds one optional section, ``plans``, for the packages customers book.
Loading is two steps:

1. :func:`parse_catalog` validates a document into plain specs. Every problem is
   one :class:`CatalogError` naming the file, the path in the document and the
   problem; nothing is written.
2. :func:`load_catalog` upserts the specs by name in one transaction. Entries not
   in the file stay as they are; the parts of an entry (targets, rates,
   exceptions, add-ons) follow the file. Loading the same file twice changes
   nothing, not even a timestamp.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from django.db import models, transaction

from leitstand.backups.models import BackupPolicy
from leitstand.billing.models import Rate, RateCard
from leitstand.contracts.models import POLICY_FIELDS, AddOn, Plan
from leitstand.lib.durations import Duration, format_size, parse_duration, parse_size
from leitstand.lib.money import format_money, parse_money
from leitstand.lib.validation import Node, ValidationError
from leitstand.maintenance.models import MaintenanceWindow, UpdatePolicy
from leitstand.maintenance.updates import UpdateClass
from leitstand.maintenance.windows import parse_days
from leitstand.operations.models import (
    InterventionRule,
    ProcessException,
    ProcessPolicy,
    RestartPolicy,
    process_rule_from_fields,
)
from leitstand.reports.models import ClaimRule
from leitstand.sla.models import Calendar, SlaPolicy, SlaTarget, calendar_rule_from_fields

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
CLOCK_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
CLOCK = re.compile(r"^(\d{2}):(\d{2})$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SECTIONS = (
    "calendars",
    "sla_policies",
    "rate_cards",
    "claim_rules",
    "maintenance_windows",
    "backup_policies",
    "intervention_rules",
    "restart_policies",
    "process_policies",
    "update_policies",
    "plans",
)
# Plan fields that name another catalog entry, and the section each one names.
PLAN_REFERENCES = {
    "sla_policy": "sla_policies",
    "rate_card": "rate_cards",
    "claim_rule": "claim_rules",
    "maintenance_window": "maintenance_windows",
    "update_policy": "update_policies",
    "backup_policy": "backup_policies",
    "process_policy": "process_policies",
    "restart_policy": "restart_policies",
    "intervention_rule": "intervention_rules",
}
assert set(PLAN_REFERENCES) == set(POLICY_FIELDS)
# How an entry of each section is called in messages.
ENTRY_LABELS = {
    "calendars": "calendar",
    "sla_policies": "SLA policy",
    "rate_cards": "rate card",
    "claim_rules": "claim rule",
    "maintenance_windows": "maintenance window",
    "backup_policies": "backup policy",
    "intervention_rules": "intervention rule",
    "restart_policies": "restart policy",
    "process_policies": "process policy",
    "update_policies": "update policy",
    "plans": "plan",
}


class CatalogError(ValueError):
    """One clear line: ``<file>: <path>: <problem>``."""

    def __init__(self, source: str, path: str, problem: str) -> None:
        where = f"{source}: {path}" if path else source
        super().__init__(f"{where}: {problem}")
        self.source = source
        self.path = path
        self.problem = problem


# --------------------------------------------------------------------------
# Specs: plain values, one per entry, ready to be compared with and written to rows.


@dataclass
class EntrySpec:
    """Field values of one catalog row plus its parts, keyed by name."""

    fields: dict[str, Any]
    parts: list[dict[str, Any]] = field(default_factory=list)
    path: str = ""


@dataclass
class CatalogSpec:
    """A validated catalog: section -> name -> spec."""

    sections: dict[str, dict[str, EntrySpec]] = field(
        default_factory=lambda: {name: {} for name in SECTIONS}
    )

    def count(self) -> int:
        """Number of entries."""
        return sum(len(entries) for entries in self.sections.values())


# --------------------------------------------------------------------------
# Parsing


def read_document(path: Path | str, source: str | None = None) -> Any:
    """Read a YAML file; unreadable or malformed files raise :class:`CatalogError`.

    ``source`` is how messages name the file (default: the path as given).
    """
    source = str(path) if source is None else source
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError(source, "", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(source, "", f"cannot read: {exc}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "document"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CatalogError(source, where, f"not valid YAML: {problem}") from None


def parse_catalog(document: Any, source: str) -> CatalogSpec:
    """Validate the ``catalog`` part of a document.

    The document is a mapping with a ``catalog`` key (a scenario file also has
    ``cases``, which belong to ``leitstand scenarios check``).
    """
    try:
        root = Node(document, "").mapping(allowed={"catalog", "cases"}, required={"catalog"})
        catalog = root["catalog"]
        if catalog.value is None:
            return CatalogSpec()
        catalog.mapping(allowed=set(SECTIONS))
        spec = CatalogSpec()
        for section in SECTIONS:
            node = catalog.get(section)
            if node is None:
                continue
            parser = _PARSERS[section]
            for name, entry in node.items():
                if not NAME.match(name):
                    raise entry.error(
                        "names use letters, digits, '-' and '_' and start with a letter or digit"
                    )
                spec.sections[section][name] = parser(entry)
                spec.sections[section][name].path = entry.path
        _check_references(spec)
        return spec
    except ValidationError as exc:
        raise CatalogError(source, exc.path, exc.problem) from None


def _duration(node: Node, *, allow: str = "smhdw", positive: bool = True) -> Duration:
    value = node.parse(lambda text: parse_duration(text, allow=allow))
    if positive and value == Duration():
        raise node.error("must be longer than zero")
    return value


def _seconds(node: Node, *, allow: str = "smhdw", positive: bool = True) -> int:
    return _duration(node, allow=allow, positive=positive).seconds


def _clock(node: Node) -> time:
    text = node.text()
    match = CLOCK.match(text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise node.error(f"bad time {text!r}: expected HH:MM")
    return time(int(match.group(1)), int(match.group(2)))


def _parse_calendar(node: Node) -> EntrySpec:
    node.mapping(
        allowed={"timezone", "hours", "holidays", "closed"}, required={"timezone", "hours"}
    )
    timezone = node["timezone"].text()
    hours: dict[str, list[list[str]]] = {}
    for days_text, ranges_node in node["hours"].items():
        days_node = Node(days_text, ranges_node.path)
        days = days_node.check(lambda text=days_text: parse_days(text))  # type: ignore[misc]
        ranges = []
        for item in ranges_node.sequence():
            text = item.text()
            match = CLOCK_RANGE.match(text)
            if not match:
                raise item.error(f"bad range {text!r}: expected HH:MM-HH:MM, e.g. 09:00-17:00")
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
                raise item.error(f"bad range {text!r}: no such time of day")
            if (h2, m2) <= (h1, m1):
                raise item.error(f"bad range {text!r}: the end must be after the start")
            ranges.append([f"{h1:02d}:{m1:02d}", f"{h2:02d}:{m2:02d}"])
        for day in sorted(days):
            if str(day) in hours:
                raise days_node.error(f"{WEEKDAYS[day]} is given twice")
            hours[str(day)] = sorted(ranges)
    country = subdivision = ""
    if (holidays := node.get("holidays")) is not None:
        holidays.mapping(allowed={"country", "subdivision"}, required={"country"})
        country = holidays["country"].text().upper()
        if (sub := holidays.get("subdivision")) is not None:
            subdivision = sub.text().upper()
    closed: list[str] = []
    if (closed_node := node.get("closed")) is not None:
        closed = sorted({item.date().isoformat() for item in closed_node.sequence()})
    fields = {
        "timezone": timezone,
        "hours": hours,
        "holiday_country": country,
        "holiday_subdivision": subdivision,
        "closed_days": closed,
    }
    # Building the rule object validates what only the rule knows: the zone, the
    # holiday country and subdivision, overlapping ranges.
    node.check(lambda: calendar_rule_from_fields(fields))
    return EntrySpec(fields)


def _parse_sla_policy(node: Node) -> EntrySpec:
    node.mapping(allowed={"calendar", "targets"}, required={"calendar", "targets"})
    parts = []
    for priority, targets in node["targets"].items():
        for target_name, target in targets.items():
            target.mapping(allowed={"within", "clock", "from"}, required={"within", "clock"})
            clock = target["clock"].boolean()
            # FORMAT.md: "A business-time target uses h and m only."
            within = _seconds(target["within"], allow="smhdw" if clock else "hm")
            from_diagnosis = False
            if (origin := target.get("from")) is not None:
                value = origin.text()
                if value not in {"start", "diagnosis"}:
                    raise origin.error(f"expected 'start' or 'diagnosis', got {value!r}")
                from_diagnosis = value == "diagnosis"
            parts.append(
                {
                    "priority": priority,
                    "target": target_name,
                    "within_seconds": within,
                    "clock": clock,
                    "from_diagnosis": from_diagnosis,
                }
            )
    return EntrySpec({"calendar": node["calendar"].text()}, parts)


def _parse_rate_card(node: Node) -> EntrySpec:
    node.mapping(
        allowed={"currency", "increment", "free_up_to", "rates"},
        required={"currency", "increment", "rates"},
    )
    currency = node["currency"].text()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise node["currency"].error(f"expected an ISO 4217 code such as EUR, got {currency!r}")
    free = node.get("free_up_to")
    parts = []
    for work_type, rate in node["rates"].items():
        rate.mapping(allowed={"per_hour", "per_increment"})
        given = [k for k in ("per_hour", "per_increment") if rate.has(k)]
        if len(given) != 1:
            raise rate.error("give exactly one of per_hour or per_increment")
        amount = rate[given[0]].check(lambda r=rate, k=given[0]: parse_money(r.value[k]))  # type: ignore[misc]
        if amount < 0:
            raise rate[given[0]].error("a price cannot be negative")
        parts.append(
            {
                "work_type": work_type,
                "per_hour": amount if given[0] == "per_hour" else None,
                "per_increment": amount if given[0] == "per_increment" else None,
            }
        )
    return EntrySpec(
        {
            "currency": currency,
            "increment_seconds": _seconds(node["increment"]),
            "free_up_to_seconds": _seconds(free) if free is not None else None,
        },
        parts,
    )


def _parse_claim_rule(node: Node) -> EntrySpec:
    node.mapping(
        allowed={"window_days", "requires_reported_incident"},
        required={"window_days", "requires_reported_incident"},
    )
    return EntrySpec(
        {
            "window_days": node["window_days"].integer(minimum=0),
            "requires_reported_incident": node["requires_reported_incident"].boolean(),
        }
    )


def _parse_window(node: Node) -> EntrySpec:
    node.mapping(
        allowed={"timezone", "days", "start", "end"},
        required={"timezone", "days", "start", "end"},
    )
    days = node["days"].text()
    node["days"].check(lambda: parse_days(days))
    start, end = _clock(node["start"]), _clock(node["end"])
    if start == end:
        raise node["end"].error("a window cannot end when it starts")
    fields = {"timezone": node["timezone"].text(), "days": days, "start": start, "end": end}
    node.check(lambda: MaintenanceWindow(**fields).to_rule())
    return EntrySpec(fields)


def _parse_backup_policy(node: Node) -> EntrySpec:
    node.mapping(allowed={"keep_for"}, required={"keep_for"})
    keep = _duration(node["keep_for"], allow="smhdwo")
    return EntrySpec({"keep_months": keep.months, "keep_seconds": keep.seconds})


def _parse_intervention(node: Node) -> EntrySpec:
    node.mapping(allowed={"no_answer_for"}, required={"no_answer_for"})
    return EntrySpec({"no_answer_for_seconds": _seconds(node["no_answer_for"])})


def _parse_restart(node: Node) -> EntrySpec:
    node.mapping(allowed={"silence", "max_consecutive"}, required={"silence", "max_consecutive"})
    return EntrySpec(
        {
            "silence_seconds": _seconds(node["silence"]),
            "max_consecutive": node["max_consecutive"].integer(minimum=0),
        }
    )


def _size(node: Node) -> int:
    value = node.parse(parse_size)
    if value <= 0:
        raise node.error("must be larger than zero")
    return value


def _parse_process_policy(node: Node) -> EntrySpec:
    node.mapping(allowed={"max_runtime", "max_rss", "exceptions", "prohibited"})
    parts = []
    seen: set[str] = set()
    if (exceptions := node.get("exceptions")) is not None:
        for item in exceptions.sequence():
            item.mapping(allowed={"command", "max_runtime", "max_rss"}, required={"command"})
            command = item["command"].text()
            if command in seen:
                raise item["command"].error(f"exception for {command!r} is given twice")
            seen.add(command)
            runtime, rss = item.get("max_runtime"), item.get("max_rss")
            parts.append(
                {
                    "command": command,
                    "max_runtime_seconds": _seconds(runtime) if runtime else None,
                    "max_rss_bytes": _size(rss) if rss else None,
                }
            )
    prohibited: list[str] = []
    if (names := node.get("prohibited")) is not None:
        prohibited = sorted({item.text() for item in names.sequence()})
    runtime, rss = node.get("max_runtime"), node.get("max_rss")
    fields = {
        "max_runtime_seconds": _seconds(runtime) if runtime else None,
        "max_rss_bytes": _size(rss) if rss else None,
        "prohibited": prohibited,
    }
    # The rule refuses contradictions (a command both excepted and prohibited, an
    # exception that names no limit): refuse them here, not when the agent asks.
    node.check(lambda: process_rule_from_fields(fields, parts))
    return EntrySpec(fields, parts)


def _parse_update_policy(node: Node) -> EntrySpec:
    node.mapping(allowed={"included"}, required={"included"})
    included = []
    for item in node["included"].sequence():
        value = item.text()
        if value not in {c.value for c in UpdateClass}:
            raise item.error(f"unknown update class {value!r} (expected patch, minor or major)")
        included.append(value)
    order = [c.value for c in UpdateClass]
    return EntrySpec({"included": sorted(set(included), key=order.index)})


def _parse_plan(node: Node) -> EntrySpec:
    node.mapping(
        allowed={
            "title",
            "currency",
            "monthly_fee",
            "includes",
            "limits",
            "policies",
            "alarming_included",
            "request_is_order",
            "paid_work_requires_approval",
            "addons",
        },
        required={"title"},
    )
    fields: dict[str, Any] = {
        "title": node["title"].text(),
        "currency": node["currency"].text() if node.has("currency") else "EUR",
        "monthly_fee": _money(node.get("monthly_fee")),
        "includes": [i.text() for i in node["includes"].sequence()] if node.has("includes") else [],
        "max_user_accounts": None,
        "max_concurrent_users": None,
        "alarming_included": _flag(node, "alarming_included", False),
        "request_is_order": _flag(node, "request_is_order", False),
        "paid_work_requires_approval": _flag(node, "paid_work_requires_approval", True),
    }
    if (limits := node.get("limits")) is not None:
        limits.mapping(allowed={"user_accounts", "concurrent_users"})
        if (n := limits.get("user_accounts")) is not None:
            fields["max_user_accounts"] = n.integer(minimum=0)
        if (n := limits.get("concurrent_users")) is not None:
            fields["max_concurrent_users"] = n.integer(minimum=0)
    references = dict.fromkeys(PLAN_REFERENCES, "")
    if (policies := node.get("policies")) is not None:
        policies.mapping(allowed=set(PLAN_REFERENCES))
        for key, ref in policies.items():
            references[key] = ref.text()
    fields.update(references)
    parts = []
    if (addons := node.get("addons")) is not None:
        for code, addon in addons.items():
            addon.mapping(
                allowed={
                    "title",
                    "monthly_fee",
                    "grants",
                    "extra_user_accounts",
                    "extra_concurrent_users",
                },
                required={"title"},
            )
            parts.append(
                {
                    "code": code,
                    "title": addon["title"].text(),
                    "monthly_fee": _money(addon.get("monthly_fee")),
                    "grants": [g.text() for g in addon["grants"].sequence()]
                    if addon.has("grants")
                    else [],
                    "extra_user_accounts": addon["extra_user_accounts"].integer(minimum=0)
                    if addon.has("extra_user_accounts")
                    else 0,
                    "extra_concurrent_users": addon["extra_concurrent_users"].integer(minimum=0)
                    if addon.has("extra_concurrent_users")
                    else 0,
                }
            )
    return EntrySpec(fields, parts)


def _money(node: Node | None) -> Decimal:
    if node is None:
        return Decimal("0.00")
    amount = node.check(lambda: parse_money(node.value))
    if amount < 0:
        raise node.error("an amount cannot be negative")
    return amount


def _flag(node: Node, key: str, default: bool) -> bool:
    child = node.get(key)
    return default if child is None else child.boolean()


_PARSERS: dict[str, Callable[[Node], EntrySpec]] = {
    "calendars": _parse_calendar,
    "sla_policies": _parse_sla_policy,
    "rate_cards": _parse_rate_card,
    "claim_rules": _parse_claim_rule,
    "maintenance_windows": _parse_window,
    "backup_policies": _parse_backup_policy,
    "intervention_rules": _parse_intervention,
    "restart_policies": _parse_restart,
    "process_policies": _parse_process_policy,
    "update_policies": _parse_update_policy,
    "plans": _parse_plan,
}


# --------------------------------------------------------------------------
# Loading

_MODELS: dict[str, type[models.Model]] = {
    "calendars": Calendar,
    "sla_policies": SlaPolicy,
    "rate_cards": RateCard,
    "claim_rules": ClaimRule,
    "maintenance_windows": MaintenanceWindow,
    "backup_policies": BackupPolicy,
    "intervention_rules": InterventionRule,
    "restart_policies": RestartPolicy,
    "process_policies": ProcessPolicy,
    "update_policies": UpdatePolicy,
    "plans": Plan,
}
# Parts of an entry: related name, model, field naming the owner, fields identifying a part.
_PARTS: dict[str, tuple[str, type[models.Model], str, tuple[str, ...]]] = {
    "sla_policies": ("targets", SlaTarget, "policy", ("priority", "target")),
    "rate_cards": ("rates", Rate, "card", ("work_type",)),
    "process_policies": ("exceptions", ProcessException, "policy", ("command",)),
    "plans": ("addons", AddOn, "plan", ("code",)),
}


@dataclass
class LoadReport:
    """What a load did."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def summary(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged"
        )


def _check_references(spec: CatalogSpec) -> None:
    """References may point into the file or to entries already in the database."""
    for name, entry in spec.sections["sla_policies"].items():
        calendar = entry.fields["calendar"]
        if calendar not in spec.sections["calendars"] and not _exists(Calendar, calendar):
            raise ValidationError(
                f"{entry.path or name}.calendar", f"unknown calendar {calendar!r}"
            )
    for name, entry in spec.sections["plans"].items():
        for key, section in PLAN_REFERENCES.items():
            ref = entry.fields[key]
            if ref and ref not in spec.sections[section] and not _exists(_MODELS[section], ref):
                raise ValidationError(
                    f"{entry.path or name}.policies.{key}",
                    f"unknown {ENTRY_LABELS[section]} {ref!r}",
                )


def _exists(model: type[models.Model], name: str) -> bool:
    try:
        return model._default_manager.filter(name=name).exists()
    except Exception:
        return False


def load_file(path: Path | str) -> LoadReport:
    """Validate and load one catalog file."""
    return load_catalog(parse_catalog(read_document(path), str(path)))


def load_catalog(spec: CatalogSpec) -> LoadReport:
    """Upsert every entry of a validated catalog, in dependency order, atomically."""
    report = LoadReport()
    with transaction.atomic():
        for section in SECTIONS:
            model = _MODELS[section]
            for name, entry in spec.sections[section].items():
                fields = _resolve(section, entry.fields)
                obj = model._default_manager.filter(name=name).first()
                label = f"{section}.{name}"
                if obj is None:
                    obj = model(name=name, **fields)
                    obj.full_clean(validate_unique=False, validate_constraints=False)
                    obj.save()
                    changed, created = True, True
                else:
                    changed = _assign(obj, fields)
                    created = False
                    if changed:
                        obj.save()
                if section in _PARTS and _sync_parts(section, obj, entry.parts):
                    changed = True
                    if not created:
                        # Touch the entry so caches keyed on updated_at see the change.
                        obj.save(update_fields=["updated_at"])
                if created:
                    report.created.append(label)
                elif changed:
                    report.updated.append(label)
                else:
                    report.unchanged.append(label)
    return report


def _resolve(section: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Turn reference names into rows."""
    resolved = dict(fields)
    if section == "sla_policies":
        resolved["calendar"] = Calendar.objects.get(name=fields["calendar"])
    if section == "plans":
        for key, ref_section in PLAN_REFERENCES.items():
            ref = fields[key]
            resolved[key] = _MODELS[ref_section]._default_manager.get(name=ref) if ref else None
    return resolved


def _assign(obj: models.Model, fields: Mapping[str, Any]) -> bool:
    changed = False
    for key, value in fields.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def _sync_parts(section: str, owner: models.Model, parts: list[dict[str, Any]]) -> bool:
    """Make an entry's parts equal to the file's: create, update, delete."""
    related, model, owner_field, keys = _PARTS[section]
    existing = {tuple(getattr(p, k) for k in keys): p for p in getattr(owner, related).all()}
    wanted = {tuple(p[k] for k in keys): p for p in parts}
    changed = False
    for key, row in existing.items():
        if key not in wanted:
            row.delete()
            changed = True
    for key, values in wanted.items():
        row = existing.get(key)
        if row is None:
            model._default_manager.create(**{owner_field: owner}, **values)
            changed = True
        elif _assign(row, values):
            row.save()
            changed = True
    return changed


# --------------------------------------------------------------------------
# Dumping


def format_catalog_duration(seconds: int, months: int = 0, *, units: str = "dhms") -> str:
    """Largest exact units, so that a dump reads like a hand-written file: 14d, 2h, 1h30m.

    ``units`` limits the units used: business-time targets take only ``h`` and ``m``.
    """
    out = f"{months}mo" if months else ""
    rest = seconds
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if unit not in units:
            continue
        count, rest = divmod(rest, size)
        if count:
            out += f"{count}{unit}"
    return out or "0s"


def _compact_hours(hours: Mapping[str, list[list[str]]]) -> dict[str, list[str]]:
    """Group weekdays with equal ranges into runs: {mon-fri: [...], sat: [...]}."""
    out: dict[str, list[str]] = {}
    day = 0
    while day < 7:
        ranges = hours.get(str(day))
        if not ranges:
            day += 1
            continue
        last = day
        while last + 1 < 7 and hours.get(str(last + 1)) == ranges:
            last += 1
        key = WEEKDAYS[day] if last == day else f"{WEEKDAYS[day]}-{WEEKDAYS[last]}"
        out[key] = [f"{a}-{b}" for a, b in ranges]
        day = last + 1
    return out


def _dump_calendars() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for cal in Calendar.objects.all():
        entry: dict[str, Any] = {"timezone": cal.timezone, "hours": _compact_hours(cal.hours)}
        if cal.holiday_country:
            entry["holidays"] = {"country": cal.holiday_country}
            if cal.holiday_subdivision:
                entry["holidays"]["subdivision"] = cal.holiday_subdivision
        if cal.closed_days:
            entry["closed"] = list(cal.closed_days)
        out[cal.name] = entry
    return out


def _dump_sla_policies() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for policy in SlaPolicy.objects.select_related("calendar").prefetch_related("targets"):
        targets: dict[str, dict[str, Any]] = {}
        for t in policy.targets.all():
            item: dict[str, Any] = {
                "within": format_catalog_duration(
                    t.within_seconds, units="dhms" if t.clock else "hm"
                ),
                "clock": t.clock,
            }
            if t.from_diagnosis:
                item["from"] = "diagnosis"
            targets.setdefault(t.priority, {})[t.target] = item
        out[policy.name] = {"calendar": policy.calendar.name, "targets": targets}
    return out


def _dump_rate_cards() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for card in RateCard.objects.prefetch_related("rates"):
        entry: dict[str, Any] = {
            "currency": card.currency,
            "increment": format_catalog_duration(card.increment_seconds),
        }
        if card.free_up_to_seconds is not None:
            entry["free_up_to"] = format_catalog_duration(card.free_up_to_seconds)
        entry["rates"] = {
            r.work_type: (
                {"per_hour": format_money(r.per_hour)}
                if r.per_hour is not None
                else {"per_increment": format_money(r.per_increment or Decimal(0))}
            )
            for r in card.rates.all()
        }
        out[card.name] = entry
    return out


def _dump_process_policies() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pp in ProcessPolicy.objects.prefetch_related("exceptions"):
        entry: dict[str, Any] = _limits(pp.max_runtime_seconds, pp.max_rss_bytes)
        exceptions = [
            {"command": e.command, **_limits(e.max_runtime_seconds, e.max_rss_bytes)}
            for e in pp.exceptions.all()
        ]
        if exceptions:
            entry["exceptions"] = exceptions
        if pp.prohibited:
            entry["prohibited"] = list(pp.prohibited)
        out[pp.name] = entry
    return out


def _limits(runtime: int | None, rss: int | None) -> dict[str, str]:
    limits = {}
    if runtime is not None:
        limits["max_runtime"] = format_catalog_duration(runtime)
    if rss is not None:
        limits["max_rss"] = format_size(rss)
    return limits


_DUMPERS: dict[str, Callable[[], dict[str, Any]]] = {
    "calendars": _dump_calendars,
    "sla_policies": _dump_sla_policies,
    "rate_cards": _dump_rate_cards,
    "claim_rules": lambda: {
        r.name: {
            "window_days": r.window_days,
            "requires_reported_incident": r.requires_reported_incident,
        }
        for r in ClaimRule.objects.all()
    },
    "maintenance_windows": lambda: {
        w.name: {
            "timezone": w.timezone,
            "days": w.days,
            "start": w.start.strftime("%H:%M"),
            "end": w.end.strftime("%H:%M"),
        }
        for w in MaintenanceWindow.objects.all()
    },
    "backup_policies": lambda: {
        b.name: {"keep_for": format_catalog_duration(b.keep_seconds, b.keep_months)}
        for b in BackupPolicy.objects.all()
    },
    "intervention_rules": lambda: {
        r.name: {"no_answer_for": format_catalog_duration(r.no_answer_for_seconds)}
        for r in InterventionRule.objects.all()
    },
    "restart_policies": lambda: {
        r.name: {
            "silence": format_catalog_duration(r.silence_seconds),
            "max_consecutive": r.max_consecutive,
        }
        for r in RestartPolicy.objects.all()
    },
    "process_policies": _dump_process_policies,
    "update_policies": lambda: {
        u.name: {"included": list(u.included)} for u in UpdatePolicy.objects.all()
    },
    "plans": lambda: {
        plan.name: _dump_plan(plan) for plan in Plan.objects.prefetch_related("addons")
    },
}
assert set(_DUMPERS) == set(SECTIONS)


def dump_catalog() -> dict[str, Any]:
    """The whole catalog in the load format; empty sections are left out."""
    sections = {name: _DUMPERS[name]() for name in SECTIONS}
    return {"catalog": {name: entries for name, entries in sections.items() if entries}}


def _dump_plan(plan: Plan) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "title": plan.title,
        "currency": plan.currency,
        "monthly_fee": format_money(plan.monthly_fee),
    }
    if plan.includes:
        entry["includes"] = list(plan.includes)
    limits = {}
    if plan.max_user_accounts is not None:
        limits["user_accounts"] = plan.max_user_accounts
    if plan.max_concurrent_users is not None:
        limits["concurrent_users"] = plan.max_concurrent_users
    if limits:
        entry["limits"] = limits
    policies = {}
    for key in PLAN_REFERENCES:
        ref = getattr(plan, key)
        if ref is not None:
            policies[key] = ref.name
    if policies:
        entry["policies"] = policies
    entry["alarming_included"] = plan.alarming_included
    entry["request_is_order"] = plan.request_is_order
    entry["paid_work_requires_approval"] = plan.paid_work_requires_approval
    addons = {}
    for addon in plan.addons.all():
        item: dict[str, Any] = {
            "title": addon.title,
            "monthly_fee": format_money(addon.monthly_fee),
        }
        if addon.grants:
            item["grants"] = list(addon.grants)
        if addon.extra_user_accounts:
            item["extra_user_accounts"] = addon.extra_user_accounts
        if addon.extra_concurrent_users:
            item["extra_concurrent_users"] = addon.extra_concurrent_users
        addons[addon.code] = item
    if addons:
        entry["addons"] = addons
    return entry


def dump_yaml() -> str:
    """The catalog as YAML text."""
    return yaml.safe_dump(dump_catalog(), sort_keys=False, allow_unicode=True, width=100)


__all__ = [
    "CatalogError",
    "CatalogSpec",
    "LoadReport",
    "dump_catalog",
    "dump_yaml",
    "load_catalog",
    "load_file",
    "parse_catalog",
    "read_document",
]
