"""What every notification channel is: a kind, a parsed config, and ``send``.

A channel never raises for a failed delivery: it answers with a
:class:`SendResult` whose :class:`Outcome` tells the outbox what to do next.
``RETRY`` is for what may heal by itself (a server down, a timeout, SMTP 4xx,
HTTP 429 or 5xx); ``PERMANENT`` is for what never will (SMTP 5xx, HTTP 4xx):
the outbox then stops retrying and falls through to the owner's next channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Protocol, Self


class ConfigError(ValueError):
    """A channel's stored configuration cannot be used; the message says why."""


class Outcome(StrEnum):
    """How one delivery attempt ended."""

    OK = "ok"
    RETRY = "retry"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class SendResult:
    """The outcome of one attempt and a short, loggable detail."""

    outcome: Outcome
    detail: str = ""

    @classmethod
    def ok(cls, detail: str = "") -> SendResult:
        return cls(Outcome.OK, detail)

    @classmethod
    def retry(cls, detail: str) -> SendResult:
        return cls(Outcome.RETRY, detail)

    @classmethod
    def permanent(cls, detail: str) -> SendResult:
        return cls(Outcome.PERMANENT, detail)


@dataclass(frozen=True)
class Message:
    """One notification as a channel sees it: plain values, no database.

    ``idempotency_key`` is the same on every attempt of one notification, so a
    receiver that remembers it can drop the one duplicate a crash between
    "sent" and "recorded" can cause.
    """

    idempotency_key: str
    kind: str  # alarm, renotify, recovery
    subject: str
    body: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    # The text for SMS-like channels that carry one short line; empty: the subject.
    short: str = ""


class Channel(Protocol):
    """A way to reach a person: one module per kind, registered by decorator."""

    kind: ClassVar[str]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Self:
        """Build the channel from its stored JSON; raise :class:`ConfigError` if unusable."""
        ...

    def send(self, message: Message) -> SendResult:
        """Deliver ``message`` once; never raise for a delivery failure."""
        ...


def text(config: Mapping[str, Any], key: str, *, default: str | None = None) -> str:
    """A required (or defaulted) non-empty string from a channel config."""
    value = config.get(key, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key}: must be a non-empty string")
    return value


def check_keys(config: Mapping[str, Any], allowed: set[str]) -> None:
    """Refuse unknown keys: a typo such as ``secert`` must not silently drop the signature."""
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise ConfigError(
            f"unknown setting {unknown[0]!r}; expected some of: {', '.join(sorted(allowed))}"
        )
