"""Lockout after repeated failed logins.

Seed 000 I: the portal is the customer's way in ("User ID: customer number;
Password: customer password"), so guessing passwords there must be slow. After
``MAX_FAILURES`` wrong passwords in a row an account is locked for
``LOCK_MINUTES``; each further failure while locked extends nothing (an attacker
cannot keep a customer out forever by hammering), a success resets the count.
The state is in the database, so every web process sees it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from leitstand.accounts.models import User

log = logging.getLogger("leitstand.security")

MAX_FAILURES = 5
LOCK_MINUTES = 15


def is_locked(user: User) -> bool:
    """True while the account is locked."""
    return user.locked_until is not None and user.locked_until > timezone.now()


def record_failure(user: User) -> None:
    """Count a wrong password; lock the account at the limit."""
    if is_locked(user):
        return
    User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
    user.refresh_from_db(fields=["failed_logins"])
    if user.failed_logins >= MAX_FAILURES:
        User.objects.filter(pk=user.pk).update(
            locked_until=timezone.now() + timedelta(minutes=LOCK_MINUTES), failed_logins=0
        )
        log.warning("user %s locked for %d minutes after failed logins", user.pk, LOCK_MINUTES)


def record_success(user: User) -> None:
    """A correct password clears the count."""
    if user.failed_logins or user.locked_until:
        User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
