"""Demo data: the seed providers' offers, three customers, idempotent."""

from __future__ import annotations

import pytest
import yaml
from tests.conftest import SHARED_SCENARIOS

from leitstand.accounts.models import User
from leitstand.contracts.catalog import parse_catalog
from leitstand.contracts.models import Asset, Contract, Customer
from leitstand.core.demo import (
    CATALOG,
    CUSTOMER_PASSWORD,
    CUSTOMERS,
    STAFF_LOGIN,
    load_demo,
    login_banner,
)
from leitstand.monitoring.models import Check


@pytest.mark.django_db
def test_demo_loads_three_customers_with_contracts_checks_and_logins() -> None:
    load_demo()
    assert Customer.objects.count() == 3
    assert Asset.objects.count() == 3
    assert Contract.objects.count() == 3
    assert Check.objects.count() == sum(len(c.checks) for c in CUSTOMERS)
    assert User.objects.get(username=STAFF_LOGIN).is_superuser
    for spec in CUSTOMERS:
        user = User.objects.get(customer__number=spec.number, login=spec.login)
        assert user.check_password(CUSTOMER_PASSWORD)
        assert not user.is_staff
    contract = Contract.objects.get(asset__customer__number="C10003")
    assert {a.code for a in contract.addons.all()} == {"smartsupport"}
    assert contract.alarming  # SmartSupport grants alarming


@pytest.mark.django_db
def test_demo_twice_changes_nothing() -> None:
    load_demo()
    counts = (Customer.objects.count(), User.objects.count(), Check.objects.count())
    report = load_demo()
    assert not report.changed
    assert (Customer.objects.count(), User.objects.count(), Check.objects.count()) == counts


@pytest.mark.django_db
def test_banner_names_every_login() -> None:
    load_demo()
    banner = login_banner("http://127.0.0.1:8000/")
    assert "http://127.0.0.1:8000/" in banner
    assert f"user {STAFF_LOGIN!r}" in banner
    for spec in CUSTOMERS:
        assert f"customer number {spec.number!r}, user {spec.login!r}" in banner


@pytest.mark.skipif(
    not SHARED_SCENARIOS.exists(), reason="shared/scenarios is not beside the repository"
)
@pytest.mark.django_db
@pytest.mark.parametrize("scenario", sorted(SHARED_SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_demo_catalog_holds_each_seed_offer_unchanged(scenario) -> None:  # type: ignore[no-untyped-def]
    demo = parse_catalog(yaml.safe_load(CATALOG.read_text()), "demo")
    seed = parse_catalog(yaml.safe_load(scenario.read_text()), scenario.name)
    for section, entries in seed.sections.items():
        for name, entry in entries.items():
            assert name in demo.sections[section], f"{section}.{name} missing from the demo"
            assert demo.sections[section][name].fields == entry.fields
            assert demo.sections[section][name].parts == entry.parts
