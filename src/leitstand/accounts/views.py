"""Log in (password, then a code if the user has a second factor), log out, own account.

Seed 000 I: "The Customer must use their customer portal login (User ID:
customer number; Password: customer password)."
"""

from __future__ import annotations

import logging
import time
from importlib import import_module
from typing import Any, Final

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.contrib.auth.views import PasswordResetConfirmView
from django.contrib.sessions.backends.base import SessionBase
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from leitstand.accounts import lockout, twofactor
from leitstand.accounts.forms import (
    CodeForm,
    DisableForm,
    EnrolForm,
    LoginForm,
    PasswordResetRequestForm,
    locked_message,
)
from leitstand.accounts.middleware import record_login_session
from leitstand.accounts.models import LoginSession, User
from leitstand.accounts.tasks import send_password_reset

# Security events (logins, wrong codes, lockouts, second-factor and password
# changes) for the provider's log collection; never a password or a code.
log = logging.getLogger("leitstand.security")

PENDING: Final = "ls_pending_login"
RECOVERY: Final = "ls_recovery_codes"
# Between the password and the code: long enough to find the phone.
PENDING_SECONDS: Final = 300


def _safe_next(request: HttpRequest, target: str) -> str:
    if url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _complete_login(request: HttpRequest, user: User, backend: str, target: str) -> HttpResponse:
    lockout.record_success(user)
    auth_login(request, user, backend=backend)
    log.info("login: user %s from %s", user.pk, _client(request))
    response = redirect(target or "home")
    if user.language:
        # The pages follow the user's language from now on (AccountMiddleware);
        # the cookie keeps it for the login page after logging out.
        _set_language_cookie(response, user.language)
    return response


