"""The server side of the agent protocol (docs/agent-protocol.md) through real HTTP requests."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from tests.conftest import Tenant

from leitstand.operations import agents
from leitstand.operations.models import (
    Agent,
    AgentReport,
    EnrollmentToken,
    HostMetric,
    QuarantinedReport,
    RemoteAction,
)

pytestmark = pytest.mark.django_db
API = "/api/agent/v1/"


def enroll(client: Client, token: str, hostname: str = "web01") -> Any:
    return client.post(
        API + "enroll",
        json.dumps(
            {"token": token, "hostname": hostname, "machine_id": "m1", "agent_version": "0.1.0"}
        ),
        content_type="application/json",
    )


@pytest.fixture
def enrolled(client: Client, customer_a: Tenant) -> dict[str, Any]:
    token = agents.create_enrollment_token(customer_a.asset)
    data = enroll(client, token).json()
    data["auth"] = f"Bearer {data['host_id']}.{data['secret']}"
    return data


@pytest.fixture
def other(client: Client, customer_b: Tenant) -> dict[str, Any]:
    data = enroll(client, agents.create_enrollment_token(customer_b.asset), "db01").json()
    data["auth"] = f"Bearer {data['host_id']}.{data['secret']}"
    return data


def report(client: Client, auth: str, seq: int, **extra: Any) -> Any:
    body = {
        "seq": seq,
        "collected_at": datetime.now(UTC).isoformat(),
        "agent_version": "0.1.0",
        "metrics": {"cpu_percent": 12.5, "load1": 0.5},
        "filesystems": [{"mount": "/", "percent": 91.0}],
        "raid": [{"device": "md0", "degraded": True}],
        "smart": [{"device": "/dev/sda", "passed": True}],
        **extra,
    }
    return client.post(
        API + "report", json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=auth
    )


def test_enrollment_hands_out_credentials_once_and_stores_only_a_hash(
    client: Client, customer_a: Tenant
) -> None:
    token = agents.create_enrollment_token(customer_a.asset)
    response = enroll(client, token)
    assert response.status_code == 201
    data = response.json()
    assert len(data["secret"]) >= 43  # 256 bits in base64url
    assert data["report_interval"] == 60
    agent = Agent.objects.get(pk=data["host_id"])
    assert agent.asset == customer_a.asset
    assert agent.secret_hash == hashlib.sha256(data["secret"].encode()).hexdigest()
    assert data["secret"] not in json.dumps(list(Agent.objects.values()), default=str)
    assert EnrollmentToken.objects.get().token_hash != token
    again = enroll(client, token)
    assert again.status_code == 403
    assert again.json() == {"error": "enrollment token unknown, used or expired"}


def test_an_expired_token_is_refused(client: Client, customer_a: Tenant) -> None:
    token = agents.create_enrollment_token(customer_a.asset)
    with time_machine.travel(timezone.now() + timedelta(hours=24, seconds=1)):
        assert enroll(client, token).status_code == 403
    assert not Agent.objects.exists()


@pytest.mark.parametrize("body", [b"", b"not json", b'{"tok": 1}', b"[]"])
def test_enroll_garbage_is_400(client: Client, body: bytes) -> None:
    response = client.post(API + "enroll", body, content_type="application/json")
    assert response.status_code == 400


def test_report_is_stored_with_its_metrics(client: Client, enrolled: dict[str, Any]) -> None:
    response = report(client, enrolled["auth"], 1)
    assert response.status_code == 202
    assert response.json() == {"accepted": 1}
    samples = dict(HostMetric.objects.values_list("name", "value"))
    assert samples == {
        "cpu_percent": 12.5,
        "load1": 0.5,
        "fs:/:percent": 91.0,
        "raid:md0:degraded": 1.0,
        "smart:/dev/sda:failed": 0.0,
    }
    agent = Agent.objects.get(pk=enrolled["host_id"])
    assert agent.last_seq == 1
    assert agent.last_seen_at is not None


def test_replayed_report_is_accepted_once(client: Client, enrolled: dict[str, Any]) -> None:
    assert report(client, enrolled["auth"], 7).status_code == 202
    again = report(client, enrolled["auth"], 7)
    assert again.status_code == 200
    assert again.json() == {"accepted": 7, "duplicate": True}
    assert AgentReport.objects.count() == 1
    assert HostMetric.objects.filter(name="cpu_percent").count() == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff\xfe garbage", "not JSON"),
        (
            b'{"seq": "one", "collected_at": "2026-11-22T10:00:00+00:00"}',
            "report.seq: expected a whole number",
        ),
        (b'{"seq": 1}', "missing field 'collected_at'"),
        (b'{"seq": 1, "collected_at": "yesterday"}', "bad instant"),
        (b'{"seq": 1, "collected_at": "2026-11-22T10:00:00"}', "has no UTC offset"),
        (
            b'{"seq": 1, "collected_at": "2026-11-22T10:00:00+00:00", "metrics": {"x": NaN}}',
            "finite number",
        ),
        (
            b'{"seq": 1, "collected_at": "2026-11-22T10:00:00+00:00", "metrics": {"x": "high"}}',
            "report.metrics.x",
        ),
        (
            b'{"seq": 1, "collected_at": "2026-11-22T10:00:00+00:00", "filesystems": {"/": 3}}',
            "expected a list",
        ),
        (b'{"seq": 1, "collected_at": "2099-01-01T00:00:00+00:00"}', "clock skew"),
    ],
)
def test_garbage_is_quarantined_with_the_reason(
    client: Client, enrolled: dict[str, Any], body: bytes, reason: str
) -> None:
    response = client.post(
        API + "report", body, content_type="application/json", HTTP_AUTHORIZATION=enrolled["auth"]
    )
    assert response.status_code == 400
    assert reason in response.json()["error"]
    kept = QuarantinedReport.objects.get()
    assert reason in kept.reason
    assert kept.agent_id == enrolled["host_id"]
    assert kept.body == body.decode("utf-8", errors="replace")
    assert not AgentReport.objects.exists()
    assert not HostMetric.objects.exists()


def test_huge_report_is_refused_and_its_head_quarantined(
    client: Client, enrolled: dict[str, Any]
) -> None:
    body = b'{"seq": 1, "junk": "' + b"x" * (agents.MAX_REPORT_BYTES + 10) + b'"}'
    response = client.post(
        API + "report", body, content_type="application/json", HTTP_AUTHORIZATION=enrolled["auth"]
    )
    assert response.status_code == 413
    assert len(QuarantinedReport.objects.get().body) == 65536


@pytest.mark.parametrize(
    "auth",
    [
        "",
        "Bearer",
        "Basic abc",
        "Bearer 99999.secret",
        "Bearer x.y",
    ],
)
def test_bad_credentials_are_403(client: Client, enrolled: dict[str, Any], auth: str) -> None:
    assert report(client, auth, 1).status_code == 403


def test_a_secret_writes_only_its_own_host(
    client: Client, enrolled: dict[str, Any], other: dict[str, Any]
) -> None:
    crossed = f"Bearer {other['host_id']}.{enrolled['secret']}"
    assert report(client, crossed, 1).status_code == 403
    assert client.get(API + "actions", HTTP_AUTHORIZATION=crossed).status_code == 403
    assert not AgentReport.objects.exists()


def test_rotation_without_downtime(client: Client, enrolled: dict[str, Any]) -> None:
    old = enrolled["auth"]
    response = client.post(API + "rotate", HTTP_AUTHORIZATION=old)
    new = f"Bearer {enrolled['host_id']}.{response.json()['secret']}"
    assert report(client, old, 1).status_code == 202  # old still works before the new is used
    assert report(client, new, 2).status_code == 202  # first use of the new secret
    assert report(client, old, 3).status_code == 403  # now the old one is gone
    assert report(client, new, 4).status_code == 202


def test_rate_limit_per_host(
    client: Client, enrolled: dict[str, Any], other: dict[str, Any]
) -> None:
    with time_machine.travel(datetime(2026, 11, 22, 10, 0, 5, tzinfo=UTC), tick=False):
        for _ in range(agents.RATE_LIMIT_PER_MINUTE):
            assert (
                client.get(API + "actions", HTTP_AUTHORIZATION=enrolled["auth"]).status_code == 200
            )
        refused = client.get(API + "actions", HTTP_AUTHORIZATION=enrolled["auth"])
        assert refused.status_code == 429
        assert refused["Retry-After"] == "55"
        # another host is not affected
        assert client.get(API + "actions", HTTP_AUTHORIZATION=other["auth"]).status_code == 200
    with time_machine.travel(datetime(2026, 11, 22, 10, 1, 0, tzinfo=UTC), tick=False):
        assert client.get(API + "actions", HTTP_AUTHORIZATION=enrolled["auth"]).status_code == 200


def test_actions_are_signed_handed_out_once_and_results_recorded(
    client: Client, enrolled: dict[str, Any], staff_user: Any
) -> None:
    agent = Agent.objects.get(pk=enrolled["host_id"])
    action = agents.request_action(agent, "restart_unit", {"unit": "nginx.service"}, staff_user)
    listed = client.get(API + "actions", HTTP_AUTHORIZATION=enrolled["auth"]).json()["actions"]
    assert len(listed) == 1
    item = listed[0]
    payload = {k: item[k] for k in ("id", "type", "params", "nonce", "expires_at")}
    payload["host_id"] = agent.pk
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    expected = hmac.new(enrolled["action_key"].encode(), canonical, hashlib.sha256).hexdigest()
    assert item["signature"] == expected
    assert datetime.fromisoformat(item["expires_at"]) - timezone.now() <= timedelta(minutes=5)
    assert client.get(API + "actions", HTTP_AUTHORIZATION=enrolled["auth"]).json() == {
        "actions": []
    }
    result = {"status": "done", "output": "restarted", "finished_at": datetime.now(UTC).isoformat()}
    response = client.post(
        API + f"actions/{action.pk}/result",
        json.dumps(result),
        content_type="application/json",
        HTTP_AUTHORIZATION=enrolled["auth"],
    )
    assert response.status_code == 200
    action.refresh_from_db()
    assert (action.status, action.output, action.requested_by) == ("done", "restarted", staff_user)


def test_expired_actions_are_never_handed_out(client: Client, enrolled: dict[str, Any]) -> None:
    agent = Agent.objects.get(pk=enrolled["host_id"])
    action = agents.request_action(agent, "kill_pid", {"pid": 4711, "signal": "SIGTERM"})
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert client.get(API + "actions", HTTP_AUTHORIZATION=enrolled["auth"]).json() == {
            "actions": []
        }
    action.refresh_from_db()
    assert action.status == "expired"


def test_result_for_another_hosts_action_is_404(
    client: Client, enrolled: dict[str, Any], other: dict[str, Any]
) -> None:
    action = agents.request_action(Agent.objects.get(pk=other["host_id"]), "run_updates", {})
    response = client.post(
        API + f"actions/{action.pk}/result",
        json.dumps({"status": "done"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=enrolled["auth"],
    )
    assert response.status_code == 404
    assert RemoteAction.objects.get(pk=action.pk).status == "pending"


def test_unknown_action_types_cannot_be_queued(enrolled: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="unknown action 'rm_rf'"):
        agents.request_action(Agent.objects.get(pk=enrolled["host_id"]), "rm_rf", {})


def test_api_is_not_reachable_with_wrong_methods(client: Client, enrolled: dict[str, Any]) -> None:
    assert client.get(API + "report", HTTP_AUTHORIZATION=enrolled["auth"]).status_code == 405
    assert client.get(API + "enroll").status_code == 405


@pytest.mark.django_db(transaction=True)
def test_database_outage_answers_503_with_retry_after(client: Client, customer_a: Tenant) -> None:
    """The database really refuses, no mock: PostgreSQL is made unreachable; SQLite
    (an in-memory test database that cannot be closed) denies every statement."""
    import sqlite3

    from django.db import connection

    data = enroll(client, agents.create_enrollment_token(customer_a.asset)).json()
    auth = f"Bearer {data['host_id']}.{data['secret']}"
    saved = dict(connection.settings_dict)
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        raw = connection.connection
        raw.set_authorizer(lambda *args: sqlite3.SQLITE_DENY)
    else:
        connection.close()
        connection.settings_dict["PORT"] = "1"
    try:
        response = report(client, auth, 1)
    finally:
        if connection.vendor == "sqlite":
            raw.set_authorizer(None)
        else:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert not AgentReport.objects.exists()
    assert report(client, auth, 1).status_code == 202  # and accepted once it is back


def test_staff_mint_a_token_in_the_admin_and_it_enrolls(
    client: Client, customer_a: Tenant, staff_user: Any
) -> None:
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    response = client.post(
        "/admin/contracts/asset/",
        {"action": "create_enrollment_token", "_selected_action": [customer_a.asset.pk]},
        follow=True,
    )
    text = next(iter(response.context["messages"])).message
    assert text.startswith(f"{customer_a.asset}: leitstand-agent enroll http://testserver/ ")
    token = text.rsplit(" ", 1)[1]
    client.logout()
    assert enroll(client, token).status_code == 201
