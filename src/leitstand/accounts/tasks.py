"""Password reset mail, sent by the worker.

Seed 000 VIII: changes to content and data "may only be carried out if the
request has been verified via the customer portal or the e-mail address
registered in the customer account". A reset link is such a change, so it goes
only to an address the customer verified: the verified addresses of the
customer's contact whose address is the user's e-mail. Staff users get it at
their own address, which only the provider's administrators set.

The job runs in the worker, not in the request: looking the user up and
talking to the mail server take time, and a request that took longer for a
real user than for an invented one would tell an attacker which logins exist.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_tasks import task

from leitstand.accounts.models import User
from leitstand.contracts.models import Contact, VerifiedEmail

log = logging.getLogger(__name__)

RESET_MAIL_INTERVAL = timedelta(minutes=5)


def reset_addresses(user: User) -> list[str]:
    """Where a reset link for ``user`` may go (empty: nowhere)."""
    email = (user.email or "").strip().lower()
    if not email:
        return []
    if user.customer_id is None:
        return [email] if user.is_staff else []
    contacts = Contact.objects.filter(
        customer_id=user.customer_id,
        verified_emails__address=email,
        verified_emails__verified_at__isnull=False,
    )
    return sorted(
        set(
            VerifiedEmail.objects.filter(
                contact__in=contacts, verified_at__isnull=False
            ).values_list("address", flat=True)
        )
    )


def mail_language(user: User) -> str:
    """The user's own language, else the customer's, else the site's."""
    customer = user.customer
    return user.language or (customer.language if customer else "") or settings.LANGUAGE_CODE


def find_user(customer_number: str, login: str) -> User | None:
    """The active user these names identify (customer user or staff)."""
    from leitstand.accounts.forms import find_account  # noqa: PLC0415 - forms import views' deps

    user = find_account(customer_number, login)
    if user is None or not user.is_active or not user.has_usable_password():
        return None
    return user


@task()
def send_password_reset(customer_number: str, login: str, base_url: str) -> int:
    """Mail a reset link if the account exists and has a verified address; return mails sent."""
    user = find_user(customer_number, login)
    if user is None:
        return 0
    addresses = reset_addresses(user)
    if not addresses:
        log.info("password reset for user %s: no verified address, nothing sent", user.pk)
        return 0
    # One mail per RESET_MAIL_INTERVAL at most, whoever keeps asking: the form
    # is open to anybody, and must not become a way to flood a customer's mailbox.
    # The conditional UPDATE claims the slot atomically across workers.
    now = timezone.now()
    claimed = (
        User.objects.filter(pk=user.pk)
        .filter(
            Q(password_reset_sent_at__isnull=True)
            | Q(password_reset_sent_at__lte=now - RESET_MAIL_INTERVAL)
            | Q(password_reset_sent_at__gt=now)
        )
        .update(password_reset_sent_at=now)
    )
    if not claimed:
        log.info("password reset for user %s: a link went out recently, nothing sent", user.pk)
        return 0
    path = reverse(
        "accounts:password-reset-confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    with translation.override(mail_language(user)):
        subject = _("Reset your Leitstand password")
        body = render_to_string(
            "accounts/mail/password_reset.txt",
            {
                "user": user,
                "link": base_url + path,
                "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
            },
        )
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, addresses)
    return len(addresses)
