"""Language per user: the switch stores it, every later request and login uses it."""

from __future__ import annotations

import pytest
from django.test import Client
from tests.accounts.conftest import password_step
from tests.conftest import Tenant

from leitstand.accounts.models import User

pytestmark = pytest.mark.django_db


def switch(client: Client, code: str, next_url: str = "/portal/"):  # type: ignore[no-untyped-def]
    return client.post("/accounts/language/", {"language": code, "next": next_url})


def test_switch_stores_the_language_on_the_user(client: Client, customer_a: Tenant) -> None:
    password_step(client, "C90001", "alice")
    response = switch(client, "de")
    assert response.url == "/portal/"
    customer_a.user.refresh_from_db()
    assert customer_a.user.language == "de"
    page = client.get("/portal/")
    assert page["Content-Language"] == "de"
    assert '<html lang="de">' in page.content.decode()


def test_the_stored_language_wins_on_another_browser(client: Client, customer_a: Tenant) -> None:
    User.objects.filter(pk=customer_a.user.pk).update(language="de")
    fresh = Client(headers={"accept-language": "en"})
    login = password_step(fresh, "C90001", "alice")
    assert login.cookies["django_language"].value == "de"
    assert fresh.get("/portal/")["Content-Language"] == "de"
    fresh.post("/accounts/logout/")
    assert fresh.get("/accounts/login/")["Content-Language"] == "de"  # the login page too
    password_step(fresh, "C90001", "alice")
    switch(fresh, "en")
    assert fresh.get("/portal/")["Content-Language"] == "en"


def test_switch_before_login_sets_only_the_cookie(client: Client, customer_a: Tenant) -> None:
    response = switch(client, "de", "/accounts/login/")
    assert response.cookies["django_language"].value == "de"
    assert client.get("/accounts/login/")["Content-Language"] == "de"
    customer_a.user.refresh_from_db()
    assert customer_a.user.language == ""


@pytest.mark.parametrize("code", ["fr", "", "de-xx", "../../etc"])
def test_unknown_languages_are_ignored(client: Client, customer_a: Tenant, code: str) -> None:
    password_step(client, "C90001", "alice")
    assert switch(client, code).status_code == 302
    customer_a.user.refresh_from_db()
    assert customer_a.user.language == ""


def test_switch_never_redirects_off_site(client: Client) -> None:
    assert switch(client, "de", "https://evil.example/").url == "/"


def test_switch_needs_post(client: Client) -> None:
    assert client.get("/accounts/language/").status_code == 405


def test_staff_switch_too(client: Client, staff_user: User) -> None:
    client.force_login(staff_user)
    switch(client, "de", "/staff/")
    staff_user.refresh_from_db()
    assert staff_user.language == "de"
    assert client.get("/staff/")["Content-Language"] == "de"


def test_every_page_offers_the_switch_to_the_view(client: Client, customer_a: Tenant) -> None:
    password_step(client, "C90001", "alice")
    html = client.get("/portal/").content.decode()
    assert 'action="/accounts/language/"' in html
    assert 'href="/accounts/security/"' in html


def test_customer_users_see_times_in_the_customers_zone(
    client: Client, customer_a: Tenant, staff_user: User
) -> None:
    from django.template import engines

    template = engines["django"].from_string("{% now 'e' %}")
    customer_a.customer.timezone = "America/New_York"
    customer_a.customer.save()
    seen: list[str] = []

    def probe(request):  # type: ignore[no-untyped-def]
        from leitstand.accounts.middleware import AccountMiddleware

        def inner(req):  # type: ignore[no-untyped-def]
            from django.http import HttpResponse

            seen.append(template.render({}))
            return HttpResponse()

        return AccountMiddleware(inner)(request)

    from django.test import RequestFactory

    for user in (customer_a.user, staff_user):
        request = RequestFactory().get("/")
        request.user = user
        request.session = client.session
        probe(request)
    assert seen[0] in {"EST", "EDT"}
    assert seen[1] in {"CET", "CEST"}  # staff: the provider's zone