def _client(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", "?"))


def _set_language_cookie(response: HttpResponse, code: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """One login page for staff and customers; users with a second factor go on to the code."""
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid() and form.user is not None:
        user = form.user
        backend = getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[0])
        target = _safe_next(request, request.GET.get("next", ""))
        if not twofactor.has_device(user):
            return _complete_login(request, user, backend, target)
        request.session.cycle_key()
        request.session[PENDING] = {
            "user": user.pk,
            "backend": backend,
            "next": target,
            "at": int(time.time()),
        }
        return redirect("accounts:login-code")
    return render(request, "accounts/login.html", {"form": form})


@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    """Second step: the code from the app (or a recovery code) after a right password.

    A wrong code counts towards the lockout exactly like a wrong password.
    """
    pending: dict[str, Any] | None = request.session.get(PENDING)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        if pending:
            messages.info(request, _("That took too long. Please log in again."))
        return redirect("accounts:login")
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        request.session.pop(PENDING, None)
        return redirect("accounts:login")
    form = CodeForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        if lockout.is_locked(user):
            request.session.pop(PENDING, None)
            messages.error(request, locked_message())
            return redirect("accounts:login")
        if twofactor.verify(user, form.cleaned_data["code"]):
            del request.session[PENDING]
            return _complete_login(request, user, pending["backend"], pending["next"])
        lockout.record_failure(user)
        log.warning("wrong second-factor code: user %s from %s", user.pk, _client(request))
        user.refresh_from_db(fields=["locked_until"])
        if lockout.is_locked(user):
            request.session.pop(PENDING, None)
            messages.error(request, locked_message())
            return redirect("accounts:login")
        form.add_error("code", _("This code is wrong or was already used."))
    return render(request, "accounts/login_code.html", {"form": form})


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """End the session."""
    auth_logout(request)
    return redirect("accounts:login")


@login_required
@never_cache
def security(request: HttpRequest) -> HttpResponse:
    """The user's own account: second factor, recovery codes, password, sessions."""
    user: User = request.user  # type: ignore[assignment]
    sessions = _live_sessions(user)
    current_key = request.session.session_key
    return render(
        request,
        "accounts/security.html",
        {
            "has_device": twofactor.has_device(user),
            "required": twofactor.is_required(user),
            "codes_left": twofactor.recovery_codes_left(user),
            "disable_form": DisableForm(),
            "sessions": sessions,
            "current_key": current_key,
            "has_others": any(row.session_key != current_key for row in sessions),
        },
    )


def _session_store() -> type[SessionBase]:
    """The store class of ``SESSION_ENGINE``; the rows only point into it."""
    store: type[SessionBase] = import_module(settings.SESSION_ENGINE).SessionStore
    return store


def _live_sessions(user: User) -> list[LoginSession]:
    """The user's sessions; rows whose stored session has gone (expired, flushed) are dropped."""
    store = _session_store()()
    rows = list(user.login_sessions.all())
    stale = [row.pk for row in rows if not store.exists(row.session_key)]
    if stale:
        LoginSession.objects.filter(pk__in=stale).delete()
    return [row for row in rows if row.pk not in stale]


def _end_sessions(rows: QuerySet[LoginSession]) -> int:
    """Log those browsers out: deleting the stored session is what ends them."""
    keys = list(rows.values_list("session_key", flat=True))
    store = _session_store()()
    for key in keys:
        store.delete(key)
    LoginSession.objects.filter(session_key__in=keys).delete()
    return len(keys)


def _end_other_sessions(request: HttpRequest, user: User) -> int:
    """End every session of ``user`` but the one making this request."""
    others = LoginSession.objects.filter(user=user).exclude(session_key=request.session.session_key)
    return _end_sessions(others)


@login_required
@require_POST
@never_cache
def session_end(request: HttpRequest, pk: int) -> HttpResponse:
    """Log out one of the user's other browsers, e.g. one left open on a shared computer."""
    row = get_object_or_404(LoginSession, pk=pk, user=request.user)
    if row.session_key == request.session.session_key:
        messages.error(request, _("This is the session you are using. To end it, log out."))
        return redirect("accounts:security")
    _end_sessions(LoginSession.objects.filter(pk=row.pk))
    log.info("session ended from the account page: user %s", request.user.pk)
    messages.success(request, _("The session has been logged out."))
    return redirect("accounts:security")


@login_required
@require_POST
@never_cache
def sessions_end_others(request: HttpRequest) -> HttpResponse:
    """Log out everywhere else at once, e.g. after a lost laptop."""
    user: User = request.user  # type: ignore[assignment]
    count = _end_other_sessions(request, user)
    log.info("other sessions ended from the account page: user %s", user.pk)
    messages.success(
        request,
        ngettext(
            "%(count)d other session has been logged out.",
            "%(count)d other sessions have been logged out.",
            count,
        )
        % {"count": count},
    )
    return redirect("accounts:security")


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def totp_enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code, confirm with one code."""
    user: User = request.user  # type: ignore[assignment]
    if twofactor.has_device(user):
        return redirect("accounts:security")
    device = twofactor.pending_device(user)
    form = EnrolForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = twofactor.confirm(device, form.cleaned_data["code"])
        if codes is not None:
            log.info("second factor enrolled: user %s", user.pk)
            request.session[RECOVERY] = codes
            return redirect("accounts:totp-recovery")
        form.add_error(
            "code",
            _("This code does not match. Check the time on your phone and enter the current code."),
        )
    return render(
        request,
        "accounts/totp_enrol.html",
        {
            "form": form,
            "qr_svg": twofactor.qr_svg(device),
            "secret": twofactor.secret_for_typing(device),
            "required": twofactor.is_required(user),
        },
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def totp_recovery(request: HttpRequest) -> HttpResponse:
    """Show new recovery codes once (GET after enrolment), or make new ones (POST with a code)."""
    user: User = request.user  # type: ignore[assignment]
    if request.method == "POST":
        form = CodeForm(data=request.POST)
        if not twofactor.has_device(user) or not form.is_valid():
            return redirect("accounts:security")
        if not twofactor.verify(user, form.cleaned_data["code"]):
            return _failed_check(request, user)
        request.session[RECOVERY] = twofactor.new_recovery_codes(user)
        return redirect("accounts:totp-recovery")
    codes = request.session.pop(RECOVERY, None)
    if not codes:
        messages.info(request, _("Recovery codes are shown only once."))
        return redirect("accounts:security")
    return render(request, "accounts/totp_recovery.html", {"codes": codes})


def _failed_check(request: HttpRequest, user: User) -> HttpResponse:
    """A wrong password or code for a logged-in user: counts, and may end the session."""
    lockout.record_failure(user)
    log.warning("wrong password or code in the account: user %s from %s", user.pk, _client(request))
    user.refresh_from_db(fields=["locked_until"])
    if lockout.is_locked(user):
        auth_logout(request)
        messages.error(request, locked_message())
        return redirect("accounts:login")
    messages.error(request, _("Password or code is wrong."))
    return redirect("accounts:security")


@sensitive_post_parameters("password", "code")
@login_required
@require_POST
def totp_disable(request: HttpRequest) -> HttpResponse:
    """Turn the second factor off: needs the password and a current code."""
    user: User = request.user  # type: ignore[assignment]
    form = DisableForm(data=request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter your password and a code."))
        return redirect("accounts:security")
    password_ok = user.check_password(form.cleaned_data["password"])
    if not (password_ok and twofactor.verify(user, form.cleaned_data["code"])):
        return _failed_check(request, user)
    twofactor.remove_all(user)
    log.info("second factor turned off: user %s", user.pk)
    lockout.record_success(user)
    messages.success(request, _("Two-factor authentication is off."))
    if twofactor.is_required(user):
        messages.info(request, _("Your organisation requires a second factor: set up a new one."))
        return redirect("accounts:totp-enrol")
    return redirect("accounts:security")


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    """Change the password; every other session of the user ends with it.

    Django keeps a hash of the password in each session and drops a session
    whose hash no longer matches; only this one is updated.
    """
    form = PasswordChangeForm(request.user, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        record_login_session(request, user)
        _end_other_sessions(request, user)
        log.info("password changed: user %s", user.pk)
        messages.success(
            request, _("Your password has been changed. Other sessions have been logged out.")
        )
        return redirect("accounts:security")
    return render(request, "accounts/password_change.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    """Ask for a reset link.

    The answer never says whether the account exists: the request only queues
    a job (the same database write in every case), and the job looks the user
    up and mails the link to a verified address, or does nothing.
    """
    form = PasswordResetRequestForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        send_password_reset.enqueue(
            form.cleaned_data["customer_number"].strip(),
            form.cleaned_data["login"].strip(),
            request.build_absolute_uri("/").rstrip("/"),
        )
        return redirect("accounts:password-reset-sent")
    return render(request, "accounts/password_reset.html", {"form": form})


def password_reset_sent(request: HttpRequest) -> HttpResponse:
    """The same answer for every reset request."""
    return render(request, "accounts/password_reset_sent.html")


class ResetConfirmView(PasswordResetConfirmView):
    """Set a new password from a mailed link (Django's token: single use, expiring).

    A successful reset also clears a lockout: whoever reads the verified
    mailbox is the account's owner.
    """

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-done")
    form_class = SetPasswordForm

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:  # type: ignore[type-arg]
        response = super().form_valid(form)
        lockout.record_success(form.user)
        _end_other_sessions(self.request, form.user)
        log.info("password reset: user %s from %s", form.user.pk, _client(self.request))
        return response


def password_reset_done(request: HttpRequest) -> HttpResponse:
    """The new password is set."""
    return render(request, "accounts/password_reset_done.html")


@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Switch the language: stored on the user, and in the cookie for the login page."""
    code = request.POST.get("language", "")
    target = _safe_next(request, request.POST.get("next", "")) or reverse("home")
    response = redirect(target)
    if code not in dict(settings.LANGUAGES) or not check_for_language(code):
        return response
    if request.user.is_authenticated:
        User.objects.filter(pk=request.user.pk).update(language=code)
    _set_language_cookie(response, code)
    return response
