"""The account in a real browser: a forgotten password, reset through a verified mailbox."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from tests.accounts import conftest as accounts
from tests.accounts.conftest import Sink, run_tasks
from tests.conftest import Tenant
from tests.e2e.conftest import Visit
from tests.e2e.test_portal_journey import log_in

from leitstand.contracts.models import VerifiedEmail

pytestmark = pytest.mark.django_db(transaction=True)

smtp = accounts.smtp  # the real SMTP server on loopback

NEW_PASSWORD = "Tr0ubadour-and-sunlight-42"


def test_forgotten_password_is_reset_through_the_verified_mailbox(
    visit: Visit, customer_a: Tenant, smtp: Sink
) -> None:
    VerifiedEmail.objects.filter(contact=customer_a.contact).update(verified_at=timezone.now())
    page = visit.page
    visit.go("/accounts/login/", "login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.wait_for_load_state("load")
    visit.shot("reset-request")
    page.get_by_label("Customer number").fill("C90001")
    page.get_by_label("User name").fill("alice")
    page.get_by_role("button", name="Send link").click()
    page.wait_for_load_state("load")
    visit.shot("reset-sent")
    assert page.get_by_text("If the account exists and has a verified e-mail address").is_visible()

    run_tasks()  # what `leitstand worker` does
    [(recipients, message)] = smtp.messages
    assert recipients == ["alice@c90001.example"]
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    link = re.search(r"https?://\S+/accounts/password/reset/\S+/\S+/", body.decode())
    assert link is not None
    page.goto(link.group(0))
    page.wait_for_load_state("load")
    visit.shot("reset-form")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password").click()
    page.wait_for_load_state("load")
    visit.shot("reset-done")
    assert page.get_by_text("Your password has been set").is_visible()

    log_in(visit, "C90001", "alice", NEW_PASSWORD)
    assert page.url.endswith("/portal/")
    visit.shot("dashboard")
