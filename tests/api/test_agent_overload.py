"""Overload: a web process stores at most AGENT_MAX_CONCURRENT_REPORTS reports at
once and answers the next one 503 with Retry-After (docs/agent-protocol.md:
"503 with Retry-After: N: overloaded or database down; the agent keeps the
report and waits at least N seconds"). Issue 4: "the server answers overload
or a database outage with 503 + Retry-After and the agent obeys".
"""

from __future__ import annotations

import threading
from contextlib import ExitStack

import pytest
from django.test import Client, override_settings
from tests.api.test_agent_api import enroll, report
from tests.conftest import Tenant

from leitstand.api import agent as agent_api
from leitstand.operations import agents
from leitstand.operations.models import AgentReport

pytestmark = pytest.mark.django_db


@pytest.fixture
def auth(client: Client, customer_a: Tenant) -> str:
    data = enroll(client, agents.create_enrollment_token(customer_a.asset)).json()
    return f"Bearer {data['host_id']}.{data['secret']}"


@override_settings(AGENT_MAX_CONCURRENT_REPORTS=2)
def test_a_report_beyond_the_limit_is_turned_away_and_accepted_later(
    client: Client, auth: str
) -> None:
    with ExitStack() as busy:
        # Two reports in flight in this process (held the way a request holds them).
        busy.enter_context(agent_api.admitted())
        busy.enter_context(agent_api.admitted())
        refused = report(client, auth, 1)
        assert refused.status_code == 503
        assert refused.json() == {"error": "overloaded, try again later"}
        assert 30 <= int(refused["Retry-After"]) <= 90
        assert not AgentReport.objects.exists()  # nothing half-stored
    # Both finished: the agent's retry of the same report is stored.
    assert report(client, auth, 1).status_code == 202
    assert AgentReport.objects.filter(seq=1).count() == 1


@override_settings(AGENT_MAX_CONCURRENT_REPORTS=2)
def test_below_the_limit_reports_are_stored(client: Client, auth: str) -> None:
    with agent_api.admitted():  # one in flight, one slot left
        assert report(client, auth, 1).status_code == 202
    assert report(client, auth, 2).status_code == 202


def test_the_retry_after_is_spread() -> None:
    # Agents turned away together must not all come back in the same second.
    seen = {int(agent_api.busy()["Retry-After"]) for _ in range(200)}
    assert min(seen) >= 30
    assert max(seen) <= 90
    assert len(seen) > 20


@override_settings(AGENT_MAX_CONCURRENT_REPORTS=3)
def test_the_gate_counts_concurrent_holders_across_threads() -> None:
    entered, release = threading.Barrier(4), threading.Event()
    outcomes: list[str] = []
    lock = threading.Lock()

    def request() -> None:
        try:
            with agent_api.admitted():
                with lock:
                    outcomes.append("admitted")
                entered.wait(5)
                release.wait(5)
        except agent_api.Busy:
            with lock:
                outcomes.append("busy")

    threads = [threading.Thread(target=request) for _ in range(3)]
    for t in threads:
        t.start()
    entered.wait(5)  # three requests hold the gate
    late = threading.Thread(target=request)
    late.start()
    late.join(5)
    release.set()
    for t in threads:
        t.join(5)
    assert sorted(outcomes) == ["admitted", "admitted", "admitted", "busy"]
    with agent_api.admitted():  # all released again
        pass
