"""The contract's policy for the agent, and tickets from what the agent escalated or ended."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from tests.conftest import Tenant

from leitstand.contracts.catalog import load_file
from leitstand.contracts.models import Plan
from leitstand.core.demo import CATALOG
from leitstand.helpdesk.models import Ticket
from leitstand.operations import agents

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
    body = {"seq": seq, "collected_at": datetime.now(UTC).isoformat(), **extra}
    return client.post(
        API + "report", json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=auth
    )


def test_the_contracts_policy_is_handed_out(client: Client, customer_a: Tenant, auth: str) -> None:
    assert client.get(API + "policy", HTTP_AUTHORIZATION=auth).json() == {
        "process_policy": None,
        "restart_policy": None,
    }
    load_file(CATALOG)
    customer_a.contract.plan = Plan.objects.get(name="cloudflux-managed-server")
    customer_a.contract.save()
    assert client.get(API + "policy", HTTP_AUTHORIZATION=auth).json() == {
        "process_policy": {
            "max_runtime_s": 7200,
            "max_rss": 2147483648,
            "exceptions": [{"command": "pg_dump", "max_runtime_s": 21600, "max_rss": None}],
            "prohibited": ["minerd", "xmrig"],
        },
        "restart_policy": None,
    }
    assert client.get(API + "policy").status_code == 403


def test_an_escalated_restart_goes_to_the_hosts_incident(
    client: Client, customer_a: Tenant, auth: str
) -> None:
    escalate = {
        "unit": "php-fpm.service",
        "decision": "escalate",
        "at": "2026-11-22T03:00:00+00:00",
        "error": "exit 1",
    }
    assert report(client, auth, 1, restart_actions=[escalate]).status_code == 202
    assert report(client, auth, 2, restart_actions=[escalate]).status_code == 202
    incident = Ticket.objects.get()
    assert (incident.kind, incident.group_key, incident.subject) == (
        "incident",
        f"asset:{customer_a.asset.pk}",
        "alice-server: php-fpm.service keeps failing",
    )
    assert incident.messages.count() == 2
    assert "a person has to look now" in incident.messages.first().body  # type: ignore[union-attr]


def test_an_ended_miner_is_an_abuse_ticket_but_a_dry_run_is_not(
    client: Client, customer_a: Tenant, auth: str
) -> None:
    dry = {
        "pid": 4711,
        "name": "xmrig",
        "decision": "kill:prohibited",
        "signal": "SIGTERM",
        "at": "x",
        "dry_run": True,
    }
    report(client, auth, 1, process_actions=[dry])
    assert not Ticket.objects.exists()
    real = {**dry, "dry_run": False}
    report(client, auth, 2, process_actions=[real, {**real, "signal": "SIGKILL"}])
    abuse = Ticket.objects.get()
    assert (abuse.kind, abuse.subject) == ("abuse", "alice-server: prohibited program xmrig ended")
    assert abuse.messages.count() == 2
    runtime = {**real, "decision": "kill:runtime", "name": "php"}
    report(client, auth, 3, process_actions=[runtime])
    assert Ticket.objects.count() == 1  # runaway processes are the policy working, not abuse
