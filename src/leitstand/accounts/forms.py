"""The login form: staff by user name, customer users by customer number and login."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from leitstand.accounts import lockout
from leitstand.accounts.models import User


class LoginForm(forms.Form):
    """Seed 000 I: "User ID: customer number; Password: customer password".

    Customer users give their customer number and login name; provider staff
    leave the customer number empty.
    """

    customer_number = forms.CharField(
        label=_("Customer number"),
        required=False,
        max_length=20,
        help_text=_("Leave empty if you work for the provider."),
    )
    login = forms.CharField(label=_("User name"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)

    def __init__(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.user: User | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        login, password = data.get("login"), data.get("password")
        if not login or not password:
            return data
        number = (data.get("customer_number") or "").strip()
        account = self._account(number, login)
        if account is not None and lockout.is_locked(account):
            raise forms.ValidationError(
                _("Too many failed logins. Try again in %(minutes)d minutes.")
                % {"minutes": lockout.LOCK_MINUTES},
                code="locked",
            )
        if number:
            user = authenticate(
                self.request, customer_number=number, login=login, password=password
            )
        else:
            user = authenticate(self.request, username=login, password=password)
            if user is not None and getattr(user, "customer_id", None) is not None:
                user = None  # customer users always log in with their customer number
        if user is None:
            if account is not None:
                lockout.record_failure(account)
            raise forms.ValidationError(
                _("Customer number, user name or password is wrong."), code="invalid_login"
            )
        lockout.record_success(user)
        self.user = user
        return data

    @staticmethod
    def _account(number: str, login: str) -> User | None:
        """The account these credentials name, if it exists (for the lockout)."""
        if number:
            return User.objects.filter(customer__number=number, login=login.strip()).first()
        return User.objects.filter(username=login, customer__isnull=True).first()
