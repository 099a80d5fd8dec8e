"""Threshold checks over agent metrics: pure evaluation, and the path from a report
through the agent API to results, states and events."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from tests.conftest import Tenant

from leitstand.monitoring import passive
from leitstand.monitoring.checks.base import ParamsError, State
from leitstand.monitoring.models import Check, CheckEvent, CheckResult, CheckStatus
from leitstand.monitoring.passive import AgentMetricParams, evaluate, parse_params
from leitstand.operations import agents
from leitstand_agent.collect import Collector

FS = AgentMetricParams("fs:*:percent", warning=80, critical=90)


@pytest.mark.parametrize(
    ("params", "samples", "age", "state", "summary"),
    [
        (FS, {"fs:/:percent": 50.0, "fs:/var:percent": 70.0}, 10, State.OK, "fs:/var:percent = 70"),
        (FS, {"fs:/:percent": 85.0}, 10, State.WARNING, "fs:/:percent = 85 (warning at 80)"),
        (FS, {"fs:/:percent": 90.0}, 10, State.CRITICAL, "fs:/:percent = 90 (critical at 90)"),
        # the worst filesystem decides
        (
            FS,
            {"fs:/:percent": 10.0, "fs:/srv:percent": 95.5},
            10,
            State.CRITICAL,
            "fs:/srv:percent = 95.5 (critical at 90)",
        ),
        (
            FS,
            {"cpu_percent": 10.0},
            10,
            State.UNKNOWN,
            "the last report has no value for fs:*:percent",
        ),
        (FS, {"fs:/:percent": 10.0}, 301, State.CRITICAL, "no report from the agent for 5 min"),
        (FS, {}, None, State.CRITICAL, "the agent has never reported"),
        (
            AgentMetricParams("raid:*:degraded", critical=1),
            {"raid:md0:degraded": 1.0},
            0,
            State.CRITICAL,
            "raid:md0:degraded = 1 (critical at 1)",
        ),
        (
            AgentMetricParams("raid:*:degraded", critical=1),
            {"raid:md0:degraded": 0.0},
            0,
            State.OK,
            "raid:md0:degraded = 0",
        ),
        (AgentMetricParams("load1", warning=4), {"load1": 3.99}, 0, State.OK, "load1 = 3.99"),
    ],
)
def test_evaluate(
    params: AgentMetricParams,
    samples: dict[str, float],
    age: float | None,
    state: State,
    summary: str,
) -> None:
    result = evaluate(params, samples, age)
    assert (result.state, result.summary) == (state, summary)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "metric: required"),
        ({"metric": "load1"}, "give a warning or a critical threshold"),
        ({"metric": "load1", "warning": "high"}, "warning: must be a number"),
        ({"metric": "load1", "warning": 5, "critical": 4}, "must not be greater than critical"),
        ({"metric": "load1", "critical": 4, "max_age_s": 0}, "max_age_s: must be greater than 0"),
        ({"metric": "load1", "critical": 4, "colour": "red"}, "unknown parameter 'colour'"),
    ],
)
def test_bad_params(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ParamsError, match=message):
        parse_params(raw)


def test_params_defaults() -> None:
    assert parse_params({"metric": "cpu_percent", "critical": 95}) == AgentMetricParams(
        "cpu_percent", None, 95.0, 300.0
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "params", "field"),
    [
        ("agent_metric", {"metric": "load1"}, "params"),
        ("tcp", {"host": "127.0.0.1"}, "params"),
        ("teleport", {}, "kind"),
    ],
)
def test_saving_a_bad_check_names_the_field(
    customer_a: Tenant, kind: str, params: dict[str, Any], field: str
) -> None:
    check = Check(asset=customer_a.asset, name="x", kind=kind, params=params)
    with pytest.raises(ValidationError) as info:
        check.full_clean()
    assert field in info.value.message_dict


@pytest.mark.django_db
def test_good_checks_validate(customer_a: Tenant) -> None:
    Check(
        asset=customer_a.asset,
        name="a",
        kind="agent_metric",
        params={"metric": "load1", "critical": 8},
    ).full_clean()
    Check(
        asset=customer_a.asset, name="b", kind="tcp", params={"host": "127.0.0.1", "port": 22}
    ).full_clean()


def enroll(client: Client, tenant: Tenant) -> str:
    """Enroll an agent for the tenant's asset; its Authorization header."""
    token = agents.create_enrollment_token(tenant.asset)
    enrolled = client.post(
        "/api/agent/v1/enroll", json.dumps({"token": token}), content_type="application/json"
    ).json()
    return f"Bearer {enrolled['host_id']}.{enrolled['secret']}"


