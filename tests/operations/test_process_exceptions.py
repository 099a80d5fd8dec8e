"""Process-limit exceptions: asked for by the customer, confirmed in writing by staff,
and only then part of the policy the agent enforces (seed 000 IX, seed 003 §9)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError
from django.test import Client
from tests.conftest import Tenant

from leitstand.contracts.catalog import load_file
from leitstand.contracts.models import Plan
from leitstand.core.demo import CATALOG
from leitstand.helpdesk.models import Ticket
from leitstand.operations import agents, process_exceptions
from leitstand.operations.escalation import policy_document
from leitstand.operations.models import ProcessExceptionRequest
from leitstand.operations.process_policy import ProcessDecision, ProcessInfo, decide_process
from leitstand_agent.policy import parse_policy

pytestmark = pytest.mark.django_db
GiB = 1024**3
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def cloudflux(customer_a: Tenant) -> Tenant:
    """Customer A on the cloudflux plan: 2 h / 2 GiB, pg_dump excepted, miners prohibited."""
    load_file(CATALOG)
    customer_a.contract.plan = Plan.objects.get(name="cloudflux-managed-server")
    customer_a.contract.save()
    return customer_a


def ask(
    tenant: Tenant, command: str = "/usr/bin/ffmpeg", **limits: object
) -> ProcessExceptionRequest:
    return process_exceptions.request_exception(
        tenant.asset,
        tenant.user,
        command,
        max_runtime=limits.get("max_runtime", timedelta(hours=8)),  # type: ignore[arg-type]
        max_rss=limits.get("max_rss"),  # type: ignore[arg-type]
        reason="nightly video transcoding",
    )


def excepted(asset: object) -> dict[str, dict[str, object]]:
    document = policy_document(asset)  # type: ignore[arg-type]
    return {e["command"]: e for e in document["process_policy"]["exceptions"]}


def test_a_request_opens_a_verified_change_ticket_and_changes_nothing_yet(
    cloudflux: Tenant,
) -> None:
    request = ask(cloudflux)
    assert request.status == "requested"
    assert request.command == "ffmpeg"  # the base name, as the agent matches it
    assert request.max_runtime_seconds == 8 * 3600
    ticket = request.ticket
    assert ticket is not None
    assert (ticket.kind, ticket.verified, ticket.channel) == ("change", True, "portal")
    body = ticket.messages.get().body
    assert "ffmpeg" in body
    assert "nightly video transcoding" in body
    assert "confirmation" in body
    assert "ffmpeg" not in excepted(cloudflux.asset)


def test_written_confirmation_is_recorded_and_reaches_the_policy(
    cloudflux: Tenant, staff_user: object
) -> None:
    # Asked before it is confirmed, on the same clock: "the last message" below
    # must not depend on the day the suite runs.
    with time_machine.travel(START - timedelta(hours=1), tick=False):
        request = ask(cloudflux, max_rss=4 * GiB)
    with time_machine.travel(START, tick=False):
        process_exceptions.confirm(
            request,
            staff_user,
            "Confirmed: ffmpeg may run 8 h with 4 GiB until the end of the year.",
            valid_until=datetime(2027, 1, 1, tzinfo=UTC),
        )
    request.refresh_from_db()
    assert request.status == "confirmed"
    assert request.decided_by == staff_user
    assert request.decided_at == START
    assert request.valid_from == START
    assert "until the end of the year" in request.decision_text
    # the customer receives the text on the ticket (a staff message, not internal)
    assert request.ticket is not None
    last = request.ticket.messages.order_by("-created_at").first()
    assert last is not None
    assert not last.internal
    assert "ffmpeg may run 8 h" in last.body
    with time_machine.travel(START + timedelta(days=1), tick=False):
        assert excepted(cloudflux.asset)["ffmpeg"] == {
            "command": "ffmpeg",
            "max_runtime_s": 8 * 3600,
            "max_rss": 4 * GiB,
        }
        # the catalog's own exception is still there
        assert "pg_dump" in excepted(cloudflux.asset)


def test_the_agent_accepts_the_document_and_keeps_the_process(
    cloudflux: Tenant, staff_user: object
) -> None:
    request = ask(cloudflux)
    process_exceptions.confirm(request, staff_user, "Confirmed in writing.")
    process, _ = parse_policy(json.loads(json.dumps(policy_document(cloudflux.asset))))
    assert process is not None
    long_run = ProcessInfo("/usr/bin/ffmpeg", timedelta(hours=5), 1024)
    assert decide_process(process, long_run) == ProcessDecision.KEEP
    # other programs are still held to the contract's limits
    assert decide_process(process, ProcessInfo("php", timedelta(hours=5), 1)) == "kill:runtime"


def test_the_agent_api_hands_out_the_exception(
    client: Client, cloudflux: Tenant, staff_user: object
) -> None:
    token = agents.create_enrollment_token(cloudflux.asset)
    data = client.post(
        "/api/agent/v1/enroll", json.dumps({"token": token}), content_type="application/json"
    ).json()
    auth = f"Bearer {data['host_id']}.{data['secret']}"
    process_exceptions.confirm(ask(cloudflux), staff_user, "Confirmed in writing.")
    answer = client.get("/api/agent/v1/policy", HTTP_AUTHORIZATION=auth).json()
    commands = [e["command"] for e in answer["process_policy"]["exceptions"]]
    assert commands == ["pg_dump", "ffmpeg"]


def test_an_unconfirmed_declined_or_expired_exception_is_not_in_the_policy(
    cloudflux: Tenant, staff_user: object
) -> None:
    ask(cloudflux, "ffmpeg")
    process_exceptions.decline(ask(cloudflux, "java"), staff_user, "Too risky for this host.")
    with time_machine.travel(START, tick=False):
        process_exceptions.confirm(
            ask(cloudflux, "blender"),
            staff_user,
            "For one week.",
            valid_until=START + timedelta(days=7),
        )
        future = ask(cloudflux, "convert")
        process_exceptions.confirm(
            future, staff_user, "From next month.", valid_from=START + timedelta(days=30)
        )
    with time_machine.travel(START + timedelta(days=6), tick=False):
        assert set(excepted(cloudflux.asset)) == {"pg_dump", "blender"}
    with time_machine.travel(START + timedelta(days=7), tick=False):
        assert set(excepted(cloudflux.asset)) == {"pg_dump"}
    with time_machine.travel(START + timedelta(days=30), tick=False):
        assert set(excepted(cloudflux.asset)) == {"pg_dump", "convert"}


def test_a_revoked_exception_ends_at_once(cloudflux: Tenant, staff_user: object) -> None:
    request = process_exceptions.confirm(ask(cloudflux), staff_user, "Confirmed.")
    assert "ffmpeg" in excepted(cloudflux.asset)
    process_exceptions.revoke(request, staff_user, "The server ran out of memory twice.")
    request.refresh_from_db()
    assert request.status == "revoked"
    assert request.valid_until is not None
    assert "ffmpeg" not in excepted(cloudflux.asset)
    with pytest.raises(process_exceptions.ExceptionRequestError):
        process_exceptions.confirm(request, staff_user, "again")


def test_an_asset_exception_replaces_the_catalogs_for_the_same_command(
    cloudflux: Tenant, staff_user: object
) -> None:
    process_exceptions.confirm(
        ask(cloudflux, "pg_dump", max_runtime=timedelta(hours=12)), staff_user, "Confirmed."
    )
    assert excepted(cloudflux.asset)["pg_dump"]["max_runtime_s"] == 12 * 3600
    assert len(policy_document(cloudflux.asset)["process_policy"]["exceptions"]) == 1


@pytest.mark.parametrize(
    ("command", "runtime", "rss", "problem"),
    [
        ("xmrig", timedelta(hours=3), None, "prohibited"),
        ("/opt/bin/minerd", timedelta(hours=3), None, "prohibited"),
        ("ffmpeg", None, None, "longer runtime, more memory"),
        ("ffmpeg", timedelta(hours=1), None, "not above"),  # the limit is 2 h already
        ("pg_dump", timedelta(hours=5), None, "not above"),  # the catalog allows 6 h
        ("", timedelta(hours=3), None, "Name the program"),
    ],
)
def test_requests_that_make_no_sense_are_refused_with_a_reason(
    cloudflux: Tenant, command: str, runtime: timedelta | None, rss: int | None, problem: str
) -> None:
    with pytest.raises(process_exceptions.ExceptionRequestError, match=problem):
        process_exceptions.request_exception(
            cloudflux.asset, cloudflux.user, command, max_runtime=runtime, max_rss=rss, reason="x"
        )
    assert not Ticket.objects.exists()


def test_no_process_policy_means_no_exception_is_needed(customer_a: Tenant) -> None:
    with pytest.raises(process_exceptions.ExceptionRequestError, match="No process limits"):
        ask(customer_a)


def test_a_decision_needs_text_and_happens_once(cloudflux: Tenant, staff_user: object) -> None:
    request = ask(cloudflux)
    with pytest.raises(process_exceptions.ExceptionRequestError, match="written text"):
        process_exceptions.confirm(request, staff_user, "   ")
    with pytest.raises(process_exceptions.ExceptionRequestError, match="after its start"):
        process_exceptions.confirm(
            request, staff_user, "ok", valid_from=START, valid_until=START - timedelta(days=1)
        )
    process_exceptions.decline(request, staff_user, "No.")
    with pytest.raises(process_exceptions.ExceptionRequestError, match="already"):
        process_exceptions.confirm(request, staff_user, "Yes after all.")


def test_a_program_prohibited_after_the_confirmation_is_never_handed_out(
    cloudflux: Tenant, staff_user: object
) -> None:
    request = process_exceptions.confirm(ask(cloudflux), staff_user, "Confirmed.")
    policy = process_exceptions.process_policy_of(cloudflux.asset)
    assert policy is not None
    policy.prohibited = [*policy.prohibited, "ffmpeg"]
    policy.save()
    assert request.in_force(datetime.now(UTC))
    assert "ffmpeg" not in excepted(cloudflux.asset)
    process, _ = parse_policy(policy_document(cloudflux.asset))  # still a valid document
    assert process is not None
    assert "ffmpeg" in process.prohibited


def test_the_database_refuses_a_confirmation_without_writing(cloudflux: Tenant) -> None:
    request = ask(cloudflux)
    request.status = "confirmed"
    with pytest.raises(IntegrityError):
        request.save()


def test_staff_confirm_in_the_admin(client: Client, cloudflux: Tenant) -> None:
    from leitstand.accounts.models import User

    admin = User.objects.create_superuser("root", "root@provider.example", "pw")
    request = ask(cloudflux)
    client.force_login(admin)
    url = f"/admin/operations/processexceptionrequest/{request.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "decision": "confirm",
            "decision_text": "Confirmed by the system administration.",
            "valid_from_0": "",
            "valid_from_1": "",
            "valid_until_0": "",
            "valid_until_1": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("confirmed", admin)
    assert "ffmpeg" in excepted(cloudflux.asset)


@pytest.mark.django_db(transaction=True)
def test_two_staff_deciding_at_once_one_wins(cloudflux: Tenant, staff_user: object) -> None:
    """The decision happens under a row lock: a confirmation and a refusal sent at the
    same moment leave exactly one of them, never a confirmed-and-declined mix."""
    import threading

    from django.db import connection

    from leitstand.accounts.models import User

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers anyway; the race needs PostgreSQL")
    request = ask(cloudflux)
    second = User.objects.create_user("second", "second@provider.example", "pw", is_staff=True)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(action: Any, user: object, text: str) -> None:
        try:
            barrier.wait()
            action(ProcessExceptionRequest.objects.get(pk=request.pk), user, text)
            outcomes.append("decided")
        except process_exceptions.ExceptionRequestError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(process_exceptions.confirm, staff_user, "Yes.")),
        threading.Thread(target=decide, args=(process_exceptions.decline, second, "No.")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["decided", "refused"]
    request.refresh_from_db()
    assert request.status in {"confirmed", "declined"}
    assert request.ticket is not None
    assert request.ticket.messages.filter(channel="staff").count() == 1
