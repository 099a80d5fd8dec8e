"""SMS replies through Twilio: check the request is Twilio's, find who answered to what.

Issue 5 item 3: acknowledgement "from [...] an SMS reply where the gateway
supports it". Twilio posts every SMS to the number as a form to our hook and
signs it (``X-Twilio-Signature``): HMAC-SHA1 with the account's auth token
over the full URL followed by every POST parameter, sorted by name, as name
and value run together, base64-encoded. The auth token is the one already
configured in the staff member's Twilio channel (its Apprise URL
``twilio://AccountSID:AuthToken@From/To``), so there is no second place to
keep it in step.

Pure functions here; the view is in :mod:`leitstand.alerting.hook_views`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from apprise.plugins.twilio import NotifyTwilio

# "ACK 4711", "ack #4711", "4711 ok": the first number in the text is the code.
CODE = re.compile(r"(?<!\d)(\d{1,12})(?!\d)")


def twilio_signature(auth_token: str, url: str, params: Mapping[str, Sequence[str]]) -> str:
    """The signature Twilio sends for a POST of ``params`` to ``url``."""
    data = url + "".join(name + value for name in sorted(params) for value in params[name])
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _url_variants(url: str) -> list[str]:
    """The URL as received, and with the default port added or removed.

    Twilio signs the URL as it was configured; a proxy in front of the site
    may add or drop ``:443``, which Twilio's own validators allow for too.
    """
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    variants = [url]
    if default is not None:
        if parts.port is None:
            variants.append(urlunsplit(parts._replace(netloc=f"{host}:{default}")))
        elif parts.port == default:
            variants.append(urlunsplit(parts._replace(netloc=host)))
    return variants


def valid_signature(
    auth_tokens: Iterable[str], url: str, params: Mapping[str, Sequence[str]], signature: str
) -> bool:
    """Whether ``signature`` was made with one of ``auth_tokens`` (constant-time compare)."""
    if not signature:
        return False
    return any(
        hmac.compare_digest(twilio_signature(token, variant, params), signature)
        for token in auth_tokens
        for variant in _url_variants(url)
    )


def normalise_number(number: str) -> str:
    """``+49 151 123-456`` and ``0049151123456`` alike: ``+49151123456``."""
    digits = re.sub(r"[^\d+]", "", number.strip())
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    return digits


@dataclass(frozen=True)
class TwilioAccount:
    """What a Twilio Apprise URL says: the account, its token, and the numbers it texts."""

    account_sid: str
    auth_token: str
    targets: frozenset[str]


def twilio_account(apprise_url: str) -> TwilioAccount | None:
    """The Twilio account in an Apprise URL, or None if it is not a Twilio URL."""
    if not apprise_url.lower().startswith("twilio://"):
        return None
    parsed = NotifyTwilio.parse_url(apprise_url)  # type: ignore[no-untyped-call]
    if not parsed or not parsed.get("account_sid") or not parsed.get("auth_token"):
        return None
    return TwilioAccount(
        str(parsed["account_sid"]),
        str(parsed["auth_token"]),
        frozenset(normalise_number(str(t)) for t in parsed.get("targets") or []),
    )


def alert_code(text: str) -> int | None:
    """The alert code in a reply, or None."""
    match = CODE.search(text)
    return int(match.group(1)) if match else None