def post_report(client: Client, auth: str, seq: int, fs_percent: float) -> Any:
    body = {
        "seq": seq,
        "collected_at": datetime.now(UTC).isoformat(),
        "metrics": {"load1": 0.5},
        "filesystems": [{"mount": "/", "percent": fs_percent}],
    }
    return client.post(
        "/api/agent/v1/report",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )


@pytest.mark.django_db
def test_reports_drive_the_check_to_a_confirmed_problem(client: Client, customer_a: Tenant) -> None:
    disk = Check.objects.create(
        asset=customer_a.asset,
        name="Disk",
        kind="agent_metric",
        params={"metric": "fs:*:percent", "warning": 80, "critical": 90},
        max_attempts=2,
    )
    auth = enroll(client, customer_a)
    assert post_report(client, auth, 1, 50).status_code == 202
    assert post_report(client, auth, 2, 95).status_code == 202  # soft
    assert not CheckEvent.objects.filter(service_check=disk, new_state="critical").exists()
    assert post_report(client, auth, 3, 96).status_code == 202  # confirmed
    event = CheckEvent.objects.get(service_check=disk, new_state="critical")
    assert event.reason == "fs:/:percent = 96 (critical at 90)"
    assert CheckResult.objects.filter(service_check=disk).count() == 3
    assert CheckStatus.objects.get(service_check=disk).hard_state == "critical"
    # the monitoring engine does not run passive checks
    from leitstand.monitoring.shards import Shard
    from leitstand.monitoring.store import DatabaseStore

    assert disk.pk not in DatabaseStore().load(Shard(), []).configs


@pytest.mark.django_db
def test_a_silent_agent_is_confirmed_critical_by_the_sweep(
    client: Client, customer_a: Tenant
) -> None:
    load = Check.objects.create(
        asset=customer_a.asset,
        name="Load",
        kind="agent_metric",
        params={"metric": "load1", "critical": 8},
        max_attempts=2,
    )
    auth = enroll(client, customer_a)
    post_report(client, auth, 1, 10)
    start = timezone.now()
    assert passive.sweep_silent(start + timedelta(minutes=4)) == 0  # not silent yet
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        assert passive.sweep_silent(timezone.now()) == 1
    assert passive.sweep_silent(start + timedelta(minutes=6, seconds=30)) == 0  # once a minute
    assert passive.sweep_silent(start + timedelta(minutes=7, seconds=1)) == 1
    event = CheckEvent.objects.get(service_check=load)
    assert (event.old_state, event.new_state) == ("ok", "critical")
    assert event.reason == "no report from the agent for 7 min"


@pytest.mark.django_db
def test_backup_age_from_the_agents_stamp_raises_the_backup_check(
    client: Client, customer_a: Tenant, tmp_path: Path
) -> None:
    """Seed 000 VII: "a daily backup"; issue 3: threshold checks over "backup age".

    The agent's own collector reads the stamp its last good backup left, the
    report goes through the agent API, and the check over ``backup_age_s``
    (warning after 26 h, critical after 50 h) judges it.
    """
    backup = Check.objects.create(
        asset=customer_a.asset,
        name="Daily backup",
        kind="agent_metric",
        params={"metric": "backup_age_s", "warning": 26 * 3600, "critical": 50 * 3600},
        max_attempts=1,
    )
    auth = enroll(client, customer_a)
    stamp = tmp_path / "backup-ok"
    stamp.touch()
    collector = Collector(next_packages=float("inf"), backup_stamp=stamp)

    def report(seq: int, hours_ago: float) -> str:
        finished = time.time() - hours_ago * 3600
        os.utime(stamp, (finished, finished))
        body = {"seq": seq, "collected_at": datetime.now(UTC).isoformat(), **collector.collect()}
        answer = client.post(
            "/api/agent/v1/report",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=auth,
        )
        assert answer.status_code == 202, answer.content
        return str(CheckStatus.objects.get(service_check=backup).hard_state)

    assert report(1, hours_ago=3) == "ok"
    assert report(2, hours_ago=27) == "warning"
    assert report(3, hours_ago=51) == "critical"
    event = CheckEvent.objects.filter(service_check=backup, new_state="critical").get()
    assert event.reason.startswith("backup_age_s = 18")  # 51 h = 183,600 s
    assert event.reason.endswith("(critical at 180000)")
    assert report(4, hours_ago=0.5) == "ok"  # the next good backup clears it
