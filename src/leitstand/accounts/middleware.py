"""Per-request account rules: session expiry, the user's language, enforced TOTP.

Seed 000 I: the customer portal is the customer's way in ("User ID: customer
number; Password: customer password"). A session that stays open forever on a
shared office computer is a way in for the next person at that desk, so every
session ends after ``SESSION_IDLE_TIMEOUT`` seconds without a request and at
the latest ``SESSION_ABSOLUTE_TIMEOUT`` seconds after the login, however
active it is. The times live in the session itself (server side), never in a
cookie the browser could keep alive.
"""

from __future__ import annotations

import ipaddress
import time
import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from leitstand.accounts import twofactor
from leitstand.accounts.models import LoginSession, User

LOGIN_AT: Final = "ls_login_at"
SEEN_AT: Final = "ls_seen_at"
# Writing the session on every request would turn every page view into a
# database write; a minute of imprecision in the idle timeout costs nothing.
SEEN_RESOLUTION: Final = 60
# Browsers send what they like; the row keeps what its column holds.
_USER_AGENT_LENGTH: Final = LoginSession._meta.get_field("user_agent").max_length

Handler = Callable[[HttpRequest], HttpResponse]


def start_session_clock(request: HttpRequest) -> None:
    """Remember when this session logged in (called on every login)."""
    now = int(time.time())
    request.session[LOGIN_AT] = now
    request.session[SEEN_AT] = now


def record_login_session(request: HttpRequest, user: User) -> None:
    """Keep the user's row for this session up to date, creating it if missing.

    Called at login and with every refresh of ``SEEN_AT``. A missing row is
    normal after ``update_session_auth_hash`` gave the session a new key; it
    keeps the original login time from the session.
    """
    session = request.session
    if session.session_key is None:
        session.save()
    login_at = session.get(LOGIN_AT) or time.time()
    values = {
        "user": user,
        "seen_at": timezone.now(),
        "ip": _client_ip(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:_USER_AGENT_LENGTH],
    }
    LoginSession.objects.update_or_create(
        session_key=session.session_key,
        defaults=values,
        create_defaults={**values, "started_at": datetime.fromtimestamp(login_at, tz=UTC)},
    )


def _client_ip(request: HttpRequest) -> str | None:
    """The peer address, or None where there is none a database column would accept."""
    try:
        return str(ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")))
    except ValueError:
        return None


def session_expired(session: SessionBase, now: float) -> bool:
    """True when the session is past its idle or absolute limit."""
    login_at = session.get(LOGIN_AT)
    seen_at = session.get(SEEN_AT, login_at)
    if login_at is None or seen_at is None:
        return False
    absolute: int = settings.SESSION_ABSOLUTE_TIMEOUT
    idle: int = settings.SESSION_IDLE_TIMEOUT
    # A limit of 0 is switched off.
    return bool((absolute and now - login_at > absolute) or (idle and now - seen_at > idle))


def _exempt_from_enrolment(path: str) -> bool:
    """Pages a user who must enrol a second factor may still open."""
    allowed = (
        reverse("accounts:totp-enrol"),
        reverse("accounts:totp-recovery"),
        reverse("accounts:logout"),
        reverse("accounts:language"),
        reverse("set_language"),
        "/" + settings.STATIC_URL.lstrip("/"),
        reverse("healthz"),
    )
    return path.startswith(allowed)


def _activate_customer_zone(user: User) -> None:
    """Show a customer user times in the customer's zone (the database holds UTC).

    Staff see the provider's ``TIME_ZONE``; an unknown zone name falls back to it.
    """
    customer = user.customer if user.customer_id is not None else None
    if customer is None or not customer.timezone:
        timezone.deactivate()
        return
    try:
        timezone.activate(zoneinfo.ZoneInfo(customer.timezone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        timezone.deactivate()


class AccountMiddleware:
    """Expire sessions, activate the user's language, send enforced users to enrolment."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            session = request.session
            now = time.time()
            if LOGIN_AT not in session:
                # A session from before this rule existed: its clock starts now.
                start_session_clock(request)
            elif session_expired(session, now):
                logout(request)
                messages.info(request, _("Your session has expired. Please log in again."))
                return redirect_to_login(request.get_full_path())
            elif now - session.get(SEEN_AT, 0) >= SEEN_RESOLUTION:
                session[SEEN_AT] = int(now)
                record_login_session(request, user)
            language = getattr(user, "language", "")
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
            _activate_customer_zone(user)
            if (
                twofactor.is_required(user)
                and not _exempt_from_enrolment(request.path)
                and not twofactor.has_device(user)
            ):
                return redirect("accounts:totp-enrol")
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Send ``settings.CONTENT_SECURITY_POLICY`` as a header when it is set.

    Django 5.2 has no CSP support of its own (6.0 has); one static policy for
    every page is all Leitstand needs, since it serves every script and style
    itself.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response
