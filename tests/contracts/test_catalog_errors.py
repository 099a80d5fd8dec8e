"""Broken catalog files: one clear line naming file, path and problem; nothing written."""

from __future__ import annotations

import pytest
import yaml

from leitstand.contracts.catalog import CatalogError, parse_catalog, read_document
from leitstand.sla.models import Calendar

GOOD_CAL = 'office: {timezone: Europe/Berlin, hours: {mon-fri: ["09:00-17:00"]}}'

CASES = [
    ("catalog: {planets: {}}", "catalog.planets", "unknown field 'planets'"),
    ("nothing: 1", "nothing", "unknown field 'nothing'"),
    ("[1, 2]", "", "expected a mapping, got a list"),
    (
        "catalog: {calendars: {x: {timezone: Mars/Olympus, hours: {mon: []}}}}",
        "catalog.calendars.x",
        "unknown time zone 'Mars/Olympus'",
    ),
    (
        'catalog: {calendars: {x: {timezone: Europe/Berlin, hours: {mon: ["9-17"]}}}}',
        "catalog.calendars.x.hours.mon[0]",
        "bad range '9-17'",
    ),
    (
        'catalog: {calendars: {x: {timezone: Europe/Berlin, hours: {mon: ["17:00-09:00"]}}}}',
        "catalog.calendars.x.hours.mon[0]",
        "the end must be after the start",
    ),
    (
        'catalog: {calendars: {x: {timezone: Europe/Berlin, hours: {mon-fri: ["09:00-17:00"], fri: ["09:00-12:00"]}}}}',
        "catalog.calendars.x.hours.fri",
        "fri is given twice",
    ),
    (
        'catalog: {calendars: {x: {timezone: Europe/Berlin, hours: {funday: ["09:00-17:00"]}}}}',
        "catalog.calendars.x.hours.funday",
        "funday",
    ),
    (
        'catalog: {calendars: {x: {timezone: Europe/Berlin, hours: {mon: ["09:00-17:00"]}, holidays: {country: XX}}}}',
        "catalog.calendars.x",
        "XX",
    ),
    (
        "catalog: {calendars: {x: {timezone: Europe/Berlin}}}",
        "catalog.calendars.x",
        "missing field 'hours'",
    ),
    (
        "catalog: {sla_policies: {p: {calendar: nowhere, targets: {}}}}",
        "catalog.sla_policies.p.calendar",
        "unknown calendar 'nowhere'",
    ),
    (
        f"catalog: {{calendars: {{{GOOD_CAL}}}, sla_policies: {{p: {{calendar: office, targets: {{P1: {{response: {{within: 1d, clock: false}}}}}}}}}}}}",
        "catalog.sla_policies.p.targets.P1.response.within",
        "unit 'd' not allowed here",
    ),
    (
        f"catalog: {{calendars: {{{GOOD_CAL}}}, sla_policies: {{p: {{calendar: office, targets: {{P1: {{response: {{within: 4h}}}}}}}}}}}}",
        "catalog.sla_policies.p.targets.P1.response",
        "missing field 'clock'",
    ),
    (
        f"catalog: {{calendars: {{{GOOD_CAL}}}, sla_policies: {{p: {{calendar: office, targets: {{P1: {{response: {{within: 4h, clock: true, from: lunch}}}}}}}}}}}}",
        "catalog.sla_policies.p.targets.P1.response.from",
        "expected 'start' or 'diagnosis'",
    ),
    (
        "catalog: {rate_cards: {r: {currency: EUR, increment: 6x, rates: {}}}}",
        "catalog.rate_cards.r.increment",
        "bad duration '6x'",
    ),
    (
        "catalog: {rate_cards: {r: {currency: EUR, increment: 0m, rates: {}}}}",
        "catalog.rate_cards.r.increment",
        "must be longer than zero",
    ),
    (
        "catalog: {rate_cards: {r: {currency: euro, increment: 6m, rates: {}}}}",
        "catalog.rate_cards.r.currency",
        "ISO 4217",
    ),
    (
        "catalog: {rate_cards: {r: {currency: EUR, increment: 6m, rates: {a: {per_hour: 10.5}}}}}",
        "catalog.rate_cards.r.rates.a.per_hour",
        "quoted decimal",
    ),
    (
        'catalog: {rate_cards: {r: {currency: EUR, increment: 6m, rates: {a: {per_hour: "1.00", per_increment: "2.00"}}}}}',
        "catalog.rate_cards.r.rates.a",
        "exactly one of per_hour or per_increment",
    ),
    (
        'catalog: {rate_cards: {r: {currency: EUR, increment: 6m, rates: {a: {per_hour: "-1.00"}}}}}',
        "catalog.rate_cards.r.rates.a.per_hour",
        "cannot be negative",
    ),
    (
        "catalog: {claim_rules: {c: {window_days: -1, requires_reported_incident: true}}}",
        "catalog.claim_rules.c.window_days",
        "at least 0",
    ),
    (
        "catalog: {claim_rules: {c: {window_days: 14, requires_reported_incident: yes please}}}",
        "catalog.claim_rules.c.requires_reported_incident",
        "expected true or false",
    ),
    (
        "catalog: {maintenance_windows: {w: {timezone: Europe/Berlin, days: mon-sun, start: 1:00, end: '05:00'}}}",
        "catalog.maintenance_windows.w.start",
        "put it in quotes",
    ),
    (
        "catalog: {maintenance_windows: {w: {timezone: Europe/Berlin, days: mon-sun, start: '25:00', end: '05:00'}}}",
        "catalog.maintenance_windows.w.start",
        "bad time '25:00'",
    ),
    (
        "catalog: {maintenance_windows: {w: {timezone: Europe/Berlin, days: mon-sun, start: '05:00', end: '05:00'}}}",
        "catalog.maintenance_windows.w.end",
        "cannot end when it starts",
    ),
    (
        "catalog: {maintenance_windows: {w: {timezone: Europe/Berlin, days: someday, start: '01:00', end: '05:00'}}}",
        "catalog.maintenance_windows.w.days",
        "someday",
    ),
    (
        "catalog: {backup_policies: {b: {keep_for: forever}}}",
        "catalog.backup_policies.b.keep_for",
        "bad duration 'forever'",
    ),
    (
        "catalog: {restart_policies: {r: {silence: 120s, max_consecutive: three}}}",
        "catalog.restart_policies.r.max_consecutive",
        "expected a whole number",
    ),
    (
        "catalog: {process_policies: {p: {max_rss: 2 gigs}}}",
        "catalog.process_policies.p.max_rss",
        "bad size '2 gigs'",
    ),
    (
        "catalog: {process_policies: {p: {exceptions: [{command: a}, {command: a}]}}}",
        "catalog.process_policies.p.exceptions[1].command",
        "given twice",
    ),
    (
        "catalog: {update_policies: {u: {included: [patch, huge]}}}",
        "catalog.update_policies.u.included[1]",
        "unknown update class 'huge'",
    ),
    (
        "catalog: {plans: {p: {title: P, policies: {sla_policy: nowhere}}}}",
        "catalog.plans.p.policies.sla_policy",
        "unknown SLA policy 'nowhere'",
    ),
    (
        "catalog: {plans: {'bad name': {title: P}}}",
        "catalog.plans.bad name",
        "names use letters",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("text", "path", "problem"), CASES)
def test_error_names_file_path_and_problem(text: str, path: str, problem: str) -> None:
    with pytest.raises(CatalogError) as info:
        parse_catalog(yaml.safe_load(text), "offer.yaml")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"offer.yaml: {path}: " if path else "offer.yaml: ")
    assert info.value.path == path
    assert problem in info.value.problem
    assert not Calendar.objects.exists()


def test_malformed_yaml_names_the_line(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "broken.yaml"
    path.write_text("catalog:\n  calendars: [\n")
    with pytest.raises(CatalogError) as info:
        read_document(path)
    assert str(info.value).startswith(f"{path}: line 3, column 1: not valid YAML")


def test_missing_and_binary_files(tmp_path):  # type: ignore[no-untyped-def]
    with pytest.raises(CatalogError, match="no such file"):
        read_document(tmp_path / "none.yaml")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CatalogError, match="cannot read"):
        read_document(binary)


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        ("{exceptions: [{command: xmrig, max_runtime: 1h}], prohibited: [xmrig]}", "xmrig"),
        ("{exceptions: [{command: pg_dump}]}", "pg_dump"),
    ],
)
def test_contradictory_process_policy_is_refused_at_load(policy: str, problem: str) -> None:
    with pytest.raises(CatalogError) as info:
        parse_catalog(yaml.safe_load(f"catalog: {{process_policies: {{p: {policy}}}}}"), "o.yaml")
    assert info.value.path == "catalog.process_policies.p"
    assert problem in info.value.problem
