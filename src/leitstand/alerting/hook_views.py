"""Views without a login: each request authenticates itself (a signature or a token).

- ``ack``: the signed link in an alarm e-mail. GET only shows the alert and
  a button, because mail scanners and link previews follow links with GET;
  only the POST acknowledges.
- ``inbound``: the Alertmanager and generic JSON webhooks, bearer token per
  source.
- ``twilio_sms``: SMS replies, signed by Twilio.

Bad input answers with a clear page or one line of JSON and the right status,
never a traceback; an inbound payload that cannot be used is kept in
quarantine rather than lost.
"""

from __future__ import annotations

import hmac
import logging
from collections import Counter
from typing import Any
from xml.sax.saxutils import escape

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from leitstand.accounts.models import User
from leitstand.alerting import actions, inbound, sms
from leitstand.alerting.acklinks import LinkExpired, LinkInvalid, public_url, read_token
from leitstand.alerting.models import (
    Alert,
    Channel,
    InboundSource,
    Notification,
    QuarantinedPayload,
    SmsReply,
    hash_token,
)

log = logging.getLogger(__name__)


# -- acknowledgement link -----------------------------------------------------------


def _ack_error(request: HttpRequest, status: int, title: str, text: str) -> HttpResponse:
    response = render(
        request, "alerting/ack_error.html", {"title": title, "text": text}, status=status
    )
    response["Referrer-Policy"] = "no-referrer"
    return response


# The token in the URL is the authentication; a cross-site form cannot know it,
# and a CSRF cookie would only make the link fail in a browser that has none.
@csrf_exempt
@never_cache
def ack(request: HttpRequest, token: str) -> HttpResponse:
    """Show the alert of a signed link (GET); acknowledge it as the link's recipient (POST)."""
    if request.method not in ("GET", "HEAD", "POST"):
        return _ack_error(
            request, 405, _("Not possible"), _("This address only shows and acknowledges alerts.")
        )
    try:
        claim = read_token(token)
    except LinkExpired:
        return _ack_error(
            request,
            403,
            _("This link has expired"),
            _(
                "Acknowledgement links are valid for seven days. Acknowledge the alert "
                "in the back office instead."
            ),
        )
    except LinkInvalid:
        return _ack_error(
            request,
            403,
            _("This link is not valid"),
            _("The link is incomplete or was changed. Open it from the alarm e-mail again."),
        )
    alert = Alert.objects.select_related("asset__customer", "acknowledged_by").filter(
        pk=claim.alert
    )
    found = alert.first()
    user = User.objects.filter(pk=claim.user, is_active=True, is_staff=True).first()
    if found is None or user is None:
        return _ack_error(
            request,
            404,
            _("Alert not found"),
            _("The alert or the person this link was made for no longer exists."),
        )
    done = None
    if request.method == "POST":
        done = actions.acknowledge(found, user, via="link")
        found.refresh_from_db()
    response = render(
        request, "alerting/ack.html", {"alert": found, "recipient": user, "done": done}
    )
    response["Referrer-Policy"] = "no-referrer"
    return response


# -- inbound webhooks ---------------------------------------------------------------


def _json_error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _bearer(request: HttpRequest) -> str:
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _quarantine(
    request: HttpRequest, source: InboundSource | None, body: bytes, size: int, error: str
) -> None:
    QuarantinedPayload.objects.create(
        source=source,
        received_at=timezone.now(),
        path=request.path[:300],
        content_type=request.headers.get("Content-Type", "")[:200],
        remote_addr=str(request.META.get("REMOTE_ADDR", ""))[:64],
        error=error[:500],
        body=body[: inbound.MAX_BODY_BYTES],
        body_size=size,
        truncated=size > inbound.MAX_BODY_BYTES,
    )


@csrf_exempt
def inbound_hook(request: HttpRequest, slug: str) -> HttpResponse:
    """Receive alarms from one inbound source (Alertmanager or generic JSON)."""
    if request.method != "POST":
        response = _json_error(405, "method not allowed: POST the alarms as JSON")
        response["Allow"] = "POST"
        return response
    source = InboundSource.objects.select_related("asset").filter(slug=slug).first()
    token = _bearer(request)
    # Unknown source and wrong token answer alike: the answer must not tell
    # which source names exist.
    if (
        source is None
        or not source.enabled
        or not token
        or not hmac.compare_digest(hash_token(token), source.token_hash)
    ):
        log.warning("inbound alarm refused for %r from %s", slug, request.META.get("REMOTE_ADDR"))
        response = _json_error(401, "not authenticated: send Authorization: Bearer <token>")
        response["WWW-Authenticate"] = 'Bearer realm="leitstand-hooks"'
        return response
    body = request.read(inbound.MAX_BODY_BYTES + 1)
    size = len(body)
    if size > inbound.MAX_BODY_BYTES:
        declared = int(request.headers.get("Content-Length") or 0)
        size = max(size, declared)
        error = f"body: larger than {inbound.MAX_BODY_BYTES} bytes"
        _quarantine(request, source, body, size, error)
        return _json_error(413, error)
    try:
        alerts = inbound.parse(source.kind, body)
    except inbound.PayloadError as error:
        _quarantine(request, source, body, size, str(error))
        return _json_error(400, str(error))
    now = timezone.now()
    outcomes: Counter[str] = Counter()
    try:
        for item in alerts:
            outcomes[actions.receive_external(source, item, now=now)] += 1
    except Exception as error:
        # A bug or a database outage: keep the payload, and let the sender
        # retry (5xx), which Alertmanager does; what was folded in already
        # is idempotent on the retry.
        log.exception("inbound alarms from %s could not be processed", source)
        _quarantine(request, source, body, size, f"internal error: {type(error).__name__}")
        return _json_error(503, "could not be processed now; kept for review, retry later")
    InboundSource.objects.filter(pk=source.pk).update(last_received_at=now)
    return JsonResponse({"received": len(alerts), "outcomes": dict(sorted(outcomes.items()))})


