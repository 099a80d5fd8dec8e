from __future__ import annotations

import logging

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.views import redirect_to_login
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from leitstand.accounts import twofactor
from leitstand.accounts.models import LoginSession, User
from leitstand.core.admin import ReadOnlyAdmin

log = logging.getLogger("leitstand.security")


@admin.register(User)
class UserAdmin(BaseUserAdmin):  # type: ignore[type-arg]
    list_display = ("username", "customer", "login", "email", "is_staff", "is_active")
    list_filter = ("is_staff", "is_active", "customer")
    fieldsets = (
        *BaseUserAdmin.fieldsets,  # type: ignore[misc]
        (_("Customer"), {"fields": ("customer", "login", "language")}),
        (_("Login security"), {"fields": ("failed_logins", "locked_until")}),
    )
    actions = ("remove_second_factor", "unlock")

    @admin.action(description=_("Remove the second factor (lost phone)"))
    def remove_second_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """Helpdesk for a lost phone: the user logs in with the password alone (or, where
        a second factor is required, is led to set up a new one right after)."""
        for user in queryset:
            twofactor.remove_all(user)
            log.warning(
                "second factor of user %s removed by staff user %s", user.pk, request.user.pk
            )
        self.message_user(
            request,
            ngettext(
                "The second factor of %(count)d user was removed.",
                "The second factor of %(count)d users was removed.",
                queryset.count(),
            )
            % {"count": queryset.count()},
        )

    @admin.action(description=_("Unlock after failed logins"))
    def unlock(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """End a lockout early, e.g. after the customer called and was identified."""
        queryset.update(failed_logins=0, locked_until=None)


@admin.register(LoginSession)
class LoginSessionAdmin(ReadOnlyAdmin):
    """Look only: a row is ended with its stored session, which the account page does."""

    list_display = ("user", "started_at", "seen_at", "ip")
    list_select_related = ("user",)
    search_fields = ("user__username",)


def _login_through_leitstand(request: HttpRequest, extra_context: object = None) -> HttpResponse:
    """The admin has no login form of its own.

    Django's admin login checks only the password: it would bypass the second
    factor, the lockout and the session clocks of :mod:`leitstand.accounts`.
    Anybody who needs the admin logs in through the one login page.
    """
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = ""
    return redirect_to_login(target or reverse("admin:index"), login_url=reverse("accounts:login"))


admin.site.login = _login_through_leitstand  # type: ignore[method-assign]
