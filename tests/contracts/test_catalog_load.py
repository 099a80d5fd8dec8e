"""Loading the catalog: upsert by name, idempotent, parts follow the file, dump round-trips."""

from __future__ import annotations

from decimal import Decimal

import pytest
import yaml

from leitstand.billing.models import Rate, RateCard
from leitstand.contracts.catalog import dump_catalog, dump_yaml, load_catalog, parse_catalog
from leitstand.contracts.models import Plan
from leitstand.core.demo import CATALOG
from leitstand.operations.models import ProcessPolicy
from leitstand.sla.models import Calendar, SlaPolicy

pytestmark = pytest.mark.django_db

WEBOSA = """
catalog:
  calendars:
    office:
      timezone: Europe/Amsterdam
      hours: {mon-fri: ["09:00-17:00"]}
  sla_policies:
    gold:
      calendar: office
      targets:
        P1: {initial_response: {within: 1h, clock: true}}
        P2: {initial_response: {within: 1h, clock: false}, restoration: {within: 4h, clock: false, from: diagnosis}}
  rate_cards:
    support:
      currency: EUR
      increment: 30m
      rates: {it_support: {per_hour: "140.00"}, basic: {per_increment: "50.00"}}
"""


def load(text: str, source: str = "test.yaml"):  # type: ignore[no-untyped-def]
    return load_catalog(parse_catalog(yaml.safe_load(text), source))


def test_first_load_creates_every_entry() -> None:
    report = load(WEBOSA)
    assert sorted(report.created) == [
        "calendars.office",
        "rate_cards.support",
        "sla_policies.gold",
    ]
    policy = SlaPolicy.objects.get(name="gold")
    assert policy.calendar.name == "office"
    restoration = policy.target("P2", "restoration")
    assert (restoration.within_seconds, restoration.clock, restoration.from_diagnosis) == (
        14400,
        False,
        True,
    )
    rate = Rate.objects.get(card__name="support", work_type="it_support")
    assert rate.per_hour == Decimal("140.00")
    assert rate.per_increment is None


def test_second_load_changes_nothing_not_even_timestamps() -> None:
    load(WEBOSA)
    before = {c.name: c.updated_at for c in Calendar.objects.all()}
    before_cards = {c.name: c.updated_at for c in RateCard.objects.all()}
    report = load(WEBOSA)
    assert not report.changed
    assert len(report.unchanged) == 3
    assert {c.name: c.updated_at for c in Calendar.objects.all()} == before
    assert {c.name: c.updated_at for c in RateCard.objects.all()} == before_cards


def test_changed_value_updates_only_that_entry() -> None:
    load(WEBOSA)
    report = load(WEBOSA.replace('per_hour: "140.00"', 'per_hour: "150.00"'))
    assert report.updated == ["rate_cards.support"]
    assert Rate.objects.get(work_type="it_support").per_hour == Decimal("150.00")


def test_parts_follow_the_file() -> None:
    load(WEBOSA)
    load(WEBOSA.replace(', basic: {per_increment: "50.00"}', ""))
    assert list(Rate.objects.values_list("work_type", flat=True)) == ["it_support"]
    load(WEBOSA.replace("P1: {initial_response: {within: 1h, clock: true}}", ""))
    assert SlaPolicy.objects.get(name="gold").priorities() == ["P2"]


def test_entries_missing_from_a_file_stay() -> None:
    load(WEBOSA)
    load("catalog:\n  claim_rules:\n    c: {window_days: 14, requires_reported_incident: true}\n")
    assert Calendar.objects.filter(name="office").exists()


def test_reference_to_an_entry_already_in_the_database() -> None:
    load(WEBOSA)
    load("catalog:\n  sla_policies:\n    silver:\n      calendar: office\n      targets: {}\n")
    assert SlaPolicy.objects.get(name="silver").calendar.name == "office"


def test_load_is_atomic() -> None:
    """A failure halfway leaves nothing behind."""
    spec = parse_catalog(yaml.safe_load(WEBOSA), "t.yaml")
    spec.sections["rate_cards"]["support"].parts.append(
        {"work_type": "broken", "per_hour": None, "per_increment": None}  # violates a constraint
    )
    with pytest.raises(Exception):  # noqa: B017, PT011 - the database's own error
        load_catalog(spec)
    assert not Calendar.objects.exists()


def test_dump_round_trips_the_demo_catalog() -> None:
    load(CATALOG.read_text())
    first = dump_catalog()
    report = load(dump_yaml())
    assert not report.changed
    assert dump_catalog() == first


def test_dump_writes_business_targets_in_hours() -> None:
    load(WEBOSA.replace("within: 4h, clock: false", "within: 24h, clock: false"))
    targets = dump_catalog()["catalog"]["sla_policies"]["gold"]["targets"]
    assert targets["P2"]["restoration"] == {"within": "24h", "clock": False, "from": "diagnosis"}


def test_demo_plans_reference_their_policies() -> None:
    load(CATALOG.read_text())
    plan = Plan.objects.get(name="cloudflux-managed-server")
    assert plan.process_policy is not None
    rule = ProcessPolicy.objects.get(name="managed-server").to_rule()
    assert rule.prohibited == frozenset({"xmrig", "minerd"})
    assert plan.addons.count() == 0
    assert Plan.objects.get(name="it-hafen-managed").addons.count() == 3
