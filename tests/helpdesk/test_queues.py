"""The back-office queues: who is in which, in which order, filters, pages, the
deadline column, a bounded number of queries, and (PostgreSQL) the indexes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from tests.conftest import Tenant

from leitstand.accounts.models import User
from leitstand.contracts.catalog import load_file
from leitstand.contracts.models import Plan
from leitstand.core.demo import CATALOG
from leitstand.helpdesk import actions, queues
from leitstand.helpdesk.models import Ticket

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=AMS)


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.STAFF_REQUIRE_TOTP = False
    settings.SESSION_IDLE_TIMEOUT = settings.SESSION_ABSOLUTE_TIMEOUT = 10 * 365 * 86400
    settings.SESSION_COOKIE_AGE = 10 * 365 * 86400


@pytest.fixture
def webosa(customer_a: Tenant, customer_b: Tenant) -> tuple[Tenant, Tenant]:
    load_file(CATALOG)
    plan = Plan.objects.get(name="webosa-managed")
    for tenant in (customer_a, customer_b):
        tenant.contract.plan = plan
        tenant.contract.save()
    return customer_a, customer_b


@pytest.fixture
def staff(client: Client, staff_user: User) -> Client:
    client.force_login(staff_user)
    return client


def make(
    tenant: Tenant, subject: str, priority: str = "P2", at: datetime = MONDAY_10, **kw: Any
) -> Ticket:
    return actions.open_ticket(
        tenant.customer,
        subject,
        "text",
        channel="portal",
        priority=priority,
        asset=tenant.asset,
        at=at,
        **kw,
    )


def numbers(qs: Any) -> list[str]:
    return [t.subject for t in qs]


def test_each_queue_holds_its_open_tickets_nearest_deadline_first(
    webosa: tuple[Tenant, Tenant], staff_user: User
) -> None:
    a, b = webosa
    other = User.objects.create_user("other", "o@provider.example", "x", is_staff=True)
    p1 = make(a, "p1", "P1", at=MONDAY_10 + timedelta(minutes=30))  # due 11:30 clock time
    p2 = make(b, "p2", "P2")  # due 11:00 business time
    late = make(a, "late", "P2", at=MONDAY_10 + timedelta(hours=2))  # due 13:00
    plain = make(a, "no sla", "")  # no priority: no clock
    waiting = make(b, "waiting", "P2")
    done = make(a, "done", "P1")
    actions.set_status(waiting, "waiting", at=MONDAY_10 + timedelta(minutes=5))
    actions.set_status(done, "closed")
    actions.assign(p2, staff_user, staff_user)
    actions.assign(late, staff_user, other)
    now = MONDAY_10 + timedelta(minutes=40)

    assert numbers(queues.tickets_in("open", staff_user, now)) == [
        "p2",
        "p1",
        "late",
        "no sla",
        "waiting",
    ]
    assert numbers(queues.tickets_in("mine", staff_user, now)) == ["p2"]
    assert numbers(queues.tickets_in("mine", other, now)) == ["late"]
    assert numbers(queues.tickets_in("unassigned", staff_user, now)) == ["p1", "no sla", "waiting"]
    assert numbers(queues.tickets_in("waiting", staff_user, now)) == ["waiting"]
    breaching = queues.tickets_in("breaching", staff_user, now, horizon=timedelta(hours=1))
    assert numbers(breaching) == ["p2", "p1"]
    wide = queues.tickets_in("breaching", staff_user, now, horizon=timedelta(hours=4))
    assert numbers(wide) == ["p2", "p1", "late"]
    assert queues.counts(staff_user, now, timedelta(hours=1)) == {
        "mine": 1,
        "unassigned": 3,
        "breaching": 2,
        "waiting": 1,
        "open": 5,
    }
    assert p1.sla_due_at == MONDAY_10 + timedelta(hours=1, minutes=30)
    assert plain.sla_due_at is None


def test_breached_tickets_stay_at_the_top_of_breaching_soon(
    webosa: tuple[Tenant, Tenant], staff_user: User
) -> None:
    a, _ = webosa
    make(a, "old", "P1", at=MONDAY_10 - timedelta(hours=5))
    make(a, "new", "P1", at=MONDAY_10)
    rows = queues.tickets_in("breaching", staff_user, MONDAY_10, horizon=timedelta(hours=1))
    assert numbers(rows) == ["old", "new"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("customer=c90002", ["b-request"]),
        ("priority=P1", ["a-incident"]),
        ("kind=incident", ["a-incident"]),
        ("customer=C90001&kind=request", ["a-request"]),
        ("", ["b-request", "a-request", "a-incident"]),
    ],
)
def test_filters(
    staff: Client, webosa: tuple[Tenant, Tenant], query: str, expected: list[str]
) -> None:
    a, b = webosa
    make(b, "b-request", "P2", at=MONDAY_10 - timedelta(minutes=30))
    make(a, "a-request", "P2")
    make(a, "a-incident", "P1", at=MONDAY_10 + timedelta(hours=3), kind="incident")
    with time_machine.travel(MONDAY_10 + timedelta(minutes=1), tick=False):
        page = staff.get(f"/staff/tickets/queue/open/?{query}")
    assert page.status_code == 200
    assert [r.ticket.subject for r in page.context["rows"]] == expected


def test_an_unknown_customer_shows_an_error_and_no_tickets(
    staff: Client, webosa: tuple[Tenant, Tenant]
) -> None:
    make(webosa[0], "x")
    page = staff.get("/staff/tickets/queue/open/?customer=C12345")
    assert page.status_code == 200
    assert "No customer has the number C12345." in page.content.decode()
    assert page.context["rows"] == []


def test_bad_parameters_do_not_raise(staff: Client, webosa: tuple[Tenant, Tenant]) -> None:
    make(webosa[0], "x")
    for url in [
        "/staff/tickets/queue/nonsense/",
        "/staff/tickets/queue/open/?page=abc",
        "/staff/tickets/queue/open/?page=99999",
        "/staff/tickets/queue/breaching/?within=forever",
        "/staff/tickets/queue/open/?kind=<script>",
    ]:
        assert staff.get(url).status_code == 200, url


def test_pages_of_fifty(staff: Client, webosa: tuple[Tenant, Tenant]) -> None:
    a, _ = webosa
    for i in range(queues.PAGE_SIZE + 5):
        make(a, f"t{i:03d}", "P2", at=MONDAY_10 + timedelta(minutes=i))
    first = staff.get("/staff/tickets/queue/open/")
    assert len(first.context["rows"]) == queues.PAGE_SIZE
    assert 'rel="next"' in first.content.decode()
    second = staff.get("/staff/tickets/queue/open/?page=2")
    assert [r.ticket.subject for r in second.context["rows"]] == [
        f"t{i:03d}" for i in range(50, 55)
    ]


def test_the_deadline_column(staff: Client, webosa: tuple[Tenant, Tenant]) -> None:
    a, b = webosa
    make(a, "business", "P2")  # due 11:00 business time
    make(b, "clock", "P1", at=MONDAY_10 - timedelta(minutes=30))  # due 10:30
    make(a, "breached", "P1", at=MONDAY_10 - timedelta(hours=2))
    pause = make(b, "paused", "P2")
    actions.set_status(pause, "waiting", at=MONDAY_10)
    with time_machine.travel(MONDAY_10 + timedelta(minutes=15), tick=False):
        page = staff.get("/staff/tickets/queue/open/")
    due = {r.ticket.subject: r.due for r in page.context["rows"]}
    assert (due["breached"].state, due["breached"].text) == ("breached", "breached")
    assert due["clock"].text == "15 min"
    assert due["business"].text == "45 min business time"
    assert due["paused"].text == "paused"
    html = page.content.decode()
    assert "45 min business time" in html
    assert "Initial response" in html


def test_business_time_left_skips_the_night(
    webosa: tuple[Tenant, Tenant], staff_user: User
) -> None:
    a, _ = webosa
    friday_1630 = datetime(2026, 11, 20, 16, 30, tzinfo=AMS)
    make(a, "friday", "P2", at=friday_1630)  # due Monday 09:30
    rows = queues.due_rows(list(queues.tickets_in("open", staff_user, friday_1630)), friday_1630)
    ((_, due),) = rows
    assert due.text == "1 h 0 min business time"
    assert due.deadline == datetime(2026, 11, 23, 9, 30, tzinfo=AMS)


def test_the_queue_page_needs_a_bounded_number_of_queries(
    staff: Client, webosa: tuple[Tenant, Tenant]
) -> None:
    a, b = webosa

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert staff.get("/staff/tickets/queue/open/").status_code == 200
        return len(ctx.captured_queries)

    for i in range(3):
        make(a if i % 2 else b, f"t{i}", "P2")
    few = queries()
    for i in range(40):
        make(a if i % 2 else b, f"u{i}", "P1" if i % 3 else "P2")
    assert queries() == few


def test_htmx_gets_the_table_alone(staff: Client, webosa: tuple[Tenant, Tenant]) -> None:
    make(webosa[0], "x")
    full = staff.get("/staff/tickets/queue/open/").content.decode()
    part = staff.get("/staff/tickets/queue/open/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" in full
    assert "<html" not in part
    assert 'id="queue"' in part
    assert 'hx-trigger="every 60s"' in part


def test_queues_are_staff_only(client: Client, customer_a: Tenant) -> None:
    client.force_login(customer_a.user)
    assert client.get("/staff/tickets/").status_code == 404
    assert client.get("/staff/tickets/queue/breaching/").status_code == 404


@pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN of PostgreSQL's planner")
@pytest.mark.parametrize("key", ["mine", "unassigned", "breaching", "waiting", "open"])
def test_postgresql_answers_each_queue_from_a_partial_index_without_sorting(
    key: str, webosa: tuple[Tenant, Tenant], staff_user: User
) -> None:
    """With sequential scans and sorts priced out, the planner must still find a
    plan: only possible if an index delivers the queue's rows in queue order.
    (At 1,000,000 tickets ``leitstand bench helpdesk`` shows the same plans.)"""
    a, _ = webosa
    make(a, "x", "P1")
    qs = queues.tickets_in(key, staff_user, MONDAY_10, horizon=timedelta(hours=4))[:50]
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ticket_queue_" in plan, plan
    assert "Sort" not in plan, plan


def test_the_migration_backfills_the_deadline_of_tickets_open_before_it(
    webosa: tuple[Tenant, Tenant], staff_user: User
) -> None:
    import importlib

    from django.apps import apps

    migration = importlib.import_module("leitstand.helpdesk.migrations.0003_back_office")
    a, b = webosa
    p2 = make(a, "p2", "P2")
    p1 = make(b, "p1", "P1")
    actions.reply(p1, staff_user, "on it", at=MONDAY_10 + timedelta(minutes=5))
    waited = make(a, "waited", "P2")
    actions.set_status(waited, "waiting", at=MONDAY_10)
    actions.set_status(waited, "open", at=MONDAY_10 + timedelta(hours=2))
    closed = make(a, "closed", "P1")
    actions.set_status(closed, "closed")
    expected = dict(Ticket.objects.values_list("subject", "sla_due_at"))
    Ticket.objects.update(sla_due_at=None, sla_due_target="")
    migration.backfill_next_deadline(apps, None)
    after = dict(Ticket.objects.values_list("subject", "sla_due_at"))
    assert after == expected
    assert after["waited"] == MONDAY_10 + timedelta(hours=3)
    assert after["closed"] is None
    assert Ticket.objects.get(pk=p1.pk).sla_due_target == "diagnosis"
    assert Ticket.objects.get(pk=p2.pk).sla_due_target == "initial_response"


def test_a_huge_queue_is_counted_only_up_to_the_cap(
    staff: Client, webosa: tuple[Tenant, Tenant], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queues, "COUNT_CAP", 3)
    for i in range(5):
        make(webosa[0], f"t{i}")
    page = staff.get("/staff/tickets/queue/open/")
    assert page.context["page"].paginator.capped
    assert "more than 10,000 tickets" not in page.content.decode()
    assert "All open: more than" in page.content.decode()
    monkeypatch.setattr(queues, "COUNT_CAP", 10)
    page = staff.get("/staff/tickets/queue/open/")
    assert "All open: 5 tickets" in page.content.decode()


def test_rows_escape_what_customers_wrote(staff: Client, webosa: tuple[Tenant, Tenant]) -> None:
    make(webosa[0], '<script>alert("x")</script>')
    html = staff.get("/staff/tickets/queue/open/").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
