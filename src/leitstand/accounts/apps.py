from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "leitstand.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out  # noqa: PLC0415

        user_logged_in.connect(_on_login, dispatch_uid="leitstand.accounts.session_clock")
        user_logged_out.connect(_on_logout, dispatch_uid="leitstand.accounts.session_list")


def _on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Every login starts the session's idle and absolute clocks and joins the user's list."""
    from leitstand.accounts.middleware import (  # noqa: PLC0415
        record_login_session,
        start_session_clock,
    )

    if request is not None and hasattr(request, "session"):
        start_session_clock(request)
        record_login_session(request, user)


def _on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Every logout, also by expiry or lockout, takes the session off the user's list."""
    from leitstand.accounts.models import LoginSession  # noqa: PLC0415

    key = getattr(getattr(request, "session", None), "session_key", None)
    if key is not None:
        LoginSession.objects.filter(session_key=key).delete()
