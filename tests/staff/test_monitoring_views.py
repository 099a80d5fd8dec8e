"""Back-office monitoring pages: status board, check page, host page and their JSON."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from tests.conftest import Tenant

from leitstand.accounts.models import User
from leitstand.maintenance.models import PlannedWork
from leitstand.monitoring.models import Check, CheckEvent, CheckResult, CheckRollup, CheckStatus
from leitstand.operations.models import Agent, HostMetric

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
E_NOW = 1795176000  # NOW as Unix seconds
BOARD = "/staff/monitoring/"


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staff(client: Client, staff_user: User) -> Client:
    client.force_login(staff_user)
    return client


def status(check: Check, hard: str, state: str | None = None, **kw: Any) -> CheckStatus:
    return CheckStatus.objects.create(
        service_check=check, hard_state=hard, state=state or hard, **kw
    )


@pytest.fixture
def board(customer_a: Tenant, customer_b: Tenant) -> dict[str, Check]:
    """Five checks in every interesting condition, plus a disabled one."""
    Check.objects.filter(pk=customer_a.check.pk).update(name="Web A")
    Check.objects.filter(pk=customer_b.check.pk).update(name="Web B")
    checks = {
        "down": customer_a.check,
        "ok": customer_b.check,
        "soft": Check.objects.create(asset=customer_a.asset, name="DNS A", kind="dns"),
        "new": Check.objects.create(
            asset=customer_b.asset, name="SMTP B", kind="smtp", priority="P2"
        ),
        "old": Check.objects.create(asset=customer_b.asset, name="Ping B", kind="ping"),
        "off": Check.objects.create(
            asset=customer_a.asset, name="Retired A", kind="tcp", enabled=False
        ),
    }
    status(
        checks["down"],
        "critical",
        summary="connection refused",
        last_change_at=NOW - timedelta(hours=1),
    )
    status(checks["ok"], "ok", flapping=True, last_change_at=NOW - timedelta(days=2))
    status(checks["soft"], "ok", "critical", attempt=2, last_change_at=NOW - timedelta(days=3))
    status(checks["old"], "ok", last_change_at=NOW - timedelta(days=9))
    status(checks["off"], "critical", last_change_at=NOW - timedelta(minutes=5))
    work = PlannedWork.objects.create(
        title="Kernel", starts_at=NOW - timedelta(minutes=30), ends_at=NOW + timedelta(minutes=30)
    )
    work.assets.add(customer_b.asset)
    # Over an hour ago, and tomorrow: neither marks customer A's checks now.
    for start in (NOW - timedelta(hours=2), NOW + timedelta(days=1)):
        other = PlannedWork.objects.create(
            title="Other", starts_at=start, ends_at=start + timedelta(hours=1)
        )
        other.assets.add(customer_a.asset)
    return checks


def row_names(html: str) -> list[str]:
    """Check names in board order (the row header of each row)."""
    return re.findall(r'<th scope="row"><a href="/staff/monitoring/checks/\d+/">([^<]+)</a>', html)


# --- board ------------------------------------------------------------------


def test_board_lists_enabled_checks_problems_first(staff: Client, board: dict[str, Check]) -> None:
    response = staff.get(BOARD)
    assert response.status_code == 200
    html = response.content.decode()
    # Confirmed problem, then unconfirmed failure, then by last change (none last).
    assert row_names(html) == ["Web A", "DNS A", "Web B", "Ping B", "SMTP B"]
    assert "Retired A" not in html
    assert "connection refused" in html
    assert "unconfirmed critical, attempt 2 of 3" in html
    assert '<span class="state state-pending">pending</span>' in html
    assert '<span class="state state-critical">critical</span>' in html
    assert html.count('<span class="marker">flapping</span>') == 1
    # The maintenance is on customer B's asset: its three enabled checks.
    assert html.count('<span class="marker">in maintenance</span>') == 3
    assert "5 checks, as of 13:00:00" in html  # Europe/Berlin
    assert '<th scope="col">State</th>' in html
    assert 'hx-trigger="every 30s"' in html
    assert "/static/vendor/htmx.min.js" in html


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("customer=C90001", ["Web A", "DNS A"]),
        ("customer=C90002", ["Web B", "Ping B", "SMTP B"]),
        ("state=critical", ["Web A"]),
        ("state=ok", ["DNS A", "Web B", "Ping B"]),
        ("state=pending", ["SMTP B"]),
        ("state=problems", ["Web A"]),
        ("priority=P2", ["SMTP B"]),
        ("priority=P1&customer=C90002", ["Web B", "Ping B"]),
        ("state=warning", []),
        # Invalid values are reported and ignored, never a server error.
        ("state=broken", ["Web A", "DNS A", "Web B", "Ping B", "SMTP B"]),
        ("customer=C99999&priority=P1", ["Web A", "DNS A", "Web B", "Ping B"]),
    ],
)
def test_board_filters(
    staff: Client, board: dict[str, Check], query: str, names: list[str]
) -> None:
    html = staff.get(f"{BOARD}?{query}").content.decode()
    assert row_names(html) == names
    if not names:
        assert "No checks match these filters." in html


def test_board_reports_an_invalid_filter(staff: Client, board: dict[str, Check]) -> None:
    html = staff.get(f"{BOARD}?state=broken").content.decode()
    assert "Select a valid choice. broken is not one of the available choices." in html


def test_board_filter_form_is_labelled(staff: Client, board: dict[str, Check]) -> None:
    html = staff.get(BOARD).content.decode()
    for field in ("customer", "state", "priority"):
        assert f'<label for="id_{field}">' in html
        assert f'<select name="{field}" id="id_{field}">' in html
    assert '<option value="C90002">C90002 Beta AG</option>' in html


def test_board_partial_is_the_table_alone_and_keeps_the_filters(
    staff: Client, board: dict[str, Check]
) -> None:
    response = staff.get("/staff/monitoring/board/?state=critical&page=1")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(
        '<div id="board" hx-get="/staff/monitoring/board/?state=critical&amp;page=1"'
    )
    assert "<html" not in html
    assert row_names(html) == ["Web A"]


def test_board_paginates_and_keeps_filters_in_links(staff: Client, customer_a: Tenant) -> None:
    Check.objects.bulk_create(
        Check(asset=customer_a.asset, name=f"Extra {i:02d}", kind="tcp") for i in range(60)
    )
    first = staff.get(f"{BOARD}?customer=C90001").content.decode()
    assert len(row_names(first)) == 50
    assert "Page 1 of 2" in first
    assert 'href="?customer=C90001&amp;page=2" rel="next"' in first
    second = staff.get(f"{BOARD}?customer=C90001&page=2").content.decode()
    assert len(row_names(second)) == 11


def test_board_queries_do_not_grow_with_checks(
    staff: Client, board: dict[str, Check], customer_a: Tenant, django_assert_max_num_queries: Any
) -> None:
    with CaptureQueriesContext(connection) as few:
        staff.get(BOARD)
    extra = Check.objects.bulk_create(
        Check(asset=customer_a.asset, name=f"Extra {i:02d}", kind="tcp") for i in range(40)
    )
    CheckStatus.objects.bulk_create(
        CheckStatus(service_check=c, hard_state="warning", flapping=True) for c in extra
    )
    with django_assert_max_num_queries(5):  # session, user, customers, count, page
        html = staff.get(BOARD).content.decode()
    assert len(row_names(html)) == 45
    with CaptureQueriesContext(connection) as many:
        staff.get(BOARD)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_dashboard_links_the_board(staff: Client) -> None:
    html = staff.get("/staff/").content.decode()
    assert f'<a href="{BOARD}">Monitoring</a>' in html


# --- check page ----------------------------------------------------------------


@pytest.fixture
def history(customer_a: Tenant) -> Check:
    """Customer A's check: OK until six hours ago, critical since."""
    check = customer_a.check
    status(check, "critical", summary="HTTP 503", last_change_at=NOW - timedelta(hours=6))
    CheckEvent.objects.create(
        service_check=check,
        at=NOW - timedelta(hours=6),
        kind="state",
        old_state="ok",
        new_state="critical",
        reason="HTTP 503",
        priority="P1",
    )
    CheckEvent.objects.create(
        service_check=check,
        at=NOW - timedelta(hours=2),
        kind="flapping_start",
        old_state="critical",
        new_state="critical",
        priority="P1",
        flapping=True,
    )
    for minutes, state, latency in [(10, "ok", 0.2), (9, "critical", None), (60 * 25, "ok", 9.9)]:
        CheckResult.objects.create(
            service_check=check, at=NOW - timedelta(minutes=minutes), state=state, latency_s=latency
        )
    CheckRollup.objects.create(
        service_check=check,
        resolution=300,
        bucket=NOW - timedelta(days=2),
        samples=5,
        ok_samples=4,
        latency_avg=0.1,
        latency_max=0.3,
    )
    for hours, ok in [(20 * 24, 60), (20 * 24 - 1, 30)]:
        CheckRollup.objects.create(
            service_check=check,
            resolution=3600,
            bucket=NOW - timedelta(hours=hours),
            samples=60,
            ok_samples=ok,
            latency_avg=0.05,
            latency_max=0.5,
        )
    return check


