"""The account page lists the user's sessions and ends any but the current one."""

from __future__ import annotations

import pytest
from django.test import Client
from tests.accounts.conftest import password_step
from tests.conftest import PASSWORD, Tenant

from leitstand.accounts.models import LoginSession, User

pytestmark = pytest.mark.django_db

SECURITY = "/accounts/security/"


def logged_in(number: str = "C90001", login: str = "alice", browser: str = "Firefox") -> Client:
    client = Client(HTTP_USER_AGENT=browser)
    assert password_step(client, number, login).status_code == 302
    return client


def row_of(client: Client) -> LoginSession:
    return LoginSession.objects.get(session_key=client.session.session_key)


def end_url(row: LoginSession) -> str:
    return f"/accounts/security/sessions/{row.pk}/end/"


def is_logged_in(client: Client) -> bool:
    return client.get("/portal/").status_code == 200


def test_both_sessions_are_listed_and_the_current_one_is_marked(customer_a: Tenant) -> None:
    here = logged_in(browser="Firefox " + "x" * 200)
    there = logged_in(browser="Safari")
    page = here.get(SECURITY)
    assert {row.pk for row in page.context["sessions"]} == {row_of(here).pk, row_of(there).pk}
    html = page.content.decode()
    assert "Your sessions" in html
    assert html.count("This session") == 1
    assert end_url(row_of(there)) in html
    assert end_url(row_of(here)) not in html
    assert "Log out all other sessions" in html
    assert "127.0.0.1" in html
    assert "Firefox " + "x" * 71 + "…" in html
    assert "x" * 73 not in html


def test_ending_another_session_logs_that_browser_out(customer_a: Tenant) -> None:
    here, there = logged_in(), logged_in()
    assert is_logged_in(there)
    response = here.post(end_url(row_of(there)), follow=True)
    assert "The session has been logged out." in response.content.decode()
    assert LoginSession.objects.count() == 1
    answer = there.get("/portal/")
    assert answer.status_code == 302
    assert answer.url.startswith("/accounts/login/")
    assert is_logged_in(here)


def test_log_out_all_other_sessions_keeps_only_the_current_one(customer_a: Tenant) -> None:
    here = logged_in()
    others = [logged_in(), logged_in()]
    response = here.post("/accounts/security/sessions/end-others/", follow=True)
    assert "2 other sessions have been logged out." in response.content.decode()
    assert list(LoginSession.objects.all()) == [row_of(here)]
    assert not any(is_logged_in(other) for other in others)
    assert is_logged_in(here)


def test_another_users_session_answers_404_and_stays_alive(
    customer_a: Tenant, customer_b: Tenant
) -> None:
    alice, bob = logged_in(), logged_in("C90002", "bob")
    bobs = row_of(bob)
    assert alice.post(end_url(bobs)).status_code == 404
    assert alice.post("/accounts/security/sessions/end-others/").status_code == 302
    assert LoginSession.objects.filter(pk=bobs.pk).exists()
    assert is_logged_in(bob)
    assert end_url(bobs) not in alice.get(SECURITY).content.decode()


def test_the_current_session_is_not_ended_through_the_list(customer_a: Tenant) -> None:
    here = logged_in()
    response = here.post(end_url(row_of(here)), follow=True)
    assert "This is the session you are using. To end it, log out." in response.content.decode()
    assert LoginSession.objects.count() == 1
    assert is_logged_in(here)


def test_ending_needs_a_post_and_a_login(customer_a: Tenant) -> None:
    here, there = logged_in(), logged_in()
    assert here.get(end_url(row_of(there))).status_code == 405
    assert here.get("/accounts/security/sessions/end-others/").status_code == 405
    anonymous = Client().post(end_url(row_of(there)))
    assert anonymous.url.startswith("/accounts/login/")
    assert is_logged_in(there)


def test_logout_removes_the_row(customer_a: Tenant) -> None:
    here, there = logged_in(), logged_in()
    kept = row_of(there)
    here.post("/accounts/logout/")
    assert list(LoginSession.objects.all()) == [kept]


def test_a_row_whose_session_is_gone_disappears(customer_a: Tenant) -> None:
    here = logged_in()
    gone = LoginSession.objects.create(
        user=customer_a.user,
        session_key="gone" * 8,
        started_at=row_of(here).started_at,
        seen_at=row_of(here).seen_at,
    )
    page = here.get(SECURITY)
    assert [row.pk for row in page.context["sessions"]] == [row_of(here).pk]
    assert end_url(gone) not in page.content.decode()
    assert not LoginSession.objects.filter(pk=gone.pk).exists()


def test_password_change_removes_the_other_rows(customer_a: Tenant) -> None:
    here, there = logged_in(), logged_in()
    started = row_of(here).started_at
    new = "Tr0ubadour-and-sunlight-42"
    response = here.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    # The current session got a new key; its row follows it with the original start.
    assert list(LoginSession.objects.all()) == [row_of(here)]
    assert row_of(here).started_at == started
    assert not is_logged_in(there)
    assert here.get(SECURITY).content.decode().count("This session") == 1


def test_staff_see_their_sessions_too(staff_user: User) -> None:
    here, there = Client(), Client()
    here.force_login(staff_user)
    there.force_login(staff_user)
    assert len(here.get(SECURITY).context["sessions"]) == 2
    here.post(end_url(row_of(there)))
    assert there.get("/staff/").status_code == 302


def test_a_session_without_a_row_gets_one_when_it_is_next_seen(customer_a: Tenant) -> None:
    """Sessions from before the list existed, or after a key change, join it within a minute."""
    here = logged_in()
    row_of(here).delete()
    session = here.session
    session["ls_seen_at"] -= 120
    session.save()
    here.get("/portal/")
    assert row_of(here).user == customer_a.user


def test_password_reset_removes_every_row(customer_a: Tenant) -> None:
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.http import urlsafe_base64_encode

    there = logged_in()
    user = User.objects.get(pk=customer_a.user.pk)
    uid = urlsafe_base64_encode(str(user.pk).encode())
    token = default_token_generator.make_token(user)
    resetting = Client()
    form = resetting.get(f"/accounts/password/reset/{uid}/{token}/", follow=True)
    new = "Tr0ubadour-and-sunlight-42"
    done = resetting.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done.url == "/accounts/password/reset/done/"
    assert not LoginSession.objects.exists()
    assert not is_logged_in(there)
