"""Backups and restore requests in the portal (seed 000 VII, seed 003 §6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from tests.conftest import Tenant

from leitstand.backups.models import RestoreRequest
from leitstand.billing.models import RateCard
from leitstand.contracts.catalog import load_file
from leitstand.contracts.models import Plan
from leitstand.core.demo import CATALOG
from leitstand.helpdesk.models import Ticket
from leitstand.operations import agents
from leitstand.operations.models import Agent, RemoteAction

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def it_hafen(customer_a: Tenant, customer_b: Tenant) -> Tenant:
    """Daily backup kept 14 days; restores priced at 10 EUR per commenced 6 minutes."""
    load_file(CATALOG)
    for tenant in (customer_a, customer_b):
        tenant.contract.plan = Plan.objects.get(name="it-hafen-managed")
        tenant.contract.rate_card = RateCard.objects.get(name="critical-incident")
        tenant.contract.save()
    return customer_a


def test_the_policy_the_window_and_the_last_reported_backup(
    client: Client, it_hafen: Tenant
) -> None:
    agent = Agent.objects.create(
        asset=it_hafen.asset, secret_hash="x", action_key="k", enrolled_at=NOW
    )
    with time_machine.travel(NOW - timedelta(hours=9), tick=False):
        action = agents.request_action(agent, "run_backup", {})
    RemoteAction.objects.filter(pk=action.pk).update(
        status="done", finished_at=NOW - timedelta(hours=8)
    )
    with time_machine.travel(NOW, tick=False):
        client.force_login(it_hafen.user)
        html = client.get("/portal/backups/").content.decode()
    assert "all data" in html
    assert "daily" in html
    assert "14 days" in html
    assert "11/08/2026" in html  # restorable from: 14 days back
    assert "11/22/2026 5 a.m.: done" in html  # 04:00 UTC on the Berlin wall clock
    assert f"/portal/backups/restore/?asset={it_hafen.asset.pk}" in html


def test_snapshots_of_the_retention_period_only_and_only_the_customers_own(
    client: Client, it_hafen: Tenant, customer_b: Tenant
) -> None:
    def backup(tenant: Tenant, hours_ago: int, output: str, status: str = "done") -> None:
        agent, _ = Agent.objects.get_or_create(
            asset=tenant.asset,
            defaults={"secret_hash": f"x{tenant.asset.pk}", "action_key": "k", "enrolled_at": NOW},
        )
        with time_machine.travel(NOW - timedelta(hours=hours_ago + 1), tick=False):
            action = agents.request_action(agent, "run_backup", {})
        RemoteAction.objects.filter(pk=action.pk).update(
            status=status, finished_at=NOW - timedelta(hours=hours_ago), output=output
        )

    backup(it_hafen, 8, "processed 1 files\nsnapshot 3355b3ac saved\n")
    backup(it_hafen, 32, "snapshot 24374658 saved\n")
    backup(it_hafen, 15 * 24, "snapshot 0badc0de saved\n")  # past the 14 days kept
    backup(it_hafen, 4, "Fatal: repository is locked\n", status="failed")
    backup(customer_b, 8, "snapshot b0b0b0b0 saved\n")
    with time_machine.travel(NOW, tick=False):
        client.force_login(it_hafen.user)
        html = client.get("/portal/backups/").content.decode()
    assert html.index("3355b3ac") < html.index("24374658")  # newest first
    assert "0badc0de" not in html
    assert "b0b0b0b0" not in html


def test_no_backup_booked_is_said(client: Client, customer_a: Tenant) -> None:
    client.force_login(customer_a.user)
    html = client.get("/portal/backups/").content.decode()
    assert "No backup is booked for this server." in html
    response = client.get(f"/portal/backups/restore/?asset={customer_a.asset.pk}")
    assert response.status_code == 302
    assert response.url == "/portal/backups/"


def test_the_form_says_what_a_restore_costs_before_it_is_sent(
    client: Client, it_hafen: Tenant
) -> None:
    client.force_login(it_hafen.user)
    html = client.get(f"/portal/backups/restore/?asset={it_hafen.asset.pk}").content.decode()
    notice = html.index("10.00 EUR per commenced 6 minutes")
    assert notice < html.index('<button type="submit">Send the restore request')
    for what in ("a file", "a folder", "an account", "a database", "the whole server"):
        assert what in html
    assert "Europe/Berlin" in html


def test_a_restore_request_on_the_customers_wall_clock(client: Client, it_hafen: Tenant) -> None:
    with time_machine.travel(NOW, tick=False):
        client.force_login(it_hafen.user)
        response = client.post(
            f"/portal/backups/restore/?asset={it_hafen.asset.pk}",
            {
                "what": "database",
                "target": "shop",
                "point_in_time": "2026-11-21T23:30",
                "destination": "alongside",
                "cause": "customer",
            },
        )
    request = RestoreRequest.objects.get()
    assert response.url == f"/portal/tickets/{request.ticket.number}/"
    # 23:30 in Berlin (UTC+1 in November) is 22:30 UTC
    assert request.point_in_time == datetime(2026, 11, 21, 22, 30, tzinfo=UTC)
    assert (request.ticket.kind, request.asset) == ("restore", it_hafen.asset)
    assert "10.00 EUR per commenced 6 minutes" in request.billable_notice
    with time_machine.travel(NOW, tick=False):
        page = client.get("/portal/backups/").content.decode()
    assert request.ticket.number in page
    assert "shop" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"point_in_time": "2026-10-01T10:00"}, "Backups reach back to 11/08/2026"),
        ({"point_in_time": "yesterday"}, "Enter a valid date/time."),
        ({"target": ""}, "Name the file, folder, account or database."),
        ({"what": "universe"}, "Select a valid choice"),
        ({"cause": ""}, "This field is required."),
    ],
)
def test_bad_restore_requests_get_a_clear_error(
    client: Client, it_hafen: Tenant, data: dict[str, str], message: str
) -> None:
    form = {
        "what": "file",
        "target": "/etc/hosts",
        "point_in_time": "2026-11-21T10:00",
        "destination": "original",
        "cause": "other",
        **data,
    }
    with time_machine.travel(NOW, tick=False):
        client.force_login(it_hafen.user)
        response = client.post(f"/portal/backups/restore/?asset={it_hafen.asset.pk}", form)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Ticket.objects.exists()


def test_another_customers_asset_answers_404(
    client: Client, it_hafen: Tenant, customer_b: Tenant
) -> None:
    client.force_login(it_hafen.user)
    url = f"/portal/backups/restore/?asset={customer_b.asset.pk}"
    assert client.get(url).status_code == 404
    form = {"what": "server", "point_in_time": "2026-11-21T10:00", "destination": "original"}
    assert client.post(url, {**form, "cause": "other"}).status_code == 404
    assert not Ticket.objects.exists()
    assert client.get("/portal/backups/restore/?asset=x").status_code == 302


def test_another_customers_restore_requests_are_not_listed(
    client: Client, it_hafen: Tenant, customer_b: Tenant
) -> None:
    with time_machine.travel(NOW, tick=False):
        client.force_login(customer_b.user)
        client.post(
            f"/portal/backups/restore/?asset={customer_b.asset.pk}",
            {
                "what": "file",
                "target": "/home/bob/secret.txt",
                "point_in_time": "2026-11-21T10:00",
                "destination": "original",
                "cause": "other",
            },
        )
    assert RestoreRequest.objects.count() == 1
    with time_machine.travel(NOW, tick=False):
        client.force_login(it_hafen.user)
        assert "secret.txt" not in client.get("/portal/backups/").content.decode()
