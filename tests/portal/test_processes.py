"""Process limits and exception requests in the portal (seed 000 IX, seed 003 §9)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from tests.conftest import Tenant

from leitstand.contracts.catalog import load_file
from leitstand.contracts.models import Plan
from leitstand.core.demo import CATALOG
from leitstand.helpdesk.models import Ticket
from leitstand.operations import process_exceptions
from leitstand.operations.escalation import policy_document
from leitstand.operations.models import ProcessExceptionRequest

pytestmark = pytest.mark.django_db


@pytest.fixture
def cloudflux(customer_a: Tenant, customer_b: Tenant) -> Tenant:
    load_file(CATALOG)
    for tenant in (customer_a, customer_b):
        tenant.contract.plan = Plan.objects.get(name="cloudflux-managed-server")
        tenant.contract.save()
    return customer_a


def post(client: Client, tenant: Tenant, **data: object) -> str:
    client.force_login(tenant.user)
    form = {
        "asset": tenant.asset.pk,
        "command": "ffmpeg",
        "max_runtime_hours": 8,
        "reason": "Transcoding the product videos takes up to 7 hours.",
        "acknowledged": "on",
        **data,
    }
    response = client.post("/portal/processes/exception/", form)
    return response.content.decode() if response.status_code == 200 else response.url


def test_the_limits_of_the_package_are_shown(client: Client, cloudflux: Tenant) -> None:
    client.force_login(cloudflux.user)
    html = client.get("/portal/processes/").content.decode()
    assert "2 hours" in html
    assert "2GiB" in html
    assert "pg_dump: 6 hours / no limit" in html
    assert "confirmed in writing" not in html  # no request yet


def test_a_request_then_the_written_confirmation_on_the_page(
    client: Client, cloudflux: Tenant, staff_user: object
) -> None:
    assert post(client, cloudflux, max_memory_mib=4096) == "/portal/processes/"
    request = ProcessExceptionRequest.objects.get()
    assert (request.command, request.max_runtime_seconds, request.max_rss_bytes) == (
        "ffmpeg",
        8 * 3600,
        4 * 1024**3,
    )
    html = client.get("/portal/processes/").content.decode()
    assert "requested" in html
    assert "runtime 8 hours, memory 4GiB" in html
    staff_user.first_name, staff_user.last_name = "Olga", "Operator"  # type: ignore[attr-defined]
    staff_user.save()  # type: ignore[attr-defined]
    process_exceptions.confirm(
        request,
        staff_user,
        "Confirmed: 8 h and 4 GiB for ffmpeg.",
        valid_until=datetime(2027, 6, 30, tzinfo=UTC),
    )
    html = client.get("/portal/processes/").content.decode()
    assert "confirmed in writing" in html
    assert "Confirmed: 8 h and 4 GiB for ffmpeg." in html
    assert "Olga Operator" in html
    assert "until 06/30/2027" in html
    assert "ffmpeg" in {
        e["command"] for e in policy_document(cloudflux.asset)["process_policy"]["exceptions"]
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"acknowledged": ""}, "This field is required."),
        ({"max_runtime_hours": ""}, "Ask for a longer runtime, more memory, or both."),
        ({"command": "xmrig"}, "xmrig is a prohibited program"),
        ({"max_runtime_hours": 1}, "not above the ones that apply already"),
        ({"max_runtime_hours": 0}, "greater than or equal to 1"),
        ({"max_runtime_hours": "lots"}, "Enter a whole number."),
        ({"reason": ""}, "This field is required."),
    ],
)
def test_bad_requests_get_a_clear_error(
    client: Client, cloudflux: Tenant, data: dict[str, object], message: str
) -> None:
    html = post(client, cloudflux, **data)
    assert message in html
    assert not Ticket.objects.exists()


def test_another_customers_server_cannot_be_chosen(
    client: Client, cloudflux: Tenant, customer_b: Tenant
) -> None:
    html = post(client, cloudflux, asset=customer_b.asset.pk)
    assert "Select a valid choice" in html
    assert not ProcessExceptionRequest.objects.exists()


def test_another_customers_requests_are_not_listed(
    client: Client, cloudflux: Tenant, customer_b: Tenant
) -> None:
    post(client, customer_b, command="blender")
    client.force_login(cloudflux.user)
    assert "blender" not in client.get("/portal/processes/").content.decode()


def test_without_process_limits_the_form_says_none_are_needed(
    client: Client, customer_a: Tenant
) -> None:
    client.force_login(customer_a.user)
    html = client.get("/portal/processes/exception/").content.decode()
    assert "No process limits apply to your servers" in html
    assert (
        "No process limits apply to this server."
        in client.get("/portal/processes/").content.decode()
    )
