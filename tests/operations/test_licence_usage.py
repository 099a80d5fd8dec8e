"""Licence counts from the agent's reports (section ``licences``), stored as usage."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from tests.conftest import Tenant

from leitstand.operations import agents
from leitstand.operations.models import LicenceUsage, QuarantinedReport
from leitstand_agent.collect import Collector
from leitstand_agent.config import LicenceSettings

pytestmark = pytest.mark.django_db
API = "/api/agent/v1/"


@pytest.fixture
def auth(client: Client, customer_a: Tenant) -> str:
    token = agents.create_enrollment_token(customer_a.asset)
    data = client.post(
        API + "enroll", json.dumps({"token": token}), content_type="application/json"
    ).json()
    return f"Bearer {data['host_id']}.{data['secret']}"


def report(client: Client, auth: str, seq: int, **extra: Any) -> Any:
    body = {"seq": seq, "collected_at": "2026-11-22T10:00:00+00:00", **extra}
    return client.post(
        API + "report", json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=auth
    )


def test_counts_in_a_report_are_stored_once(client: Client, customer_a: Tenant, auth: str) -> None:
    licences = {"user_accounts": 23, "concurrent_users": 7}
    assert report(client, auth, 1, licences=licences).status_code == 202
    assert report(client, auth, 1, licences=licences).status_code == 200  # a replay
    usage = LicenceUsage.objects.get()
    assert (usage.asset, usage.user_accounts, usage.concurrent_users, usage.source) == (
        customer_a.asset,
        23,
        7,
        "agent",
    )
    assert usage.measured_at == datetime(2026, 11, 22, 10, tzinfo=UTC)


def test_a_report_without_counts_stores_no_usage(client: Client, auth: str) -> None:
    assert report(client, auth, 1).status_code == 202
    assert report(client, auth, 2, licences={}).status_code == 202
    assert not LicenceUsage.objects.exists()


def test_one_count_alone_is_fine(client: Client, auth: str) -> None:
    assert report(client, auth, 1, licences={"concurrent_users": 3}).status_code == 202
    assert LicenceUsage.objects.get().user_accounts is None


@pytest.mark.parametrize(
    ("licences", "problem"),
    [
        ({"user_accounts": -1}, "report.licences.user_accounts: must be at least 0"),
        ({"user_accounts": "12"}, "report.licences.user_accounts: expected a whole number"),
        ({"seats": 3}, "report.licences.seats: unknown field"),
        ([1, 2], "report.licences: expected a mapping"),
    ],
)
def test_bad_counts_quarantine_the_report(
    client: Client, auth: str, licences: object, problem: str
) -> None:
    response = report(client, auth, 1, licences=licences)
    assert response.status_code == 400
    assert response.json()["error"].startswith(problem)
    assert QuarantinedReport.objects.get().reason.startswith(problem)
    assert not LicenceUsage.objects.exists()


def test_staff_enter_a_count_in_the_admin_and_the_customer_sees_it(
    client: Client, customer_a: Tenant
) -> None:
    from leitstand.accounts.models import User

    customer_a.contract.plan.max_user_accounts = 25
    customer_a.contract.plan.save()
    client.force_login(User.objects.create_superuser("root", "root@provider.example", "pw"))
    response = client.post(
        "/admin/operations/licenceusage/add/",
        {
            "asset": customer_a.asset.pk,
            "measured_at_0": "2026-11-20",
            "measured_at_1": "10:00:00",
            "user_accounts": "19",
            "concurrent_users": "",
            "source": "staff",
            "note": "counted in the mail admin",
        },
    )
    assert response.status_code == 302, response.content.decode()[:1000]
    usage = LicenceUsage.objects.get()
    assert (usage.user_accounts, usage.concurrent_users, usage.source) == (19, None, "staff")
    client.force_login(customer_a.user)
    assert "19 of 25" in client.get("/portal/licences/").content.decode()


def test_a_count_of_nothing_is_refused_by_the_database(customer_a: Tenant) -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        LicenceUsage.objects.create(asset=customer_a.asset, measured_at=datetime.now(UTC))


def test_the_agents_own_counts_reach_the_portal(
    client: Client, customer_a: Tenant, auth: str, tmp_path: Path
) -> None:
    """The agent counts login accounts in its passwd file and asks the
    application for its connected users (a command printing a number); the
    server stores the counts and the customer sees them against the plan."""
    customer_a.contract.plan.max_user_accounts = 3
    customer_a.contract.plan.max_concurrent_users = 10
    customer_a.contract.plan.save()
    passwd = tmp_path / "passwd"
    passwd.write_text(
        "root:x:0:0:root:/root:/bin/bash\n"
        "www-data:x:33:33::/var/www:/usr/sbin/nologin\n"
        + "".join(f"user{i}:x:{1000 + i}:{1000 + i}::/home/u{i}:/bin/bash\n" for i in range(3))
    )
    collector = Collector(
        next_packages=float("inf"),
        passwd_path=passwd,
        licence_settings=LicenceSettings(
            user_accounts="passwd",
            concurrent_users=(sys.executable, "-c", "print(4)"),
        ),
    )
    body = {"seq": 1, "collected_at": datetime.now(UTC).isoformat(), **collector.collect()}
    assert body["licences"] == {"user_accounts": 3, "concurrent_users": 4}
    response = client.post(
        API + "report", json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=auth
    )
    assert response.status_code == 202, response.content
    usage = LicenceUsage.objects.get()
    assert (usage.user_accounts, usage.concurrent_users, usage.source) == (3, 4, "agent")
    client.force_login(customer_a.user)
    page = client.get("/portal/licences/").content.decode()
    assert "3 of 3" in page
    assert "4 of 10" in page
