"""The TOTP second factor: enrolment, login with a code, replay, recovery codes, lockout."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.accounts.conftest import enrol, password_step, totp
from tests.conftest import PASSWORD, Tenant

from leitstand.accounts import lockout, twofactor
from leitstand.accounts.models import User

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 9, 0, 10, tzinfo=UTC)  # 10 s into a 30-second step


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_enrolment_shows_an_inline_qr_code_and_needs_a_code_to_activate(
    client: Client, customer_a: Tenant
) -> None:
    client.force_login(customer_a.user)
    page = client.get("/accounts/security/totp/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html
    assert "http" not in html.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
        "http://www.w3.org/2000/svg", ""
    )
    device = TOTPDevice.objects.get(user=customer_a.user)
    assert not device.confirmed
    assert not twofactor.has_device(customer_a.user)
    # The secret shown for typing is the device key.
    import base64

    shown = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html)
    assert shown is not None
    secret = shown.group(1).replace(" ", "")
    assert base64.b32decode(secret + "=" * (-len(secret) % 8)) == bytes.fromhex(device.key)

    wrong = client.post("/accounts/security/totp/", {"code": "000000"})
    assert "This code does not match." in wrong.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    # A wrong code while setting up is a typo, not an attack: no lockout count.
    customer_a.user.refresh_from_db()
    assert customer_a.user.failed_logins == 0

    done = client.post("/accounts/security/totp/", {"code": totp(device.key, time.time())})
    assert done.url == "/accounts/security/recovery-codes/"
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    shown_codes = client.get("/accounts/security/recovery-codes/")
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", shown_codes.content.decode())
    assert len(codes) == twofactor.RECOVERY_CODES
    assert sorted(codes) == sorted(
        StaticToken.objects.filter(device__user=customer_a.user).values_list("token", flat=True)
    )
    # Shown once: the next visit sends the user back to the account page.
    assert client.get("/accounts/security/recovery-codes/").url == "/accounts/security/"


def test_login_asks_for_the_code_after_the_password(client: Client, customer_a: Tenant) -> None:
    with time_machine.travel(T0, tick=False):
        device, _ = enrol(customer_a.user, T0.timestamp() - 60)
        response = password_step(client, "C90001", "alice")
        assert response.url == "/accounts/login/code/"
        assert not logged_in(client)
        assert client.get("/portal/").status_code == 302  # not in yet
        page = client.get("/accounts/login/code/")
        assert page.status_code == 200
        response = client.post("/accounts/login/code/", {"code": totp(device.key, T0.timestamp())})
        assert response.url == "/"
        assert logged_in(client)
        assert client.get("/portal/").status_code == 200


def test_a_code_is_accepted_once_and_the_window_is_one_step(
    client: Client, customer_a: Tenant
) -> None:
    with time_machine.travel(T0, tick=False):
        device, _ = enrol(customer_a.user, T0.timestamp() - 90)
        code = totp(device.key, T0.timestamp())
        password_step(client, "C90001", "alice")
        client.post("/accounts/login/code/", {"code": code})
        assert logged_in(client)

    other = Client()
    with time_machine.travel(T0 + timedelta(seconds=5), tick=False):
        password_step(other, "C90001", "alice")
        replay = other.post("/accounts/login/code/", {"code": code})
        assert "This code is wrong or was already used." in replay.content.decode()
        assert not logged_in(other)

    # A code from two steps ago or two steps ahead is outside the tolerated drift.
    with time_machine.travel(T0 + timedelta(seconds=120), tick=False):
        now = T0.timestamp() + 120
        for stale in (totp(device.key, now - 60), totp(device.key, now + 60)):
            response = other.post("/accounts/login/code/", {"code": stale})
            assert "This code is wrong or was already used." in response.content.decode()
        # One step of drift is fine (a phone a few seconds off).
        response = other.post("/accounts/login/code/", {"code": totp(device.key, now - 30)})
        assert response.url == "/"


def test_the_pending_login_expires(client: Client, customer_a: Tenant) -> None:
    with time_machine.travel(T0, tick=False):
        device, _ = enrol(customer_a.user, T0.timestamp() - 60)
        password_step(client, "C90001", "alice")
    later = T0 + timedelta(minutes=6)
    with time_machine.travel(later, tick=False):
        response = client.post(
            "/accounts/login/code/", {"code": totp(device.key, later.timestamp())}
        )
        assert response.url == "/accounts/login/"
        assert not logged_in(client)


def test_code_page_without_a_password_step_goes_to_login(client: Client) -> None:
    assert client.get("/accounts/login/code/").url == "/accounts/login/"
    assert client.post("/accounts/login/code/", {"code": "123456"}).url == "/accounts/login/"


def test_wrong_codes_count_towards_the_lockout(client: Client, customer_a: Tenant) -> None:
    with time_machine.travel(T0, tick=False):
        device, _ = enrol(customer_a.user, T0.timestamp() - 60)
        password_step(client, "C90001", "alice")
        for attempt in range(lockout.MAX_FAILURES - 1):
            response = client.post("/accounts/login/code/", {"code": f"00000{attempt}"})
            assert response.status_code == 200
        # A right password again must not wipe the count of wrong codes.
        password_step(client, "C90001", "alice")
        customer_a.user.refresh_from_db()
        assert customer_a.user.failed_logins == lockout.MAX_FAILURES - 1
        response = client.post("/accounts/login/code/", {"code": "999999"})
        assert response.url == "/accounts/login/"
        customer_a.user.refresh_from_db()
        assert lockout.is_locked(customer_a.user)
        # Even the right password and then the right code are refused while locked.
        locked = password_step(client, "C90001", "alice")
        assert "Too many failed logins" in locked.content.decode()
        assert not logged_in(client)
        # The code page itself also refuses while locked.
        User.objects.filter(pk=customer_a.user.pk).update(failed_logins=0)
    with time_machine.travel(T0 + timedelta(minutes=16), tick=False):
        now = T0.timestamp() + 16 * 60
        password_step(client, "C90001", "alice")
        response = client.post("/accounts/login/code/", {"code": totp(device.key, now)})
        assert response.url == "/"
        customer_a.user.refresh_from_db()
        assert customer_a.user.failed_logins == 0


def test_recovery_code_logs_in_once(client: Client, customer_a: Tenant) -> None:
    _, codes = enrol(customer_a.user, time.time() - 60)
    password_step(client, "C90001", "alice")
    assert client.post("/accounts/login/code/", {"code": codes[0].upper()}).url == "/"
    assert twofactor.recovery_codes_left(customer_a.user) == twofactor.RECOVERY_CODES - 1
    other = Client()
    password_step(other, "C90001", "alice")
    again = other.post("/accounts/login/code/", {"code": codes[0]})
    assert "This code is wrong or was already used." in again.content.decode()


def test_one_customers_code_does_not_open_another_account(
    client: Client, customer_a: Tenant, customer_b: Tenant
) -> None:
    now = time.time()
    device_a, codes_a = enrol(customer_a.user, now - 60)
    enrol(customer_b.user, now - 60)
    password_step(client, "C90002", "bob")
    for code in (totp(device_a.key, now), codes_a[0]):
        response = client.post("/accounts/login/code/", {"code": code})
        assert "This code is wrong or was already used." in response.content.decode()
    assert not logged_in(client)


def test_disable_needs_password_and_code(client: Client, customer_a: Tenant) -> None:
    with time_machine.travel(T0, tick=False):
        device, _codes = enrol(customer_a.user, T0.timestamp() - 60)
        client.force_login(customer_a.user)
        now = T0.timestamp()
        response = client.post(
            "/accounts/security/totp/disable/",
            {"password": "wrong", "code": totp(device.key, now)},
        )
        assert response.url == "/accounts/security/"
        assert twofactor.has_device(customer_a.user)
        client.post("/accounts/security/totp/disable/", {"password": PASSWORD, "code": "123456"})
        assert twofactor.has_device(customer_a.user)
        customer_a.user.refresh_from_db()
        assert customer_a.user.failed_logins == 2
        client.post(
            "/accounts/security/totp/disable/",
            {"password": PASSWORD, "code": totp(device.key, now)},
        )
        assert not twofactor.has_device(customer_a.user)
        assert twofactor.recovery_codes_left(customer_a.user) == 0
        # Without a device the login is the password alone again.
        client.logout()
        assert password_step(client, "C90001", "alice").url == "/"


def test_failed_disable_attempts_lock_and_log_out(client: Client, customer_a: Tenant) -> None:
    enrol(customer_a.user, time.time() - 60)
    client.force_login(customer_a.user)
    for _ in range(lockout.MAX_FAILURES):
        response = client.post(
            "/accounts/security/totp/disable/", {"password": PASSWORD, "code": "000000"}
        )
    assert response.url == "/accounts/login/"
    assert not logged_in(client)
    assert twofactor.has_device(customer_a.user)


def test_new_recovery_codes_need_a_code_and_replace_the_old(
    client: Client, customer_a: Tenant
) -> None:
    with time_machine.travel(T0, tick=False):
        device, old = enrol(customer_a.user, T0.timestamp() - 60)
        client.force_login(customer_a.user)
        client.post("/accounts/security/recovery-codes/", {"code": "000000"})
        assert twofactor.recovery_codes_left(customer_a.user) == twofactor.RECOVERY_CODES
        assert StaticToken.objects.filter(token=old[0]).exists()
        response = client.post(
            "/accounts/security/recovery-codes/", {"code": totp(device.key, T0.timestamp())}
        )
        assert response.url == "/accounts/security/recovery-codes/"
        new = re.findall(
            r"<li><code>([a-z2-7]+)</code></li>",
            client.get("/accounts/security/recovery-codes/").content.decode(),
        )
        assert len(new) == twofactor.RECOVERY_CODES
        assert not StaticToken.objects.filter(token__in=old).exists()


def test_customer_enforcement_leads_to_enrolment_before_anything_else(
    client: Client, customer_a: Tenant, customer_b: Tenant
) -> None:
    customer_a.customer.enforce_totp = True
    customer_a.customer.save()
    assert password_step(client, "C90001", "alice").url == "/"
    for path in ("/portal/", "/portal/tickets/", "/accounts/security/", "/accounts/password/"):
        assert client.get(path).url == "/accounts/security/totp/", path
    page = client.get("/accounts/security/totp/")
    assert "Your organisation requires a second factor." in page.content.decode()
    device = TOTPDevice.objects.get(user=customer_a.user)
    client.post("/accounts/security/totp/", {"code": totp(device.key, time.time())})
    assert client.get("/portal/").status_code == 200
    # The other customer enforces nothing.
    other = Client()
    password_step(other, "C90002", "bob")
    assert other.get("/portal/").status_code == 200


def test_staff_enforcement_by_setting(client: Client, staff_user: User, settings) -> None:  # type: ignore[no-untyped-def]
    settings.STAFF_REQUIRE_TOTP = False
    client.force_login(staff_user)
    assert client.get("/staff/").status_code == 200
    settings.STAFF_REQUIRE_TOTP = True
    assert client.get("/staff/").url == "/accounts/security/totp/"
    # Logging out stays possible.
    assert client.post("/accounts/logout/").url == "/accounts/login/"


def test_disabling_under_enforcement_leads_straight_to_a_new_enrolment(
    client: Client, customer_a: Tenant
) -> None:
    with time_machine.travel(T0, tick=False):
        device, _ = enrol(customer_a.user, T0.timestamp() - 60)
        customer_a.customer.enforce_totp = True
        customer_a.customer.save()
        client.force_login(customer_a.user)
        response = client.post(
            "/accounts/security/totp/disable/",
            {"password": PASSWORD, "code": totp(device.key, T0.timestamp())},
        )
        assert response.url == "/accounts/security/totp/"
        assert client.get("/portal/").url == "/accounts/security/totp/"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_code_in_two_concurrent_logins_passes_once(customer_a: Tenant) -> None:
    """Four requests racing with one code: the device row lock lets exactly one through."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(
            "SQLite's shared in-memory test database refuses concurrent writers "
            "('table is locked') instead of waiting; the row lock is tested on PostgreSQL"
        )
    device, _ = enrol(customer_a.user, time.time() - 60)
    code = totp(device.key, time.time())
    barrier = threading.Barrier(4)
    results: list[bool] = []

    def attempt() -> None:
        try:
            barrier.wait()
            results.append(twofactor.verify(customer_a.user, code))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
