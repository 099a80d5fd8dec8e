"""The second factor: a TOTP app, and recovery codes for the day the phone is lost.

Issue 8, item 1: "optional and enforceable TOTP second factor". Seed 000 I makes
the portal the customer's way in, so a customer may require a second factor
for all its users (``Customer.enforce_totp``), and the provider for all its
staff (``settings.STAFF_REQUIRE_TOTP``). The devices are django-otp's
``TOTPDevice`` (RFC 6238, 30-second steps, one step of clock drift either way)
and ``StaticDevice`` (single-use recovery codes).

A code is accepted at most once: django-otp remembers the last accepted time
step of a TOTP device and refuses that step and earlier ones again, and a
recovery code is deleted when used. Verification locks the device row so that
two requests carrying the same code at the same moment cannot both pass.
"""

from __future__ import annotations

import re
from typing import Final

import segno
from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_static.models import (
    StaticDevice,
    StaticToken,
)
from django_otp.plugins.otp_totp.models import TOTPDevice

from leitstand.accounts.models import User

RECOVERY_CODES: Final = 10
DEVICE_NAME: Final = "authenticator"
_SPACES = re.compile(r"[\s-]+")


def is_required(user: User) -> bool:
    """True when this user may not work without a second factor."""
    if user.customer_id is None:
        return bool(user.is_staff and settings.STAFF_REQUIRE_TOTP)
    customer = user.customer
    return bool(customer is not None and customer.enforce_totp)


def has_device(user: User) -> bool:
    """True once the user has confirmed a TOTP device."""
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def pending_device(user: User) -> TOTPDevice:
    """The unconfirmed device being enrolled (a new key on the first visit)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// URL as an inline SVG QR code (no external service)."""
    return str(segno.make(device.config_url, error="m").svg_inline(scale=5, border=2))


def secret_for_typing(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for apps without a camera."""
    import base64  # noqa: PLC0415

    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _clean(code: str) -> str:
    return _SPACES.sub("", code or "").lower()


def confirm(device: TOTPDevice, code: str) -> list[str] | None:
    """Activate an enrolled device if ``code`` is valid; return new recovery codes.

    The device is active only after the user proved that the app produces the
    right codes: a mistyped secret would otherwise lock them out at the next login.
    """
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if locked.confirmed or not locked.verify_token(_clean(code)):
            return None
        locked.confirmed = True
        locked.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=locked.user, confirmed=False).delete()
        return new_recovery_codes(locked.user)


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes by ``RECOVERY_CODES`` new ones."""
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=code) for code in codes)
    return codes


def recovery_codes_left(user: User) -> int:
    """How many unused recovery codes the user still has."""
    return int(StaticToken.objects.filter(device__user=user).count())


def verify(user: User, code: str) -> bool:
    """True if ``code`` is a current TOTP code or an unused recovery code of the user."""
    code = _clean(code)
    if not code:
        return False
    with transaction.atomic():
        for device in TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True):
            if code.isdigit() and device.verify_token(code):
                return True
        for static in StaticDevice.objects.select_for_update().filter(user=user, confirmed=True):
            if static.verify_token(code):
                return True
    return False


def remove_all(user: User) -> None:
    """Turn the second factor off: every TOTP device and recovery code goes."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
