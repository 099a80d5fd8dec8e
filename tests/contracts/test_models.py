"""Contracts inherit the plan's policies; rule objects come from the stored numbers."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from tests.conftest import Tenant

from leitstand.billing.models import RateCard
from leitstand.contracts.catalog import load_file
from leitstand.contracts.models import AddOn, Contract, Plan, VerifiedEmail
from leitstand.core.demo import CATALOG
from leitstand.sla.models import Calendar

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def catalog() -> None:
    load_file(CATALOG)


def test_contract_policy_falls_back_to_the_plan(customer_a: Tenant, catalog: None) -> None:
    contract = customer_a.contract
    contract.plan = Plan.objects.get(name="webosa-managed")
    contract.save()
    assert contract.policy("rate_card") == RateCard.objects.get(name="webosa")
    own = RateCard.objects.get(name="cloudflux")
    contract.rate_card = own
    assert contract.policy("rate_card") == own
    with pytest.raises(ValueError, match="unknown policy field"):
        contract.policy("colour")


def test_alarming_comes_from_contract_plan_or_add_on(customer_a: Tenant, catalog: None) -> None:
    contract = customer_a.contract
    contract.plan = Plan.objects.get(name="it-hafen-managed")
    contract.save()
    assert not contract.alarming
    contract.addons.add(AddOn.objects.get(plan__name="it-hafen-managed", code="smartsupport"))
    assert contract.alarming
    assert "24x7_handling" in contract.grants()
    contract.addons.clear()
    contract.alarming_booked = True
    assert contract.alarming
    contract.alarming_booked = False
    contract.plan = Plan.objects.get(name="msp-basic")  # alarming is part of MSP 3.2
    assert contract.alarming


def test_contract_cannot_end_before_it_starts(customer_a: Tenant) -> None:
    from django.db import IntegrityError, transaction

    bad = Contract(
        asset=customer_a.asset, plan=customer_a.contract.plan, starts_on=date(2026, 5, 1)
    )
    bad.ends_on = date(2026, 4, 30)
    with pytest.raises(IntegrityError), transaction.atomic():
        bad.save()


def test_active_contract(customer_a: Tenant) -> None:
    asset = customer_a.asset
    assert asset.active_contract(date(2026, 6, 1)) == customer_a.contract
    assert asset.active_contract(date(2025, 12, 31)) is None
    customer_a.contract.ends_on = date(2026, 6, 30)
    customer_a.contract.save()
    assert asset.active_contract(date(2026, 7, 1)) is None


def test_email_addresses_are_stored_lower_case(customer_a: Tenant) -> None:
    email = VerifiedEmail.objects.create(contact=customer_a.contact, address=" Boss@Alpha.Example ")
    assert email.address == "boss@alpha.example"
    assert not email.is_verified


def test_calendar_rule_is_rebuilt_when_the_row_changes(catalog: None) -> None:
    cal = Calendar.objects.get(name="webosa-office")
    friday = datetime(2026, 11, 20, 16, 30, tzinfo=BERLIN)
    assert cal.to_rule().add(friday, timedelta(hours=1)) == datetime(
        2026, 11, 23, 9, 30, tzinfo=BERLIN
    )
    assert cal.to_rule() is cal.to_rule()  # cached while unchanged
    cal.hours["5"] = [["09:00", "13:00"]]  # open on Saturday mornings
    cal.save()
    cal.refresh_from_db()
    assert cal.to_rule().add(friday, timedelta(hours=1)) == datetime(
        2026, 11, 21, 9, 30, tzinfo=BERLIN
    )
