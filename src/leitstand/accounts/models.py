"""Users: provider staff in the back office, customer users in the portal.

Seed 000 I: "The Customer must use their customer portal login (User ID:
customer number; Password: customer password)." A customer user therefore
logs in with the customer number, a login name and a password, and belongs to
exactly one customer. Staff users belong to none. The two never mix: a
database constraint keeps a customer user from ever being staff.
"""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who logs in: staff (``customer`` is empty) or a customer user."""

    customer = models.ForeignKey(
        "contracts.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    login = models.CharField(
        _("login name"),
        max_length=150,
        blank=True,
        help_text=_("For customer users: the name used together with the customer number."),
    )
    failed_logins = models.PositiveSmallIntegerField(_("failed logins in a row"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    password_reset_sent_at = models.DateTimeField(
        _("last password reset mail"), null=True, blank=True, editable=False
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        choices=[("en", _("English")), ("de", _("German"))],
    )

    objects: ClassVar[UserManager[User]] = UserManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(customer__isnull=True) | Q(is_staff=False, is_superuser=False),
                name="customer_user_is_never_staff",
            ),
            models.UniqueConstraint(
                fields=["customer", "login"],
                condition=Q(customer__isnull=False),
                name="unique_login_per_customer",
            ),
        ]

    @property
    def is_customer_user(self) -> bool:
        """True for a portal user of one customer."""
        return self.customer_id is not None

    def save(self, *args: object, **kwargs: object) -> None:
        """Derive the internal username of a customer user from number and login.

        Django needs one unique username; people never type it. The customer
        number prefix keeps two customers' "admin" logins apart.
        """
        if self.customer_id is not None and self.login:
            number = self.customer.number if self.customer else ""
            self.username = f"{number}:{self.login}"
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class LoginSession(models.Model):
    """One logged-in browser of a user, so the user can see and end it.

    Django's session store cannot be searched by user; this row points to the
    stored session by its key. The store stays the truth: a row whose session
    is gone is stale and is dropped when the list is shown.
    """

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="login_sessions"
    )
    session_key = models.CharField(_("session key"), max_length=40, unique=True)
    started_at = models.DateTimeField(_("started"))
    seen_at = models.DateTimeField(_("last active"))
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("login session")
        verbose_name_plural = _("login sessions")
        ordering = ("-seen_at",)

    def __str__(self) -> str:
        return f"{self.user} {self.started_at:%Y-%m-%d %H:%M}"
