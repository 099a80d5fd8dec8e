"""The decision mail: in the customer's language, to the person who claimed, sent
again by the worker when the mail server refused it, never twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from tests.conftest import Tenant
from tests.reports.conftest import SmtpSink, berlin

from leitstand.accounts.models import User
from leitstand.core.periodic import REGISTRY
from leitstand.helpdesk.models import Ticket
from leitstand.reports import actions
from leitstand.reports.models import Claim

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(customer_a: Tenant, november_outage: Ticket, at: Callable[[datetime], None]) -> Claim:
    at(berlin(2026, 12, 3, 9, 0))
    return actions.submit_claim(customer_a.contract, 2026, 11, "Down.", user=customer_a.user)


def test_english_customers_get_an_english_mail(
    customer_a: Tenant, submitted: Claim, staff_user: User, smtp: SmtpSink
) -> None:
    customer_a.customer.language = "en"
    customer_a.customer.save()
    actions.decide(submitted, "rejected", user=staff_user, reason="Announced maintenance.")
    assert actions.notify_decision(submitted.pk) is True
    [mail] = smtp.received
    assert mail["Subject"] == "Your claim for November 2026: Rejected"
    body = mail.get_content()
    assert body.startswith("Hello Alpha GmbH,")
    assert "Announced maintenance." in body
    assert "Measured availability: 99.722 % (agreed: 99.900 %)." in body
    assert "Compensation" not in body  # nothing granted, nothing promised


def test_a_decision_is_mailed_once(submitted: Claim, staff_user: User, smtp: SmtpSink) -> None:
    actions.decide(submitted, "accepted", user=staff_user)
    assert actions.notify_decision(submitted.pk) is True
    assert actions.notify_decision(submitted.pk) is False
    assert actions.send_pending_notices() == 0
    assert len(smtp.received) == 1


def test_undecided_and_withdrawn_claims_are_not_mailed(submitted: Claim, smtp: SmtpSink) -> None:
    assert actions.notify_decision(submitted.pk) is False
    actions.withdraw_claim(submitted)
    assert actions.notify_decision(submitted.pk) is False
    assert actions.send_pending_notices() == 0
    assert smtp.received == []


def test_without_an_address_nothing_is_sent_and_nothing_retried(
    customer_a: Tenant, submitted: Claim, staff_user: User, smtp: SmtpSink
) -> None:
    User.objects.filter(pk=customer_a.user.pk).update(email="")
    actions.decide(submitted, "accepted", user=staff_user)
    assert actions.notify_decision(submitted.pk) is False
    submitted.refresh_from_db()
    assert submitted.notified_at is not None
    assert actions.send_pending_notices() == 0
    assert smtp.received == []


def test_the_worker_retries_what_the_mail_server_refused(
    customer_a: Tenant, submitted: Claim, staff_user: User, smtp: SmtpSink
) -> None:
    assert "leitstand.reports.jobs.claim_notices" in REGISTRY
    smtp.refuse = True
    actions.decide(submitted, "accepted", user=staff_user)
    assert actions.notify_decision(submitted.pk) is False
    assert REGISTRY["leitstand.reports.jobs.claim_notices"].step() == 0
    smtp.refuse = False
    assert REGISTRY["leitstand.reports.jobs.claim_notices"].step() == 1
    [mail] = smtp.received
    assert mail["To"] == customer_a.user.email
