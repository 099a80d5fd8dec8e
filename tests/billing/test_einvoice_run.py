"""From recorded time to e-invoice: every charge case of the shared scenarios runs
through the real invoice run and finalisation, and the stored XML is schema-valid,
keeps the business rules and states the invoice's Decimal totals to the cent."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from lxml import etree  # type: ignore[import-untyped]
from tests.billing.test_invoice_run import charge_cases, ordered, set_plan
from tests.conftest import Tenant

from leitstand.billing import actions, documents, einvoice
from leitstand.billing.models import RateCard
from leitstand.contracts.catalog import load_file
from leitstand.core.demo import CATALOG
from leitstand.helpdesk import actions as helpdesk
from leitstand.helpdesk.models import Ticket
from leitstand.lib.durations import parse_timedelta

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
CASES = charge_cases()


def total(xml: bytes, name: str) -> Decimal:
    (value,) = etree.fromstring(xml).xpath(
        f"//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:{name}/text()",
        namespaces=einvoice.NSMAP,
    )
    return Decimal(value)


@pytest.mark.parametrize(("name", "case"), CASES, ids=[n for n, _ in CASES])
def test_every_charge_case_ends_in_a_valid_e_invoice(
    name: str, case: dict[str, object], customer_a: Tenant, staff_user: object
) -> None:
    load_file(CATALOG)
    customer = customer_a.customer
    customer.street, customer.postcode, customer.city = "Weg 2", "10115", "Berlin"
    customer.save()
    card = RateCard.objects.get(name=str(case["rate_card"]))
    set_plan(customer_a, "webosa-managed", rate_card=card)
    ticket = helpdesk.open_ticket(
        customer,
        "Special request",
        "please",
        channel=Ticket.Channel.PORTAL,
        asset=customer_a.asset,
        at=datetime(2026, 11, 10, 10, tzinfo=BERLIN),
    )
    ordered(
        helpdesk.log_time(
            ticket,
            staff_user,
            str(case["work_type"]),
            parse_timedelta(str(case["duration"])),
            started_at=datetime(2026, 11, 10, 11, tzinfo=BERLIN),
        )
    )
    draft = actions.draft_invoice(customer, 2026, 11)
    assert draft is not None
    invoice = actions.finalise(draft, date(2026, 12, 1))
    for kind, profile in (("facturx", einvoice.FACTURX), ("xrechnung", einvoice.XRECHNUNG)):
        stored = documents.stored(invoice, kind)
        assert stored is not None, kind
        xml = bytes(stored.content)
        assert documents.check(xml, profile) == [], name
        assert total(xml, "TaxBasisTotalAmount") == invoice.net_total
        assert total(xml, "TaxTotalAmount") == invoice.vat_total
        assert total(xml, "GrandTotalAmount") == invoice.gross_total
        assert total(xml, "LineTotalAmount") == sum(
            (line.net for line in invoice.lines.all()), Decimal("0.00")
        )
