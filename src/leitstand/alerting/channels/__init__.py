"""Notification channels, one module per kind.

Seed 001 §3.2 promises "Alarmierung per E-Mail und/oder SMS"; DESIGN.md adds
chat through Apprise and signed webhooks. Importing this package registers
every kind; use ``registry.build(kind, config)``.
"""

from __future__ import annotations

# Imported to register their kinds.
import leitstand.alerting.channels.apprise
import leitstand.alerting.channels.email
import leitstand.alerting.channels.webhook  # noqa: F401
from leitstand.alerting.channels.base import (
    Channel,
    ConfigError,
    Message,
    Outcome,
    SendResult,
)
from leitstand.alerting.channels.registry import build, get, kinds, register

__all__ = [
    "Channel",
    "ConfigError",
    "Message",
    "Outcome",
    "SendResult",
    "build",
    "get",
    "kinds",
    "register",
]
