"""SMS and chat through Apprise URLs (``sinch://``, ``msteams://``, ``matrix://`` ...).

Seed 001 §3.2: "Alarmierung per E-Mail und/oder SMS". DESIGN.md: Apprise
instead of writing gateway clients. Apprise reports only success or failure,
not why; every failure is therefore a retry, and the outbox gives up after
its retry horizon (24 h) and falls through to the next channel. An invalid
URL is caught when the channel is configured, not at send time.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import apprise as apprise_lib

from leitstand.alerting.channels.base import (
    ConfigError,
    Message,
    SendResult,
    check_keys,
    text,
)
from leitstand.alerting.channels.registry import register

# Apprise logs every failure at WARNING with the full URL, token included;
# the outbox records its own detail, so keep Apprise's log quieter.
logging.getLogger("apprise").setLevel(logging.ERROR)

# SMS gateways bill per 160-character segment (70 once any character needs
# UCS-2); the subject alone says what is wrong, so SMS-like services get it only.
SHORT_SCHEMAS = frozenset({"sinch", "twilio", "clicksend", "msg91", "bulksms", "sms", "vonage"})


@register
@dataclass(frozen=True)
class AppriseChannel:
    """One Apprise URL."""

    kind: ClassVar[str] = "apprise"
    url: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Self:
        check_keys(config, {"url"})
        url = text(config, "url")
        if apprise_lib.Apprise.instantiate(url) is None:
            # Do not echo the URL: it usually carries the gateway's token.
            raise ConfigError("url: not a URL Apprise understands")
        return cls(url)

    def send(self, message: Message) -> SendResult:
        notifier = apprise_lib.Apprise()
        notifier.add(self.url)
        schema = self.url.partition("://")[0].lower()
        short = schema in SHORT_SCHEMAS
        try:
            delivered = notifier.notify(
                body=(message.short or message.subject) if short else message.body,
                title="" if short else message.subject,
            )
        except Exception as error:  # a plugin bug must not kill the worker
            return SendResult.retry(f"{type(error).__name__}: {error}")
        if delivered:
            return SendResult.ok(f"delivered via {schema}")
        return SendResult.retry(f"{schema}: not delivered")
