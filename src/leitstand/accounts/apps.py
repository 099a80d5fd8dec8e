from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "leitstand.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in  # noqa: PLC0415

        user_logged_in.connect(_on_login, dispatch_uid="leitstand.accounts.session_clock")


def _on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Every login starts the session's idle and absolute clocks."""
    from leitstand.accounts.middleware import start_session_clock  # noqa: PLC0415

    if request is not None and hasattr(request, "session"):
        start_session_clock(request)