def test_check_page_shows_state_availability_and_events(staff: Client, history: Check) -> None:
    response = staff.get(f"/staff/monitoring/checks/{history.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<span class="state state-critical">critical</span>' in html
    assert "History: last 24 hours" in html
    assert '<p class="figure">75.000 %</p>' in html  # 18 h up, 6 h down
    assert "<td>18:00:00</td><td>6:00:00</td><td>0:00:00</td>" in html
    assert "state change" in html
    assert "flapping started" in html
    # The chart's text alternative: two results, one OK, latency 200 ms.
    assert "<td>2</td>\n    <td>50.00 %</td>" in html
    assert "200.0 ms" in html
    assert f'data-url="/staff/monitoring/checks/{history.pk}/series.json?range=24h"' in html
    assert '<a href="?range=24h" aria-current="page">24 hours</a>' in html


def test_check_page_range(staff: Client, history: Check) -> None:
    html = staff.get(f"/staff/monitoring/checks/{history.pk}/?range=7d").content.decode()
    assert "History: last 7 days" in html
    assert '<p class="figure">96.428 %</p>' in html  # 162 h up of 168
    assert '<a href="?range=7d" aria-current="page">7 days</a>' in html
    assert "<td>5</td>\n    <td>80.00 %</td>" in html  # from the 5-minute rollup


def test_check_page_unknown_range_falls_back_to_a_day(staff: Client, history: Check) -> None:
    html = staff.get(f"/staff/monitoring/checks/{history.pk}/?range=forever").content.decode()
    assert "History: last 24 hours" in html


def test_check_page_of_a_check_never_run(staff: Client, customer_b: Tenant) -> None:
    html = staff.get(f"/staff/monitoring/checks/{customer_b.check.pk}/").content.decode()
    assert '<span class="state state-pending">pending</span>' in html
    assert '<p class="figure">–</p>' in html
    assert "No events yet." in html


@pytest.mark.parametrize(
    ("range_key", "expected"),
    [
        (
            "24h",
            {
                "source": "raw",
                "resolution": 0,
                "start": E_NOW - 86400,
                "end": E_NOW,
                "t": [E_NOW - 600, E_NOW - 540],
                "latency_ms": [200.0, None],
                "latency_max_ms": [200.0, None],
                "ok_percent": [100.0, 0.0],
            },
        ),
        (
            "7d",
            {
                "source": "5m",
                "resolution": 300,
                "start": E_NOW - 7 * 86400,
                "end": E_NOW,
                "t": [E_NOW - 2 * 86400],
                "latency_ms": [100.0],
                "latency_max_ms": [300.0],
                "ok_percent": [80.0],
            },
        ),
        (
            "30d",
            {
                "source": "1h",
                "resolution": 3600,
                "start": E_NOW - 30 * 86400,
                "end": E_NOW,
                "t": [E_NOW - 20 * 86400, E_NOW - 20 * 86400 + 3600],
                "latency_ms": [50.0, 50.0],
                "latency_max_ms": [500.0, 500.0],
                "ok_percent": [100.0, 50.0],
            },
        ),
    ],
)
def test_check_series_json(
    staff: Client, history: Check, range_key: str, expected: dict[str, Any]
) -> None:
    response = staff.get(f"/staff/monitoring/checks/{history.pk}/series.json?range={range_key}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == expected


def test_check_series_json_for_a_year_uses_hourly_rollups(staff: Client, history: Check) -> None:
    data = staff.get(f"/staff/monitoring/checks/{history.pk}/series.json?range=365d").json()
    assert (data["source"], data["start"], len(data["t"])) == ("1h", E_NOW - 365 * 86400, 2)


def test_check_series_json_defaults_to_a_day(staff: Client, history: Check) -> None:
    assert staff.get(f"/staff/monitoring/checks/{history.pk}/series.json").json()["source"] == "raw"


def test_check_series_json_refuses_an_unknown_range(staff: Client, history: Check) -> None:
    response = staff.get(f"/staff/monitoring/checks/{history.pk}/series.json?range=1y")
    assert response.status_code == 400
    assert response.json() == {"error": "unknown range", "ranges": ["24h", "7d", "30d", "365d"]}


# --- host page ---------------------------------------------------------------


@pytest.fixture
def agent(customer_a: Tenant) -> Agent:
    agent = Agent.objects.create(
        asset=customer_a.asset,
        hostname="alice-server.example",
        version="1.2.3",
        secret_hash="0" * 64,
        action_key="1" * 64,
        enrolled_at=NOW - timedelta(days=30),
        last_seen_at=NOW - timedelta(minutes=1),
    )
    samples = [
        ("cpu_percent", NOW - timedelta(minutes=10), 10.0),
        ("cpu_percent", NOW - timedelta(minutes=5), 30.0),
        ("fs:/:percent", NOW - timedelta(minutes=10), 50.0),
        ("load1", NOW - timedelta(minutes=5), 0.75),
        ("raid:md0:degraded", NOW - timedelta(minutes=5), 1.0),  # a flag, not graphed
        ("cpu_percent", NOW - timedelta(hours=3) + timedelta(minutes=10), 40.0),  # 09:10
        ("cpu_percent", NOW - timedelta(hours=3) + timedelta(minutes=20), 60.0),  # 09:20
        ("cpu_percent", NOW - timedelta(days=2), 99.0),  # outside a day
    ]
    HostMetric.objects.bulk_create(
        HostMetric(agent=agent, name=name, at=at, value=value) for name, at, value in samples
    )
    return agent


def test_host_page_shows_checks_and_metric_figures(
    staff: Client, customer_a: Tenant, agent: Agent
) -> None:
    status(customer_a.check, "ok", last_change_at=NOW - timedelta(days=1))
    response = staff.get(f"/staff/monitoring/assets/{customer_a.asset.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>alice-server</h1>" in html
    assert '<span class="state state-ok">OK</span>' in html
    assert "Agent on alice-server.example, version 1.2.3" in html
    assert (
        f'data-url="/staff/monitoring/assets/{customer_a.asset.pk}/metrics.json?range=24h"' in html
    )
    # min, average, max over the last day, in the order of the charts.
    metrics = re.findall(
        r'<tr><th scope="row">([^<]+)</th><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>',
        html,
    )
    assert metrics == [
        ("CPU", "10.00 %", "35.00 %", "60.00 %"),
        ("Load (1 min)", "0.75", "0.75", "0.75"),
        ("File system /", "50.00 %", "50.00 %", "50.00 %"),
    ]


def test_host_page_without_agent(staff: Client, customer_b: Tenant) -> None:
    html = staff.get(f"/staff/monitoring/assets/{customer_b.asset.pk}/").content.decode()
    assert "No agent is enrolled on this asset." in html
    assert "metrics.json" not in html
    assert (
        staff.get(f"/staff/monitoring/assets/{customer_b.asset.pk}/metrics.json").status_code == 404
    )


def test_host_metrics_json_raw_for_a_day(staff: Client, customer_a: Tenant, agent: Agent) -> None:
    data = staff.get(
        f"/staff/monitoring/assets/{customer_a.asset.pk}/metrics.json?range=24h"
    ).json()
    three_hours = E_NOW - 3 * 3600
    assert data["bucket"] == 0
    assert data["t"] == [three_hours + 600, three_hours + 1200, E_NOW - 600, E_NOW - 300]
    assert data["series"] == {
        "cpu_percent": [40.0, 60.0, 10.0, 30.0],
        "load1": [None, None, None, 0.75],
        "fs:/:percent": [None, None, 50.0, None],
    }
    assert [c["series"] for c in data["charts"]] == [["cpu_percent", "fs:/:percent"], ["load1"]]
    assert data["labels"]["fs:/:percent"] == "File system /"


def test_host_metrics_json_hourly_beyond_a_day(
    staff: Client, customer_a: Tenant, agent: Agent
) -> None:
    data = staff.get(f"/staff/monitoring/assets/{customer_a.asset.pk}/metrics.json?range=7d").json()
    assert data["bucket"] == 3600
    assert data["t"] == [E_NOW - 2 * 86400, E_NOW - 3 * 3600, E_NOW - 3600]
    assert data["series"]["cpu_percent"] == [99.0, 50.0, 20.0]


def test_host_metrics_json_refuses_an_unknown_range(
    staff: Client, customer_a: Tenant, agent: Agent
) -> None:
    response = staff.get(f"/staff/monitoring/assets/{customer_a.asset.pk}/metrics.json?range=2d")
    assert response.status_code == 400


# --- access ------------------------------------------------------------------


def urls(tenant: Tenant) -> list[str]:
    check, asset = tenant.check.pk, tenant.asset.pk
    return [
        BOARD,
        "/staff/monitoring/board/",
        f"/staff/monitoring/checks/{check}/",
        f"/staff/monitoring/checks/{check}/series.json",
        f"/staff/monitoring/assets/{asset}/",
        f"/staff/monitoring/assets/{asset}/metrics.json",
    ]


def test_customer_users_get_404_everywhere(
    client: Client, customer_a: Tenant, agent: Agent
) -> None:
    client.force_login(customer_a.user)
    for url in urls(customer_a):  # even for their own check and asset
        assert client.get(url).status_code == 404, url


def test_staff_reach_every_url(staff: Client, customer_a: Tenant, agent: Agent) -> None:
    for url in urls(customer_a):
        assert staff.get(url).status_code == 200, url


def test_anonymous_users_are_sent_to_login(client: Client, customer_a: Tenant) -> None:
    response = client.get(BOARD)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "url",
    [
        "/staff/monitoring/checks/999999/",
        "/staff/monitoring/checks/999999/series.json",
        "/staff/monitoring/assets/999999/",
        "/staff/monitoring/assets/999999/metrics.json",
    ],
)
def test_unknown_ids_are_404(staff: Client, url: str) -> None:
    assert staff.get(url).status_code == 404


def test_disabled_check_still_has_a_page(staff: Client, customer_a: Tenant) -> None:
    check = Check.objects.create(asset=customer_a.asset, name="Retired", kind="tcp", enabled=False)
    html = staff.get(f"/staff/monitoring/checks/{check.pk}/").content.decode()
    assert "no: the engine does not run this check" in html


def test_customer_page_links_the_host_page(staff: Client, customer_a: Tenant) -> None:
    html = staff.get("/staff/customers/C90001/").content.decode()
    assert f'href="/staff/monitoring/assets/{customer_a.asset.pk}/"' in html


def test_pages_render_in_german(staff: Client, board: dict[str, Check], agent: Agent) -> None:
    check, asset = board["down"], board["down"].asset_id
    for url in (
        BOARD,
        f"/staff/monitoring/checks/{check.pk}/",
        f"/staff/monitoring/assets/{asset}/",
    ):
        response = staff.get(url, HTTP_ACCEPT_LANGUAGE="de")
        assert response.status_code == 200, url
        html = response.content.decode()
        assert 'lang="de"' in html
        assert ">Überwachung</a>" in html  # the nav link, from the existing catalog
