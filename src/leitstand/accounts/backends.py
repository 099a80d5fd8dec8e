"""Authentication of customer users by customer number, login and password."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from leitstand.accounts.models import User


class CustomerLoginBackend(ModelBackend):
    """Seed 000 I: "User ID: customer number; Password: customer password"."""

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        customer_number: str | None = None,
        login: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not customer_number or not login or password is None:
            return None
        try:
            user = User.objects.select_related("customer").get(
                customer__number=customer_number.strip(), login=login.strip()
            )
        except User.DoesNotExist:
            # Run the hasher anyway so that a wrong customer number takes as long
            # as a wrong password and does not reveal which customers exist.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
