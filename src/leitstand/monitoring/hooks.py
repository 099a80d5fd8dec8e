"""Who hears about new check events inside the transaction that stores them.

Issue 5: "the notification row is written in the same transaction as the event
that causes it". Alerting registers :func:`leitstand.alerting.actions.process_event`
here; the engine's store and the passive checks call :func:`emit` right after
storing events. Each hook runs in a savepoint: a hook that fails is logged and
its event left for the hook's own catch-up step, so a bug in one consumer never
stops monitoring from writing results.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.db import transaction

from leitstand.monitoring.models import CheckEvent

log = logging.getLogger("leitstand.monitor")

EventHook = Callable[[CheckEvent], object]
HOOKS: list[EventHook] = []


def on_event(hook: EventHook) -> EventHook:
    """Register ``hook`` for every newly stored event."""
    if hook not in HOOKS:
        HOOKS.append(hook)
    return hook


def emit(events: Iterable[CheckEvent]) -> None:
    """Call every hook for every event, each in its own savepoint."""
    for event in events:
        for hook in HOOKS:
            try:
                with transaction.atomic():
                    hook(event)
            except Exception:
                log.exception(
                    "event hook %s failed for event %s; it catches up later", hook, event.pk
                )