# -- SMS replies --------------------------------------------------------------------


def _twiml(text: str) -> HttpResponse:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Response><Message>{escape(text)}</Message></Response>"
    )
    return HttpResponse(xml, content_type="text/xml; charset=utf-8")


def _twilio_channels(account_sid: str) -> list[tuple[Channel, sms.TwilioAccount]]:
    """Staff channels texting through ``account_sid``, with their parsed account."""
    found = []
    for channel in Channel.objects.filter(
        kind="apprise", user__isnull=False, config__url__istartswith="twilio://"
    ).select_related("user"):
        account = sms.twilio_account(str(channel.config.get("url", "")))
        if account is not None and account.account_sid == account_sid:
            found.append((channel, account))
    return found


@csrf_exempt
def twilio_sms(request: HttpRequest) -> HttpResponse:
    """Acknowledge the alert whose code a notified on-call person texts back."""
    if request.method != "POST":
        response = HttpResponse(_("Only Twilio posts here."), status=405, content_type="text/plain")
        response["Allow"] = "POST"
        return response
    params: dict[str, list[str]] = {k: request.POST.getlist(k) for k in request.POST}
    sender = sms.normalise_number(request.POST.get("From", ""))[:40]
    text = request.POST.get("Body", "")[:1600]
    now = timezone.now()

    def record(outcome: str, **extra: Any) -> None:
        SmsReply.objects.create(
            received_at=now,
            gateway="twilio",
            from_number=sender,
            body=text,
            outcome=outcome,
            **extra,
        )

    channels = _twilio_channels(request.POST.get("AccountSid", ""))
    if not channels:
        record(SmsReply.Outcome.UNKNOWN_ACCOUNT)
        return HttpResponse(_("Unknown account."), status=403, content_type="text/plain")
    signature = request.headers.get("X-Twilio-Signature", "")
    urls = {request.build_absolute_uri(), public_url() + request.get_full_path()}
    tokens = {account.auth_token for _channel, account in channels}
    if not any(sms.valid_signature(tokens, url, params, signature) for url in urls):
        log.warning(
            "SMS reply with a bad Twilio signature from %s", request.META.get("REMOTE_ADDR")
        )
        record(SmsReply.Outcome.BAD_SIGNATURE)
        return HttpResponse(_("Bad signature."), status=403, content_type="text/plain")
    code = sms.alert_code(text)
    if code is None:
        record(SmsReply.Outcome.NO_CODE)
        return _twiml(_("Not acknowledged: reply ACK and the alert's number, e.g. ACK 4711."))
    alert = Alert.objects.filter(pk=code).first()
    if alert is None:
        record(SmsReply.Outcome.UNKNOWN_CODE)
        return _twiml(_("Not acknowledged: there is no alert %(code)s.") % {"code": code})
    notified = set(
        Notification.objects.filter(alert=alert, channel__in=[c for c, _a in channels]).values_list(
            "channel_id", flat=True
        )
    )
    user = next(
        (
            channel.user
            for channel, account in channels
            if channel.pk in notified and sender and sender in account.targets
        ),
        None,
    )
    if user is None:
        record(SmsReply.Outcome.UNKNOWN_NUMBER, alert=alert)
        return _twiml(_("Not acknowledged: this number was not alarmed for that alert."))
    with translation.override(user.language or None), transaction.atomic():
        done = actions.acknowledge(alert, user, now=now, via="sms")
        record(
            SmsReply.Outcome.ACKNOWLEDGED if done else SmsReply.Outcome.ALREADY,
            alert=alert,
            user=user,
        )
        if done:
            return _twiml(_("Alert %(code)s acknowledged. Thank you.") % {"code": code})
        return _twiml(_("Alert %(code)s was already acknowledged or resolved.") % {"code": code})
