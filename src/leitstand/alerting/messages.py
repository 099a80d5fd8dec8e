"""The words of a notification, in the recipient's language."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from leitstand.alerting.acklinks import ack_url
from leitstand.alerting.channels import Message
from leitstand.alerting.models import Alert, Channel, Notification


def recipient_language(channel: Channel) -> tuple[str, ZoneInfo]:
    """A contact reads the customer's language and zone; staff their own or the site's."""
    if channel.contact is not None:
        customer = channel.contact.customer
        return customer.language, ZoneInfo(customer.timezone)
    language = (channel.user.language if channel.user else "") or settings.LANGUAGE_CODE
    return language, ZoneInfo(settings.TIME_ZONE)


def _clock(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if moment else ""


def payload(alert: Alert, notification: Notification) -> dict[str, Any]:
    """The structured part for machines (webhooks): ids and UTC times, no prose."""
    return {
        "id": alert.pk,
        "asset": alert.asset.name,
        "customer": alert.asset.customer.number,
        "summary": alert.summary,
        "opened_at": alert.opened_at.isoformat(),
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
        "level": notification.level,
    }


def render(notification: Notification) -> Message:
    """Subject and body for one notification, in the recipient's language."""
    alert = notification.alert
    language, zone = recipient_language(notification.channel)
    values = {
        "asset": alert.asset.name,
        "summary": alert.summary,
        "since": _clock(alert.opened_at, zone),
        "resolved": _clock(alert.resolved_at, zone),
    }
    with translation.override(language):
        if notification.kind == Notification.Kind.RECOVERY:
            subject = gettext("RECOVERED: %(asset)s") % values
            body = gettext("%(asset)s is OK again since %(resolved)s.") % values
        elif notification.kind == Notification.Kind.RENOTIFY:
            subject = gettext("STILL A PROBLEM: %(asset)s") % values
            body = gettext("%(summary)s, since %(since)s. Nobody has acknowledged it yet.") % values
        else:
            subject = gettext("PROBLEM: %(asset)s") % values
            body = gettext("%(summary)s, since %(since)s.") % values
        short = subject
        staff = notification.channel.user_id
        if staff is not None and notification.kind != Notification.Kind.RECOVERY:
            # Only staff acknowledge: a customer's contact gets neither link nor code.
            code = {"code": alert.pk}
            body += "\n\n" + gettext("Acknowledge (stops escalation): %(url)s") % {
                "url": ack_url(alert.pk, staff)
            }
            body += "\n" + gettext("Or reply to the SMS with: ACK %(code)s") % code
            # The SMS gets the subject only; the code makes a reply enough to acknowledge.
            short = gettext("%(subject)s - reply ACK %(code)s") % {"subject": subject, **code}
    return Message(
        idempotency_key=notification.idempotency_key,
        kind=notification.kind,
        subject=subject,
        body=body,
        payload=payload(alert, notification),
        short=short,
    )
