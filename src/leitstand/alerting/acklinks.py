"""Signed acknowledgement links for the alarm e-mails to the provider's staff.

Issue 5 item 3: "acknowledgement from the e-mail link". The link carries the
alert and the recipient, signed with the site's secret key
(:mod:`django.core.signing`) and dated, so it works without a login, only for
that alert and person, and only for :data:`MAX_AGE`. Nothing is stored: the
signature is the authentication.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "leitstand.alerting.ack"
# Long enough for a weekend on call, short enough that an old mail in an
# archive is no longer a key.
MAX_AGE = timedelta(days=7)


class LinkExpired(Exception):
    """The signature is right but the link is older than :data:`MAX_AGE`."""


class LinkInvalid(Exception):
    """Forged, tampered with, cut off or not an acknowledgement link at all."""


@dataclass(frozen=True)
class AckClaim:
    """What a valid link says: acknowledge ``alert`` as ``user``."""

    alert: int
    user: int


def make_token(alert_id: int, user_id: int) -> str:
    """The URL-safe, signed, dated token for ``alert_id`` and ``user_id``."""
    return signing.dumps({"a": alert_id, "u": user_id}, salt=SALT)


def read_token(token: str, *, max_age: timedelta = MAX_AGE) -> AckClaim:
    """The claim in ``token``; :class:`LinkExpired` or :class:`LinkInvalid` otherwise."""
    try:
        data: Any = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkExpired from None
    except (signing.BadSignature, ValueError, UnicodeDecodeError):
        raise LinkInvalid from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("a"), int)
        or not isinstance(data.get("u"), int)
    ):
        raise LinkInvalid
    return AckClaim(data["a"], data["u"])


def public_url() -> str:
    """The address staff reach the site at, for links in messages (no trailing slash).

    ``PUBLIC_URL`` in the settings, else ``LEITSTAND_PUBLIC_URL`` from the
    environment; a message cannot use the request's host, it has none.
    """
    url = getattr(settings, "PUBLIC_URL", "") or os.environ.get(
        "LEITSTAND_PUBLIC_URL", "http://localhost:8000"
    )
    return str(url).rstrip("/")


def ack_url(alert_id: int, user_id: int) -> str:
    """The full acknowledgement link for one alert and one staff user."""
    return public_url() + reverse("hooks:ack", args=[make_token(alert_id, user_id)])
