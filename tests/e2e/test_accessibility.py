"""Accessible markup, checked by axe-core in the real browser on every portal page.

Issue 8: "accessible markup (labels, contrast, keyboard use)". axe-core (pinned
through npm like the UI's other front-end files, used only by the tests) runs
the WCAG 2.1 A and AA rules on each page as a customer sees it, in English and
German; a violation names the rule, the element and axe's explanation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PASSWORD, Tenant
from tests.e2e.conftest import Visit
from tests.e2e.test_portal_journey import failing_service, final_invoice, log_in
from tests.e2e.test_staff import open_incident, staff_log_in

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def violations(visit: Visit) -> list[str]:
    """axe's findings on the page the browser shows, one line each."""
    page = visit.page
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Through the DevTools protocol: the page's CSP (script-src 'self') stays on.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(
        "rules => axe.run(document, {runOnly: {type: 'tag', values: rules}})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)})))",
        RULES,
    )
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']} at {json.dumps(v['nodes'])}"
        for v in found
    ]


PAGES = [
    "/portal/",
    "/portal/tickets/",
    "/portal/tickets/new/",
    "/portal/invoices/",
    "/portal/contacts/",
    "/portal/contacts/change/",
    "/portal/licences/",
    "/portal/licences/expand/",
    "/portal/backups/",
    "/portal/backups/restore/",
    "/portal/processes/",
    "/portal/maintenance/",
    "/portal/helpdesk/estimates/",
    "/portal/claims/",
]


def test_axe_finds_what_it_should(visit: Visit) -> None:
    """The control: the same check on markup with known faults reports them."""
    visit.page.set_content(
        '<html lang="en"><head><title>x</title></head><body><main>'
        '<img src="data:,"><form><input name="q"></form>'
        '<p style="color:#bbb;background:#fff">faint</p></main></body></html>'
    )
    rules = {line.split(": ")[1].split(" ")[0] for line in violations(visit)}
    assert {"image-alt", "label", "color-contrast"} <= rules, rules


@pytest.mark.parametrize("language", ["en", "de"])
def test_every_portal_page_passes_axe(visit: Visit, customer_a: Tenant, language: str) -> None:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run scripts/build-assets (npm ci)")
    customer_a.user.language = language
    customer_a.user.save()
    failing_service(customer_a)
    invoice = final_invoice(customer_a)
    found: list[str] = []
    visit.go("/accounts/login/", "login")
    found += violations(visit)
    log_in(visit, "C90001", "alice")
    pages = [
        *PAGES,
        f"/portal/assets/{customer_a.asset.pk}/",
        f"/portal/invoices/{invoice.number}/",
    ]
    for path in pages:
        response = visit.go(path, path.strip("/").replace("/", "-"))
        assert response.status == 200, path
        assert visit.page.locator("html").get_attribute("lang") == language
        found += violations(visit)
    assert found == [], "\n".join(found)


def test_logging_in_and_reaching_the_ticket_form_by_keyboard_alone(
    visit: Visit, customer_a: Tenant
) -> None:
    """Every step with Tab, typing and Enter: no mouse, no pointer-only control."""
    page = visit.page
    visit.go("/accounts/login/", "login")
    page.get_by_label("Customer number").focus()
    page.keyboard.type("C90001")
    page.keyboard.press("Tab")
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/portal/")
    # Tab from the top of the page to the "Open a ticket" link, then follow it.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Open a ticket":
            break
    else:
        pytest.fail("'Open a ticket' is not reachable with Tab")
    focus = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert focus != "none", "the focused link shows no focus outline"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/portal/tickets/new/")
    visit.shot("ticket-new-by-keyboard")


def test_the_back_office_passes_axe(visit: Visit, customer_a: Tenant, staff_user: Any) -> None:
    """The operators' pages too: a night shift on a laptop or with a screen reader."""
    failing_service(customer_a)
    invoice = final_invoice(customer_a)
    ticket = open_incident(customer_a)
    page = visit.page
    staff_log_in(visit)
    found: list[str] = []
    for path in [
        "/staff/",
        f"/staff/customers/{customer_a.customer.number}/",
        "/staff/monitoring/",
        f"/staff/monitoring/checks/{customer_a.check.pk}/",
        f"/staff/monitoring/assets/{customer_a.asset.pk}/",
        "/staff/alerts/",
        "/staff/tickets/",
        "/staff/tickets/new/",
        f"/staff/tickets/{ticket.number}/",
        "/staff/billing/",
        f"/staff/billing/invoices/{invoice.pk}/",
        "/staff/claims/",
        "/accounts/security/",
    ]:
        response = visit.go(path, path.strip("/").replace("/", "-"))
        page.wait_for_load_state("networkidle")
        assert response.status == 200, path
        found += violations(visit)
    assert found == [], "\n".join(found)
