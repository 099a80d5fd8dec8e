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
            raise forms.ValidationError(locked_message(), code="locked")
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
        # The failure count is cleared by the view once the login is complete: with a
        # second factor, a right password alone must not reset the count, or
        # somebody who knows it could guess codes without ever being locked out.
        self.user = user
        return data

    @staticmethod
    def _account(number: str, login: str) -> User | None:
        """The account these credentials name, if it exists (for the lockout)."""
        return find_account(number, login)


def find_account(number: str, login: str) -> User | None:
    """The user that customer number and login name (or a staff user name) name."""
    number, login = (number or "").strip(), (login or "").strip()
    if not login:
        return None
    if number:
        return (
            User.objects.select_related("customer")
            .filter(customer__number=number, login=login)
            .first()
        )
    return User.objects.filter(username=login, customer__isnull=True).first()


def locked_message() -> str:
    """What a locked account is told (the same at every step of the login)."""
    return _("Too many failed logins. Try again in %(minutes)d minutes.") % {
        "minutes": lockout.LOCK_MINUTES
    }


class CodeForm(forms.Form):
    """The second step of a login: a code from the app or a recovery code."""

    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class EnrolForm(forms.Form):
    """Confirm a new authenticator app with the code it shows."""

    code = forms.CharField(
        label=_("Code from the app"),
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class DisableForm(forms.Form):
    """Turning the second factor off takes the password and a current code."""

    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )


class PasswordResetRequestForm(forms.Form):
    """Ask for a reset link: the same fields as the login, without the password."""

    customer_number = forms.CharField(
        label=_("Customer number"),
        required=False,
        max_length=20,
        help_text=_("Leave empty if you work for the provider."),
    )
    login = forms.CharField(label=_("User name"), max_length=150)
